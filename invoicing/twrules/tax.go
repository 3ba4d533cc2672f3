package twrules

import "github.com/shopspring/decimal"

// TaxRate is the standard business tax (營業稅) rate.
var TaxRate = decimal.RequireFromString("0.05")

var onePlusRate = decimal.NewFromInt(1).Add(TaxRate)

// SplitInclusive splits a tax-inclusive whole-NTD total per 營業稅法施行細則
// §32-1: tax = total ÷ 1.05 × 0.05 rounded half-up to 1 NTD, sales = total −
// tax. 12,300 → 11,714 + 586.
func SplitInclusive(total int64) (sales, tax int64) {
	t := decimal.NewFromInt(total).Div(onePlusRate).Mul(TaxRate)
	tax = roundHalfUp(t)
	return total - tax, tax
}

// TaxOnNet is the tax on a net (untaxed) whole-NTD amount, rounded half-up:
// 50 → 3 (banker's rounding would give 2). Compute it once on the invoice
// total, not per line.
func TaxOnNet(net int64) int64 {
	return roundHalfUp(decimal.NewFromInt(net).Mul(TaxRate))
}

// roundHalfUp rounds to a whole number, halves away from zero; shopspring's
// Round does exactly that (never use RoundBank here).
func roundHalfUp(d decimal.Decimal) int64 { return d.Round(0).IntPart() }

// RoundNTD rounds a decimal NTD amount to whole dollars, half-up: invoices
// carry whole dollars only.
func RoundNTD(d decimal.Decimal) int64 { return roundHalfUp(d) }

// NetTotals turns a net (untaxed) decimal amount into whole-NTD sales, tax
// on that sales figure, and the inclusive total: the amounts of a quote or a
// B2B invoice built from net prices.
func NetTotals(net decimal.Decimal) (sales, tax, total int64) {
	sales = RoundNTD(net)
	tax = TaxOnNet(sales)
	return sales, tax, sales + tax
}
