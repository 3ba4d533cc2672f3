package pdf

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/boombuler/barcode"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// InvoiceOptions vary the printed proof.
type InvoiceOptions struct {
	// Void, when set, marks the proof 作廢 with the void's reason and time.
	Void *VoidMark
	// Reprint marks a reprinted B2C proof 補印 (it cannot claim lottery prizes).
	Reprint bool
	// Thermal prints the proof in the MOF's 5.7 × 9 cm format (receipt
	// printers), the items on a second page of the same width.
	Thermal bool
}

// VoidMark is what a void notice prints.
type VoidMark struct {
	Reason string
	At     time.Time
	// Approval and ApprovedOn are a special void's (專案作廢): the tax
	// office's approval reference and its day; empty on a normal void.
	Approval, ApprovedOn string
}

// approvalLine is the line that names a special void's approval.
func (v VoidMark) approvalLine() string {
	if v.Approval == "" {
		return ""
	}
	return "專案作廢核准文號：" + v.Approval + "，核准日期 " + v.ApprovedOn
}

// Kinds of invoice, as in domain.InvoiceIssued.Kind.
const (
	KindB2B = "b2b"
	KindB2C = "b2c"
)

// Barcode geometry on the proof (mm); the tests crop the rendered page here.
const (
	code39Y      = 66.0
	code39H      = 12.0
	code39Module = 0.33
	qrY          = 86.0
	qrSize       = 34.0
	qrGap        = 10.0
	qrLeftX      = pageW/2 - qrGap/2 - qrSize
	qrRightX     = pageW/2 + qrGap/2
)

// ErrNoQRKey means invoices were requested from a Renderer without a QR key.
var ErrNoQRKey = errors.New("pdf: invoices need Config.QRKeyHex (the issuer's AES key)")

// proofOf maps the event to what the barcodes encode.
func proofOf(inv domain.InvoiceIssued, seller Seller) twrules.Proof {
	p := twrules.Proof{
		Number: inv.Number, IssuedAt: inv.IssuedAt, RandomCode: inv.RandomCode,
		Sales: inv.Sales, Total: inv.Total, SellerTaxID: seller.TaxID,
	}
	if inv.Kind == KindB2B {
		p.BuyerTaxID = inv.BuyerTaxID
	}
	for _, l := range inv.Lines {
		p.Items = append(p.Items, twrules.QRItem{Name: l.Description, Quantity: l.Quantity, UnitPrice: l.UnitPrice})
	}
	return p
}

func checkInvoice(inv domain.InvoiceIssued, seller Seller) error {
	var errs []error
	if _, err := twrules.ParseInvoiceNumber(inv.Number); err != nil {
		errs = append(errs, err)
	}
	if inv.Kind != KindB2B && inv.Kind != KindB2C {
		errs = append(errs, fmt.Errorf("pdf: invoice kind %q: want b2b or b2c", inv.Kind))
	}
	if inv.Kind == KindB2B && !domain.ValidTaxID(inv.BuyerTaxID) {
		errs = append(errs, fmt.Errorf("pdf: buyer 統一編號 %q fails its checksum", inv.BuyerTaxID))
	}
	if !domain.ValidTaxID(seller.TaxID) {
		errs = append(errs, fmt.Errorf("pdf: seller 統一編號 %q fails its checksum", seller.TaxID))
	}
	if inv.Sales+inv.Tax != inv.Total || inv.Total <= 0 {
		errs = append(errs, fmt.Errorf("pdf: sales %d + tax %d ≠ total %d (or not positive)", inv.Sales, inv.Tax, inv.Total))
	}
	if p := twrules.PeriodOf(inv.IssuedAt).String(); inv.Period != "" && inv.Period != p {
		errs = append(errs, fmt.Errorf("pdf: invoice period %s, but issued in period %s", inv.Period, p))
	}
	if len(inv.Lines) == 0 {
		errs = append(errs, errors.New("pdf: invoice has no lines"))
	}
	return errors.Join(errs...)
}

