package invoicing

import (
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf"
	"github.com/routefree/routefree/invoicing/twrules"
)

// linesTarget is what an invoice's lines add up to: the F0401 SalesAmount,
// i.e. the net 銷售額 for B2B and the tax-inclusive total for B2C (whose
// lines are 定價, see docs/invoicing.md).
func linesTarget(inv *domain.InvoiceIssued) int64 {
	if inv.Kind == pdf.KindB2B {
		return inv.Sales
	}
	return inv.Total
}

// balanceLines sets the line amounts, to the cent, so that they add up
// exactly to linesTarget: the whole-NTD totals are rounded once, on the
// total, and the rounding is shared out among the lines by largest
// remainder. The proof, F0401 and the QR codes all print these amounts.
func balanceLines(inv *domain.InvoiceIssued) {
	weights := make([]decimal.Decimal, len(inv.Lines))
	for i, l := range inv.Lines {
		weights[i] = l.Amount
		if weights[i].IsNegative() {
			weights[i] = decimal.Zero
		}
	}
	amounts := twrules.AllocateCents(weights, linesTarget(inv))
	lines := make([]domain.InvoiceLine, len(inv.Lines))
	for i, l := range inv.Lines {
		l.Amount = amounts[i]
		if l.Quantity.IsPositive() && l.Amount.Mod(l.Quantity).IsZero() {
			l.UnitPrice = l.Amount.Div(l.Quantity)
		} else {
			l.Quantity, l.UnitPrice = decimal.NewFromInt(1), l.Amount
		}
		lines[i] = l
	}
	inv.Lines = lines
}
