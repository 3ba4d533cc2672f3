package pdf

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

func checkQuote(q domain.QuoteIssued, seller Seller) error {
	var errs []error
	if q.Subtotal+q.Tax != q.Total || q.Total <= 0 {
		errs = append(errs, fmt.Errorf("pdf: quote %s: subtotal %d + tax %d ≠ total %d (or not positive)", q.QuoteID, q.Subtotal, q.Tax, q.Total))
	}
	if len(q.Items) == 0 {
		errs = append(errs, fmt.Errorf("pdf: quote %s has no items", q.QuoteID))
	}
	if q.AgencyTaxID != "" && !domain.ValidTaxID(q.AgencyTaxID) {
		errs = append(errs, fmt.Errorf("pdf: agency 統一編號 %q fails its checksum", q.AgencyTaxID))
	}
	// An agency's accountant rejects a quote without the vendor's 統編,
	// address and responsible person.
	if !domain.ValidTaxID(seller.TaxID) || seller.Address == "" || seller.Responsible == "" {
		errs = append(errs, errors.New("pdf: quotes need the seller's valid 統一編號, address and 負責人"))
	}
	return errors.Join(errs...)
}

func quoteTexts(q domain.QuoteIssued, seller Seller) []string {
	t := []string{seller.Name, seller.Address, seller.Contact, seller.Responsible, seller.Phone, seller.Email,
		seller.BankAccount, q.Agency, q.AgencyAddr, q.Contact, q.Remarks, q.QuoteID, planName(q.ContractPlan),
		twrules.UpperNTDPhrase(q.Total), pageLabels, q.ReplaceReason}
	for _, it := range q.Items {
		t = append(t, it.Name, it.Spec, it.Unit)
	}
	return t
}

// RenderQuote writes a government-style 報價單 (A4): the vendor block with
// 統一編號, address, contact and 負責人, the quote number, ROC date and
// validity, the item table, 小計 / 營業稅 / 總計（含稅）, the total in capital
// numerals, remarks, and boxes for the company seal and the responsible
// person's seal. Item amounts are quantity × net unit price.
func (r *Renderer) RenderQuote(w io.Writer, q domain.QuoteIssued, seller Seller) error {
	return r.RenderQuoteWith(w, q, seller, QuoteOptions{})
}

// QuoteOptions vary the printed quote.
type QuoteOptions struct {
	// Withdrawn, when set, marks the quote as taken back, so that a copy
	// of it cannot pass for an offer still open.
	Withdrawn *QuoteWithdrawal
}

// QuoteWithdrawal is what a withdrawn quote's notice prints.
type QuoteWithdrawal struct {
	At         time.Time
	Reason     string
	ReplacedBy string // the quote issued in its place, if any
}

// RenderQuoteWith is RenderQuote with opts.
func (r *Renderer) RenderQuoteWith(w io.Writer, q domain.QuoteIssued, seller Seller, opts QuoteOptions) error {
	if err := checkQuote(q, seller); err != nil {
		return err
	}
	texts := quoteTexts(q, seller)
	if wd := opts.Withdrawn; wd != nil {
		texts = append(texts, wd.Reason, wd.ReplacedBy)
	}
	return r.render(w, "quote", "報價單 "+q.QuoteID, q.IssuedAt, texts, func(d doc) error {
		drawQuote(d, q, seller, opts)
		return nil
	})
}

