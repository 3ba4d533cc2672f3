package invoicing

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
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
	if _, err := e.svc.Void(e.ctx, "2027-11-AB12345000", "重開"); err != nil {
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

// With a number issued in two periods, each invoice is named by its period
// and number: its PDF, its allowances and its void reach that invoice, never
// the other. The bare number names neither and is refused with the periods
// to choose from; a customer's bare number names its own invoice.
func TestRecycledNumberNamedByPeriod(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.open("acme", "艾克米股份有限公司", "22099131", domain.PlanBusiness)
	e.open("beta", "貝塔有限公司", "04595257", domain.PlanBusiness)
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.use("acme", "gpt-4o", taipei(2026, 11, 10, 10, 0), 1000, 100, "1050")
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	if _, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(taipei(2027, 11, 1, 9, 0))
	e.assign("2027-11", "AB", 12345000, 12345999)
	e.use("beta", "gpt-4o", taipei(2027, 11, 10, 10, 0), 2000, 200, "2100")
	e.clock.Set(taipei(2027, 12, 1, 2, 0))
	if _, err := e.svc.Close(e.ctx, "2027-11", CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	if !e.svc.NumberReused("AB-12345000") {
		t.Error("AB12345000 is not reported as issued in two periods")
	}

	if _, err := e.svc.Invoice("AB12345000"); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "2026-11, 2027-11") {
		t.Errorf("the bare number: %v, want a conflict naming both periods", err)
	}
	old, err := e.svc.Invoice("2026-11-AB-12345000")
	if err != nil || old.AccountID != "acme" || old.Total != 1050 {
		t.Fatalf("2026-11-AB-12345000: %+v, %v", old.InvoiceIssued, err)
	}
	var buf bytes.Buffer
	if err := e.svc.InvoicePDF(&buf, "2026-11-AB12345000"); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "115年11-12月", "AB-12345000", "22099131", "1,050")

	// A year-old invoice takes an allowance, not a void; the newer one is
	// voided. Each lands on the invoice named.
	al, err := e.svc.IssueAllowance(e.ctx, "2026-11-AB12345000", 105, "服務中斷")
	if err != nil || al.InvoiceNumber != "AB12345000" || al.Number[:5] != "11512" {
		t.Fatalf("allowance on the 2026 invoice: %+v, %v", al, err)
	}
	if _, err := e.svc.Void(e.ctx, "AB12345000", "重開"); !errors.Is(err, ErrConflict) {
		t.Errorf("void by the bare number: %v, want a conflict", err)
	}
	if _, err := e.svc.Void(e.ctx, "2027-11-AB12345000", "重開"); err != nil {
		t.Fatal(err)
	}
	old, _ = e.svc.Invoice("2026-11-AB12345000")
	cur, _ := e.svc.Invoice("2027-11-AB12345000")
	if old.Voided || old.Net() != 945 || len(old.Allowances) != 1 || !cur.Voided || len(cur.Allowances) != 0 {
		t.Errorf("2026: voided %v net %d, %d allowances; 2027: voided %v, %d allowances",
			old.Voided, old.Net(), len(old.Allowances), cur.Voided, len(cur.Allowances))
	}

	// Customers name their own invoices by number alone.
	for acct, period := range map[string]string{"acme": "2026-11", "beta": "2027-11"} {
		inv, err := e.svc.AccountInvoice(acct, "AB12345000")
		if err != nil || inv.Period != period {
			t.Errorf("%s's AB12345000: period %q, %v", acct, inv.Period, err)
		}
	}
	if _, err := e.svc.AccountInvoice("acme", "2027-11-AB12345000"); !errors.Is(err, ErrNotFound) {
		t.Errorf("acme asking for beta's invoice: %v, want not found", err)
	}
}
