package invoicing

import (
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// 字軌 letters recycle across periods, so a number such as AB12345000 may
// come back a year later: an invoice is known by its period and number.
// The read model that the dashboard, the account pages and `replay` use
// keeps both invoices apart, each with its own allowances and void, and
// its monthly net equals the invoicing ledger's.
func TestRecycledNumberKeepsBothInvoices(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.open("b2b", "艾克米股份有限公司", "22099131", domain.PlanBusiness)
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.use("b2b", "gpt-4o", taipei(2026, 11, 10, 10, 0), 1000, 100, "1050")
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	if _, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.IssueAllowance(e.ctx, "AB12345000", 105, "服務中斷"); err != nil {
		t.Fatal(err)
	}

	// A year later the same range comes back for 2027 11-12.
	e.clock.Set(taipei(2027, 11, 1, 9, 0))
	e.assign("2027-11", "AB", 12345000, 12345999)
	e.use("b2b", "gpt-4o", taipei(2027, 11, 10, 10, 0), 2000, 200, "2100")
	e.clock.Set(taipei(2027, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2027-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Issued) != 1 || rep.Issued[0].Number != "AB12345000" || rep.Issued[0].Period != "2027-11" {
		t.Fatalf("the 2027 close issued %+v", rep.Issued)
	}
	if _, err := e.svc.Void(e.ctx, "AB12345000", "重開"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Close(e.ctx, "2027-11", CloseOptions{}); err != nil {
		t.Fatal(err)
	}

	want := map[string]int64{}
	ledger := e.svc.Invoices("", "b2b")
	for _, inv := range ledger {
		want[inv.Month] += inv.Net()
	}
	if want["2026-11"] != 945 || want["2027-11"] != 2100 || len(ledger) != 3 {
		t.Fatalf("the ledger's months: %v over %d invoices", want, len(ledger))
	}

	f, err := projections.Replay(e.ctx, e.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	for m, n := range want {
		if f.InvoiceTotals[m] != n {
			t.Errorf("replay: %s net NT$%d, the ledger's NT$%d (all: %v)", m, f.InvoiceTotals[m], n, f.InvoiceTotals)
		}
	}

	m := projections.NewModels(nil)
	r, err := projections.NewRunner(e.store, nil, m.All()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CatchUp(e.ctx); err != nil {
		t.Fatal(err)
	}
	got := m.Invoices.List("", "b2b")
	if len(got) != len(ledger) {
		t.Fatalf("the read model lists %d invoices, the ledger %d: %+v", len(got), len(ledger), got)
	}
	for _, rec := range got {
		var match *Invoice
		for i := range ledger {
			if ledger[i].Period == rec.Period && ledger[i].Number == rec.Number {
				match = &ledger[i]
			}
		}
		if match == nil || rec.Net() != match.Net() || rec.Month != match.Month || (rec.Status == projections.InvoiceVoided) != match.Voided ||
			len(rec.Allowances) != len(match.Allowances) {
			t.Errorf("read model %s %s: %+v; ledger: %+v", rec.Period, rec.Number, rec, match)
		}
	}
}
