package invoicing

import (
	"bytes"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// The last NT$1 of an invoice of 10 + 1 allowed in two steps (10, then 1)
// takes only the tax left: its allowance is 0 + 1. Its 折讓證明單 and its
// G0401 are made all the same, and the two allowances add up to the
// invoice on paper as in the ledger.
//
// The invoices are of September–October: the allowances come once that
// period is filed (by Monday 16 November, the 15th being a Sunday), when
// the B2C one (no 統一編號) takes them too.
func TestAnAllowanceOfTaxAloneHasItsDocuments(t *testing.T) {
	e := newEnv(t, taipei(2026, 10, 10, 9, 0))
	e.assign("2026-09", "AB", 100, 199)
	invs := map[string]Invoice{}
	for _, c := range []struct{ acct, taxID string }{{"solo", ""}, {"firm", "04595257"}} {
		e.open(c.acct, "王小明工作室", c.taxID, domain.PlanEnterprise)
		e.use(c.acct, "gpt-4o", taipei(2026, 10, 3, 10, 0), 10, 10, "11")
		inv, _, err := e.svc.IssueMonthly(e.ctx, c.acct, "2026-10")
		if err != nil || inv.Sales != 10 || inv.Tax != 1 {
			t.Fatalf("invoice %+v %v", inv.InvoiceIssued, err)
		}
		invs[c.acct] = inv
	}
	e.clock.Set(taipei(2026, 11, 17, 9, 0))
	for _, c := range []struct{ acct string }{{"solo"}, {"firm"}} {
		inv := invs[c.acct]
		a1, err := e.svc.IssueAllowance(e.ctx, inv.Number, 10, "服務中斷")
		if err != nil {
			t.Fatal(err)
		}
		a2, err := e.svc.IssueAllowance(e.ctx, inv.Number, 1, "服務中斷")
		if err != nil {
			t.Fatal(err)
		}
		if a1.Sales+a2.Sales != inv.Sales || a1.Tax+a2.Tax != inv.Tax || a2.Sales != 0 || a2.Tax != 1 {
			t.Fatalf("allowances %+v %+v against %d + %d", a1.AllowanceIssued, a2.AllowanceIssued, inv.Sales, inv.Tax)
		}
		var buf bytes.Buffer
		if err := e.svc.AllowancePDF(&buf, a2.Number); err != nil {
			t.Fatalf("%s: the PDF of allowance %s: %v", c.acct, a2.Number, err)
		}
		pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), a2.Number, "總計新臺幣（大寫）：壹元整")
	}
	var buf bytes.Buffer
	if err := e.svc.Export(&buf, MessageG0401, "2026-11"); err != nil {
		t.Fatalf("G0401: %v", err)
	}
}
