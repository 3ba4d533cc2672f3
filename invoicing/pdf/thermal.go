package pdf

import (
	"github.com/jung-kurt/gofpdf"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// The 5.7 cm proof (電子發票證明聯, 5.7 × 9 cm, the MOF's thermal format):
// page 1 is the proof itself, the items follow on the next page as on a
// receipt roll. Geometry in mm; the tests crop the barcodes here.
const (
	thermalW        = 57.0
	thermalH        = 90.0
	thermalMargin   = 3.0
	thermalContentW = thermalW - 2*thermalMargin
	thermalCode39Y  = 41.0
	thermalCode39H  = 8.0
	thermalModule   = 0.18 // 273 modules of Code 39 → 49 mm
	thermalQRY      = 51.0
	thermalQRSize   = 24.0
	thermalQRGap    = 3.0
	thermalQRLeftX  = thermalW/2 - thermalQRGap/2 - thermalQRSize
	thermalQRRightX = thermalW/2 + thermalQRGap/2
)

var thermalPage = gofpdf.SizeType{Wd: thermalW, Ht: thermalH}

func drawThermal(d doc, inv domain.InvoiceIssued, seller Seller, opts InvoiceOptions, c codes) {
	x, w := thermalMargin, thermalContentW
	title := "電子發票證明聯"
	if opts.Reprint {
		title += "補印"
	}
	d.fit(x, 3, w, 4.5, 9, seller.Name, "C")
	d.strong(x, 8, w, 6, 14, title, "C")
	d.strong(x, 14.5, w, 6, 13, twrules.PeriodOf(inv.IssuedAt).Label(), "C")
	d.strong(x, 20.5, w, 6.5, 15, twrules.PrintedNumber(inv.Number), "C")
	row := func(y float64, l, r string) {
		d.cell(x, y, w/2+6, 4, 7.5, l, "L", "")
		d.cell(x+w/2, y, w/2, 4, 7.5, r, "R", "")
	}
	format := ""
	if inv.Kind == KindB2B {
		format = "格式 25"
	}
	row(28, inv.IssuedAt.In(twrules.Taipei).Format("2006-01-02 15:04:05"), format)
	row(32, "隨機碼 "+inv.RandomCode, "總計 "+ntd(inv.Total))
	buyer := ""
	if inv.Kind == KindB2B {
		buyer = "買方 " + inv.BuyerTaxID
	}
	row(36, "賣方 "+seller.TaxID, buyer)
	barW := float64(c.bars.Bounds().Dx()) * thermalModule
	d.drawBars(c.bars, (thermalW-barW)/2, thermalCode39Y+0.5, thermalModule, thermalCode39H-1)
	d.drawQR(c.left, thermalQRLeftX, thermalQRY, thermalQRSize)
	d.drawQR(c.right, thermalQRRightX, thermalQRY, thermalQRSize)

	// The items, on the roll after the proof.
	d.AddPage()
	y := thermalMargin
	if opts.Void != nil {
		d.strong(x, y, w, 5, 10, "本發票已作廢", "C")
		y += 5
		if opts.Void.Reason != "" {
			y = d.para(x, y, w, 4, 7.5, "作廢原因："+opts.Void.Reason)
		}
		if l := opts.Void.approvalLine(); l != "" {
			y = d.para(x, y, w, 4, 7.5, l)
		}
	}
	d.strong(x, y, w, 5, 10, "交易明細", "L")
	y += 6
	if inv.Kind == KindB2B {
		y = d.para(x, y, w, 4, 7.5, "買受人："+inv.BuyerName)
	}
	if l := reissueLine(inv); l != "" {
		y = d.para(x, y, w, 4, 7.5, l)
	}
	for _, l := range inv.Lines {
		// An item's description and its amounts stand together.
		y = d.room(y, float64(len(d.lines(l.Description, w, 7.5)))*4+4)
		y = d.para(x, y, w, 4, 7.5, l.Description)
		d.cell(x, y, w/2, 4, 7.5, num(l.Quantity)+" "+l.Unit+" × "+money(l.UnitPrice), "L", "")
		d.cell(x+w/2, y, w/2, 4, 7.5, money(l.Amount), "R", "")
		y += 5
	}
	// The totals and the amount in words stand together.
	y = d.room(y, 8+5+4)
	if inv.Kind == KindB2B {
		row(y, "銷售額合計", ntd(inv.Sales))
		row(y+4, "營業稅（5%）", ntd(inv.Tax))
		y += 8
	}
	row(y, "總計（含稅）", ntd(inv.Total))
	y = d.para(x, y+5, w, 4, 7.5, "新臺幣"+twrules.UpperNTD(inv.Total))
	d.para(x, y+1, w, 3.5, 6.5, "發票內容以財政部電子發票整合服務平台存證資料為準。")
}
