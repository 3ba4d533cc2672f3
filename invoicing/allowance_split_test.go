package invoicing

import "testing"

// allowanceSplit's contract, whatever split the invoice and its earlier
// allowances took (allowances recorded under another rounding included):
// each split is whole and sums to its amount, the allowances never take
// more sales or tax than the invoice has, and the allowance of all that
// remains takes exactly the rest of its sales and tax.
func TestAllowanceSplitEndsAtTheInvoiceSplit(t *testing.T) {
	// A NT$4 invoice of sales 3 and tax 1 whose first NT$1 allowance took
	// no tax: the last NT$3 must take the tax, or sales would reach 4.
	inv := &Invoice{}
	inv.Total, inv.Sales, inv.Tax = 4, 3, 1
	inv.Allowances = []Allowance{allowance(1, 0)}
	if s, x := allowanceSplit(inv, 3); s != 2 || x != 1 {
		t.Fatalf("last allowance of NT$3: sales %d tax %d, want 2 and 1", s, x)
	}

	for total := int64(1); total <= 25; total++ {
		for tax := int64(0); tax <= total; tax++ {
			sales := total - tax
			for s1 := int64(0); s1 <= sales; s1++ {
				for t1 := int64(0); t1 <= tax && s1+t1 < total; t1++ {
					inv := &Invoice{}
					inv.Total, inv.Sales, inv.Tax = total, sales, tax
					// A voided allowance counts for nothing.
					inv.Allowances = []Allowance{allowance(s1, t1), {Voided: true}}
					inv.Allowances[1].Sales = total
					if s1+t1 == 0 {
						inv.Allowances = inv.Allowances[1:]
					}
					rest := inv.Net()
					for amount := int64(1); amount <= rest; amount++ {
						s, x := allowanceSplit(inv, amount)
						if s < 0 || x < 0 || s+x != amount || s1+s > sales || t1+x > tax ||
							(amount == rest && (s1+s != sales || t1+x != tax)) {
							t.Fatalf("invoice %d (sales %d, tax %d) after %d+%d, allowance %d: split %d+%d",
								total, sales, tax, s1, t1, amount, s, x)
						}
					}
				}
			}
		}
	}
}

func allowance(sales, tax int64) Allowance {
	var a Allowance
	a.Sales, a.Tax = sales, tax
	return a
}