func drawQuote(d doc, q domain.QuoteIssued, seller Seller, opts QuoteOptions) {
	pageNumbers(d, "報價單號 "+q.QuoteID)
	y := vendorHeader(d, seller)
	d.strong(margin, y, contentW, 11, 20, "報　價　單", "C")
	y += 14
	if wd := opts.Withdrawn; wd != nil {
		y = drawWithdrawn(d, y, *wd) + 2
	}
	if q.Replaces != "" {
		d.cell(margin, y, contentW, 6, 10.5, "本報價單取代 "+q.Replaces+"（原報價單已撤回，不再有效）", "C", "")
		y += 6
		if q.ReplaceReason != "" {
			for _, l := range d.lines("取代原因："+q.ReplaceReason, contentW, 10.5) {
				d.cell(margin, y, contentW, 6, 10.5, l, "C", "")
				y += 6
			}
		}
		y += 2
	}

	validity := "自報價日起" + strconv.Itoa(q.ValidDays) + "日內有效（至" +
		twrules.ROCDateLabel(q.IssuedAt.AddDate(0, 0, q.ValidDays)) + "止）"
	meta := [][2][2]string{
		{{"客戶名稱", q.Agency}, {"報價單號", q.QuoteID}},
		{{"客戶統一編號", q.AgencyTaxID}, {"報價日期", twrules.ROCDateLabel(q.IssuedAt)}},
		{{"客戶地址", q.AgencyAddr}, {"報價有效期限", validity}},
		{{"承辦人", q.Contact}, {"方案", planName(q.ContractPlan)}},
	}
	half := contentW / 2
	for _, row := range meta {
		var wrapped [2][]string
		for i, kv := range row {
			wrapped[i] = d.lines(kv[1], half-28, 9.5)
		}
		h := float64(max(len(wrapped[0]), len(wrapped[1])))*5 + 2
		for i, kv := range row {
			x := margin + float64(i)*half
			d.SetFillColor(245, 245, 245)
			d.Rect(x, y, 26, h, "FD")
			d.Rect(x+26, y, half-26, h, "D")
			d.cell(x, y, 26, h, 9.5, kv[0], "C", "")
			for li, l := range wrapped[i] {
				d.cell(x+27, y+1+float64(li)*5, half-28, 5, 9.5, l, "L", "")
			}
		}
		y += h
	}
	y += 4

	rows := make([][]string, len(q.Items))
	for i, it := range q.Items {
		amount := it.Quantity.Mul(it.UnitPrice)
		rows[i] = []string{strconv.Itoa(i + 1), it.Name, it.Spec, num(it.Quantity), it.Unit, exact(it.UnitPrice), exact(amount)}
	}
	y = d.table(margin, y, []column{
		{"項次", 11, "C"}, {"品名", 40, "L"}, {"規格", 41, "L"}, {"數量", 16, "R"},
		{"單位", 26, "C"}, {"單價", 23, "R"}, {"金額", 23, "R"},
	}, rows, 9.5)
	y = d.room(y+2, 3*6+2+7) // the totals and the amount in words, together
	for _, l := range [][2]string{{"小計", ntd(q.Subtotal)}, {"營業稅（5%）", ntd(q.Tax)}, {"總計（含稅）", ntd(q.Total)}} {
		d.cell(pageW-margin-90, y, 55, 6, 10.5, l[0], "R", "")
		d.cell(pageW-margin-35, y, 35, 6, 10.5, l[1], "R", "")
		y += 6
	}
	y += 2
	d.strong(margin, y, contentW, 7, 12, "總價："+twrules.UpperNTDPhrase(q.Total)+"（含稅）", "L")
	y += 10

	remarks := "備註：\n1. 本報價單金額以新臺幣計價，含5%營業稅。\n"
	if q.AgencyTaxID != "" {
		remarks += "2. 發票：開立電子發票（三聯式，買受人統一編號 " + q.AgencyTaxID + "）。\n"
	} else {
		remarks += "2. 發票：開立電子發票。\n"
	}
	remarks += "3. 計費資料存放於中華民國境內，不保存使用者傳送之訊息內容。\n"
	if q.Remarks != "" {
		remarks += "4. " + q.Remarks + "\n"
	}
	y = d.para(margin, y, contentW, 5.5, 10, remarks)
	sealBlock(d, y+4, seller)
}

// planName labels a plan name given as text (QuoteIssued.ContractPlan).
func planName(s string) string {
	if p := domain.Plan(s); p.Valid() {
		return planLabel(p)
	}
	return s
}