// RenderInvoice writes the A4 電子發票證明聯 of inv: header with period,
// number, random code and totals, the Code 39 and the two QR codes per the
// MOF barcode spec, then the buyer, seller, items and totals (B2B: 銷售額,
// 稅額, 總計; B2C: the tax-inclusive 總計). The seller is the one in the
// event; seller is used only for events issued before it was recorded.
func (r *Renderer) RenderInvoice(w io.Writer, inv domain.InvoiceIssued, seller Seller, opts InvoiceOptions) error {
	if r.qrKey == nil {
		return ErrNoQRKey
	}
	seller = sellerOf(inv, seller)
	if err := checkInvoice(inv, seller); err != nil {
		return err
	}
	texts := []string{seller.Name, seller.Address, seller.Phone, inv.BuyerName, inv.Carrier, twrules.UpperNTD(inv.Total),
		twrules.PeriodOf(inv.IssuedAt).Label()}
	for _, l := range inv.Lines {
		texts = append(texts, l.Description, l.Unit)
	}
	if opts.Void != nil {
		// A reason recorded before it was checked against the font prints
		// with □ for what the font lacks.
		v := *opts.Void
		v.Reason, v.Approval = r.font.printable(v.Reason), r.font.printable(v.Approval)
		opts.Void = &v
		texts = append(texts, v.Reason, v.Approval)
	}
	var c codes
	if Printed(inv) || opts.Reprint {
		proof := proofOf(inv, seller)
		left, right, err := proof.QRContents(r.qrKey, r.budget)
		if err != nil {
			return err
		}
		if c.left, err = encodeQR(left, minLeftQRModules); err != nil {
			return err
		}
		if c.right, err = encodeQR(right, 0); err != nil {
			return err
		}
		if c.bars, err = encodeCode39(proof.Code39()); err != nil {
			return err
		}
	}
	number := twrules.PrintedNumber(inv.Number)
	docTitle := "電子發票證明聯 " + number
	if c.bars == nil {
		docTitle = "電子發票開立通知 " + number
	}
	if opts.Thermal && c.bars != nil {
		return r.renderOn(thermalPage, w, invoiceVariant(inv, opts)+"/thermal", docTitle, inv.IssuedAt, texts, func(d doc) error {
			drawThermal(d, inv, seller, opts, c)
			return nil
		})
	}
	return r.render(w, invoiceVariant(inv, opts), docTitle, inv.IssuedAt, texts, func(d doc) error {
		drawInvoice(d, inv, seller, opts, c)
		return nil
	})
}

// Printed reports whether an invoice gets a printed proof (電子發票證明聯,
// with its barcodes): B2B always, B2C only when it went to neither a
// carrier nor a donation (MIG 4.1 PrintMark Y). Otherwise the PDF is a
// notice of the invoice without barcodes, which cannot claim a prize; a
// reprint (補印, which cannot claim one either) prints the proof.
func Printed(inv domain.InvoiceIssued) bool {
	return inv.Kind == KindB2B || inv.Carrier == "" && inv.DonationCode == ""
}

// codes are a proof's encoded barcodes.
type codes struct {
	bars        barcode.Barcode
	left, right *qrMatrix
}

