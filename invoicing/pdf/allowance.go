package pdf

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// RenderAllowance writes the 折讓證明單 of allowance a, issued at issuedAt
// against invoice inv: both parties, the original invoice, the allowed
// sales and tax, the total in capital numerals and a box for the buyer's
// seal.
func (r *Renderer) RenderAllowance(w io.Writer, a domain.AllowanceIssued, issuedAt time.Time, inv domain.InvoiceIssued, seller Seller) error {
	return r.renderAllowance(w, a, issuedAt, inv, seller, nil)
}

// RenderVoidedAllowance writes the 折讓證明單 of an allowance that was
// voided (作廢), marked so that it cannot pass for a valid one: a notice
// with the void's date and reason under the title and a large 作廢 across
// the page.
func (r *Renderer) RenderVoidedAllowance(w io.Writer, a domain.AllowanceIssued, issuedAt time.Time, inv domain.InvoiceIssued, seller Seller, v VoidMark) error {
	return r.renderAllowance(w, a, issuedAt, inv, seller, &v)
}

func (r *Renderer) renderAllowance(w io.Writer, a domain.AllowanceIssued, issuedAt time.Time, inv domain.InvoiceIssued, seller Seller, void *VoidMark) error {
	if a.InvoiceNumber != inv.Number {
		return fmt.Errorf("pdf: allowance %s is against %s, not %s", a.Number, a.InvoiceNumber, inv.Number)
	}
	// The last allowance of an invoice may take only the tax left (0 + 1
	// after 10 + 0 on an invoice of 10 + 1): its sales may be zero.
	if a.Sales < 0 || a.Tax < 0 || a.Sales+a.Tax <= 0 || a.Sales+a.Tax > inv.Total {
		return errors.New("pdf: allowance amounts must be positive and within the invoice total")
	}
	seller = sellerOf(inv, seller)
	// Reasons recorded before they were checked against the font print
	// with □ for what it lacks.
	a.Reason = r.font.printable(a.Reason)
	texts := []string{seller.Name, seller.Address, inv.BuyerName, a.Reason, a.Number, twrules.UpperNTD(a.Sales + a.Tax)}
	kind := "allowance"
	if void != nil {
		v := *void
		v.Reason = r.font.printable(v.Reason)
		void = &v
		kind += "/void"
		texts = append(texts, void.Reason)
	}
	return r.render(w, kind, "折讓證明單 "+a.Number, issuedAt, texts, func(d doc) error {
		drawAllowance(d, a, issuedAt, inv, seller, void)
		return nil
	})
}

func drawAllowance(d doc, a domain.AllowanceIssued, issuedAt time.Time, inv domain.InvoiceIssued, seller Seller, void *VoidMark) {
	d.strong(margin, 15, contentW, 10, 18, "電子發票銷貨退回、進貨退出或折讓證明單", "C")
	d.cell(margin, 26, contentW, 6, 11, "（證明聯）", "C", "")
	y := 36.0
	if void != nil {
		y = drawVoid(d, y-2, "本折讓單已作廢（VOID）", *void) + 2
	}
	kv := func(label, value string) {
		d.cell(margin, y, 35, 6.5, 10.5, label, "L", "")
		y = d.para(margin+35, y, contentW-35, 6.5, 10.5, value)
	}
	kv("折讓單號碼", a.Number)
	kv("折讓日期", twrules.ROCDateLabel(issuedAt))
	kv("原發票號碼", twrules.PrintedNumber(inv.Number))
	kv("原發票日期", twrules.ROCDateLabel(inv.IssuedAt))
	kv("賣方", seller.Name+"　統一編號 "+seller.TaxID)
	if seller.Address != "" {
		kv("賣方地址", seller.Address)
	}
	if inv.Kind == KindB2B {
		kv("買受人", inv.BuyerName+"　統一編號 "+inv.BuyerTaxID)
	} else {
		kv("買受人", "（非營業人）")
	}
	y += 3
	y = d.table(margin, y, []column{
		{"原發票日期", 30, "C"}, {"原發票號碼", 32, "C"}, {"折讓原因", 58, "L"},
		{"金額（不含稅）", 32, "R"}, {"營業稅額", 28, "R"},
	}, [][]string{{
		twrules.ROCDateShort(inv.IssuedAt), twrules.PrintedNumber(inv.Number), a.Reason, ntd(a.Sales), ntd(a.Tax),
	}}, 10)
	total := a.Sales + a.Tax
	y = d.room(y+2, 3*6+2+6) // the totals and the amount in words, together
	for _, l := range [][2]string{{"折讓金額合計", ntd(a.Sales)}, {"營業稅額合計", ntd(a.Tax)}, {"總計", ntd(total)}} {
		d.cell(pageW-margin-90, y, 55, 6, 10.5, l[0], "R", "")
		d.cell(pageW-margin-35, y, 35, 6, 10.5, l[1], "R", "")
		y += 6
	}
	y += 2
	d.cell(margin, y, contentW, 6, 10.5, "總計新臺幣（大寫）："+twrules.UpperNTD(total), "L", "")
	y += 10
	y = d.para(margin, y, contentW, 5, 9.5, "本證明單所列銷貨退回或折讓，確屬事實，特此證明。依統一發票使用辦法第二十條辦理；電子折讓單資料以財政部電子發票整合服務平台存證資料為準。")
	y += 6
	d.cell(pageW-margin-60, y, 60, 6, 10, "買受人簽收（蓋章）", "C", "")
	d.Rect(pageW-margin-60, y+7, 60, 40, "D")
}