// vendorHeader prints the seller's identity at the top of quotes and
// contracts and returns the y below it.
func vendorHeader(d doc, s Seller) float64 {
	y := 14.0
	for _, l := range d.lines(s.Name, contentW, 16) {
		d.strong(margin, y, contentW, 8, 16, l, "C")
		y += 8
	}
	y++
	contact := "電話：" + s.Phone
	if s.Email != "" {
		contact += "　電子郵件：" + s.Email
	}
	if s.Contact != "" {
		contact += "　聯絡人：" + s.Contact
	}
	for _, l := range append(d.lines("統一編號："+s.TaxID+"　負責人："+s.Responsible+"　地址："+s.Address, contentW, 9.5),
		d.lines(contact, contentW, 9.5)...) {
		d.cell(margin, y, contentW, 5, 9.5, l, "C", "")
		y += 5
	}
	y += 2
	d.SetLineWidth(0.4)
	d.Line(margin, y, pageW-margin, y)
	d.SetLineWidth(0.2)
	return y + 4
}

// sealBlock draws the company seal box (公司大章, 45 mm) and the responsible
// person's seal box (負責人小章, 22 mm), moving to a new page if needed.
func sealBlock(d doc, y float64, s Seller) {
	_, pageH := d.GetPageSize()
	if y+60 > pageH-margin {
		d.AddPage()
		y = margin
	}
	below := d.para(margin, y, 90, 6, 10, "報價廠商："+s.Name)
	d.para(margin, below, 90, 6, 10, "負責人："+s.Responsible)
	x := pageW - margin - 45 - 8 - 22
	d.cell(x, y, 45, 6, 9.5, "公司印鑑", "C", "")
	d.Rect(x, y+7, 45, 45, "D")
	d.cell(x+45+8, y, 22, 6, 9.5, "負責人印鑑", "C", "")
	d.Rect(x+45+8, y+7, 22, 22, "D")
}

// pageLabels are the characters of the page footer, given with a
// document's texts and counted as drawn: the last page's footer is drawn
// when the document is written, after the font's subset is chosen.
const pageLabels = "報價單號契約編號第頁共／　"

// pageNumbers prints at the foot of every page what the document is and
// "第 N 頁／共 M 頁", so that a loose page of a long quote can be put back.
func pageNumbers(d doc, what string) {
	d.text(what + pageLabels) // counted now: the last footer is drawn after the count
	d.AliasNbPages("{nb}")
	d.SetFooterFunc(func() {
		_, pageH := d.GetPageSize()
		d.cell(margin, pageH-margin+4, contentW, 5, 8, what+"　第 "+strconv.Itoa(d.PageNo())+" 頁／共 {nb} 頁", "C", "")
	})
}

// drawWithdrawn prints the withdrawal notice under the title and a large
// translucent 撤回 across the page, as a voided invoice is marked 作廢.
func drawWithdrawn(d doc, y float64, wd QuoteWithdrawal) float64 {
	d.SetTextColor(200, 0, 0)
	d.SetDrawColor(200, 0, 0)
	defer d.SetTextColor(0, 0, 0)
	defer d.SetDrawColor(0, 0, 0)
	day := wd.At.In(twrules.Taipei).Format("2006-01-02")
	heading := "本報價單已於 " + day + " 撤回，不得據以簽約"
	if wd.ReplacedBy != "" {
		heading = "本報價單已於 " + day + " 撤回，已由 " + wd.ReplacedBy + " 取代"
	}
	d.strong(margin, y, contentW, 7, 13, heading, "C")
	y += 7
	if wd.Reason != "" {
		for _, l := range d.lines("撤回原因："+wd.Reason, contentW, 10.5) {
			d.cell(margin, y, contentW, 6, 10.5, l, "C", "")
			y += 6
		}
		y++
	}
	d.mark("撤回", 0.2, 150)
	return y
}