func drawInvoice(d doc, inv domain.InvoiceIssued, seller Seller, opts InvoiceOptions, c codes) {
	number := twrules.PrintedNumber(inv.Number)
	period := twrules.PeriodOf(inv.IssuedAt)
	// Proof block, laid out like the MOF sample.
	d.fit(margin, 15, contentW, 7, 13, seller.Name, "C")
	title := "電子發票證明聯"
	if opts.Reprint {
		title += "（補印）"
	}
	printed := c.bars != nil
	if !printed {
		title = "電子發票開立通知"
	}
	d.strong(margin, 23, contentW, 10, 20, title, "C")
	d.strong(margin, 34, contentW, 8, 16, period.Label(), "C")
	d.strong(margin, 42, contentW, 9, 19, number, "C")
	row := func(y float64, l, rt string) {
		d.cell(50, y, 55, 5.5, 10.5, l, "L", "")
		d.cell(105, y, 55, 5.5, 10.5, rt, "R", "")
	}
	format := ""
	if inv.Kind == KindB2B {
		format = "格式 25"
	}
	row(52, inv.IssuedAt.In(twrules.Taipei).Format("2006-01-02 15:04:05"), format)
	row(57, "隨機碼 "+inv.RandomCode, "總計 "+ntd(inv.Total))
	buyer := ""
	if inv.Kind == KindB2B {
		buyer = "買方 " + inv.BuyerTaxID
	}
	row(62, "賣方 "+seller.TaxID, buyer)
	y := qrY + qrSize + 6
	if printed {
		barW := float64(c.bars.Bounds().Dx()) * code39Module
		d.drawBars(c.bars, (pageW-barW)/2, code39Y+1, code39Module, code39H-2)
		d.drawQR(c.left, qrLeftX, qrY, qrSize)
		d.drawQR(c.right, qrRightX, qrY, qrSize)
	} else {
		why := "本發票已存入載具 " + inv.Carrier + "，依規定不列印證明聯；中獎由財政部主動通知。"
		if inv.DonationCode != "" {
			why = "本發票已捐贈（愛心碼 " + inv.DonationCode + "），依規定不列印證明聯。"
		}
		d.cell(margin, code39Y+2, contentW, 6, 11, why, "C", "")
		y = code39Y + 12
	}
	if opts.Void != nil {
		y = drawVoid(d, y, "本發票已作廢", *opts.Void)
	}
	d.SetDrawColor(150, 150, 150)
	d.Line(margin, y, pageW-margin, y)
	d.SetDrawColor(0, 0, 0)
	y += 3
	d.strong(margin, y, contentW, 7, 13, "交易明細", "L")
	y += 8
	if inv.Kind == KindB2B {
		y = d.para(margin, y, contentW, 5.5, 10.5, "買受人："+inv.BuyerName+"　統一編號："+inv.BuyerTaxID) + 0.5
	} else {
		switch {
		case inv.DonationCode != "":
			d.cell(margin, y, contentW, 5.5, 10.5, "捐贈碼："+inv.DonationCode, "L", "")
			y += 6
		case inv.Carrier != "":
			d.cell(margin, y, contentW, 5.5, 10.5, "載具："+inv.Carrier, "L", "")
			y += 6
		}
	}
	sellerLine := "賣方：" + seller.Name + "　統一編號：" + seller.TaxID
	y = d.para(margin, y, contentW, 5.5, 10.5, sellerLine) + 0.5
	if seller.Address != "" || seller.Phone != "" {
		y = d.para(margin, y, contentW, 5.5, 10.5, "地址："+seller.Address+"　電話："+seller.Phone) + 0.5
	}
	switch {
	case inv.Month != "":
		d.cell(margin, y, contentW, 5.5, 10.5, "計費月份："+inv.Month, "L", "")
		y += 6
	case inv.TopUpRef != "":
		// Every top-up the invoice bills, so each payment can be matched to
		// it (TopUps is empty on invoices from before it was recorded).
		refs := inv.TopUps
		if len(refs) == 0 {
			refs = []string{inv.TopUpRef}
		}
		y = d.para(margin, y, contentW, 5.5, 10.5, "儲值參考編號："+strings.Join(refs, "、")) + 0.5
	}
	if l := reissueLine(inv); l != "" {
		y = d.para(margin, y, contentW, 5.5, 10.5, l) + 0.5
	}
	priceNote := "單價、金額未稅"
	if inv.Kind == KindB2C {
		priceNote = "單價、金額含稅"
	}
	rows := make([][]string, len(inv.Lines))
	for i, l := range inv.Lines {
		rows[i] = []string{l.Description, num(l.Quantity), l.Unit, money(l.UnitPrice), money(l.Amount)}
	}
	y = d.table(margin, y+2, []column{
		{"品名", 74, "L"}, {"數量", 22, "R"}, {"單位", 24, "C"}, {"單價", 30, "R"}, {"金額", 30, "R"},
	}, rows, 10)
	// The totals (at most three lines) and the amount in words stand together.
	y = totalsBlock(d, d.room(y+2, 3*6+2+6), inv)
	d.cell(margin, y, contentW, 6, 10.5, "總計新臺幣（大寫）："+twrules.UpperNTD(inv.Total), "L", "")
	y += 8
	note := "備註：" + priceNote + "。本證明聯依財政部電子發票證明聯一維及二維條碼規格列印；發票內容以財政部電子發票整合服務平台存證資料為準。"
	if !printed {
		note = "備註：" + priceNote + "。本通知僅供查閱，不得兌獎；發票內容以財政部電子發票整合服務平台存證資料為準。"
	}
	d.para(margin, y, contentW, 5, 9, note)
}

// reissueLine is the remark of a re-issue (重開): the voided invoices it
// replaces and, when their voids took an amount off it (Less, agreed with
// the buyer at the void), that amount, so that its lower total explains
// itself. Empty on other invoices. The proof prints it; the F0401 does
// not carry it (docs/invoicing-ledger.md, "Allowances").
func reissueLine(inv domain.InvoiceIssued) string {
	if len(inv.Replaces) == 0 {
		return ""
	}
	printed := make([]string, len(inv.Replaces))
	for i, n := range inv.Replaces {
		printed[i] = twrules.PrintedNumber(n)
	}
	l := "重開：本發票取代已作廢之發票 " + strings.Join(printed, "、")
	if inv.Less > 0 {
		l += "，減收 NT$" + ntd(inv.Less) + "（作廢時約定，已自總計扣除）"
	}
	return l
}

// InvoiceLayout names the revision of the A4 layout that inv's proof has
// where it changed since proofs were first cached: "" for every other
// proof. A cache names its documents by it, so that a proof kept from an
// earlier layout is rendered again and no other one is.
func InvoiceLayout(inv domain.InvoiceIssued) string {
	if len(inv.Replaces) > 0 && inv.Less > 0 {
		return "reissue-less" // the 重開 remark names the amount off
	}
	return ""
}

// invoiceVariant names the layout variant of a proof: proofs of one variant
// share their labels (see Renderer.render).
func invoiceVariant(inv domain.InvoiceIssued, opts InvoiceOptions) string {
	v := "invoice/" + inv.Kind
	switch {
	case inv.Kind == KindB2C && inv.DonationCode != "":
		v += "/donated"
	case inv.Kind == KindB2C && inv.Carrier != "":
		v += "/carrier"
	}
	switch {
	case inv.Month != "":
		v += "/monthly"
	case inv.TopUpRef != "":
		v += "/topup"
	}
	if len(inv.Replaces) > 0 {
		v += "/reissue"
		if inv.Less > 0 {
			v += "/less"
		}
	}
	if opts.Void != nil {
		v += "/void"
	}
	if opts.Reprint {
		v += "/reprint"
	}
	return v
}

// totalsBlock prints the amounts under the item table, right-aligned.
func totalsBlock(d doc, y float64, inv domain.InvoiceIssued) float64 {
	line := func(label, value string) {
		d.cell(pageW-margin-90, y, 55, 6, 10.5, label, "R", "")
		d.cell(pageW-margin-35, y, 35, 6, 10.5, value, "R", "")
		y += 6
	}
	if inv.Kind == KindB2B {
		line("銷售額合計", ntd(inv.Sales))
		line("營業稅（5%）", ntd(inv.Tax))
		line("總計", ntd(inv.Total))
	} else {
		line("總計（含稅）", ntd(inv.Total))
	}
	return y + 2
}

// drawVoid prints the void notice and a large translucent 作廢 across the
// page, so a voided proof cannot pass for a valid one.
func drawVoid(d doc, y float64, heading string, v VoidMark) float64 {
	d.SetTextColor(200, 0, 0)
	d.SetDrawColor(200, 0, 0)
	defer d.SetDrawColor(0, 0, 0)
	at := ""
	if !v.At.IsZero() {
		at = "，作廢日期 " + v.At.In(twrules.Taipei).Format("2006-01-02 15:04:05")
	}
	d.strong(margin, y, contentW, 7, 13, heading+at, "C")
	y += 7
	if v.Reason != "" {
		d.cell(margin, y, contentW, 6, 10.5, "作廢原因："+v.Reason, "C", "")
		y += 7
	}
	if l := v.approvalLine(); l != "" {
		d.cell(margin, y, contentW, 6, 10.5, l, "C", "")
		y += 7
	}
	d.mark("作廢", 0.25, 185) // below the barcodes: a tint over a QR code could stop it scanning
	d.SetTextColor(0, 0, 0)
	return y
}
