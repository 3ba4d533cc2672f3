package invoicing

import (
	"testing"

	"github.com/routefree/routefree/domain"
)

// A voided top-up invoice leaves its own payment pending, in the month of
// that payment, not a later payment that a live invoice bills: each month's
// row says invoiced what the live invoices of that month bill. With
// October's invoice voided and November's live, the reconciliation said
// October NT$500 invoiced and November NT$500 pending, beside a net of
// NT$0 in October and NT$500 in November.
func TestAVoidedTopUpInvoiceLeavesItsOwnPaymentPending(t *testing.T) {
	e := newEnv(t, taipei(2026, 10, 20, 10, 0))
	e.assign("2026-09", "AB", 1, 99)
	e.assign("2026-11", "AB", 100, 199)
	e.open("pre", "小商店", "", domain.PlanStarter)
	pay := func(ref, amount string) {
		t.Helper()
		if _, err := e.cmd.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "pre", Amount: dec(amount), Method: domain.MethodBankTransfer, Reference: ref}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Sync(e.ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	pay("TX-OCT", "1000")
	e.clock.Set(taipei(2026, 11, 5, 10, 0))
	pay("TX-NOV", "500")
	var oct Invoice
	for _, inv := range e.svc.Invoices("", "pre") {
		if inv.Total == 1000 {
			oct = inv
		}
	}
	if oct.Number == "" {
		t.Fatalf("no invoice of October's payment: %+v", e.svc.Invoices("", "pre"))
	}
	if _, err := e.svc.Void(e.ctx, InvoiceRef(oct.Period, oct.Number), "買受人錯誤"); err != nil {
		t.Fatal(err)
	}
	rec, err := e.svc.Reconcile(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{"2026-10": {"0", "1000"}, "2026-11": {"500", "0"}}
	for _, r := range rec.Rows {
		w, ok := want[r.Month]
		if !ok || r.Basis != BasisTopUps {
			t.Fatalf("unexpected row %+v", r)
		}
		if !r.Invoiced.Equal(dec(w[0])) || !r.Pending.Equal(dec(w[1])) {
			t.Errorf("%s: invoiced %s, pending %s (%s), net NT$%d; want invoiced %s, pending %s", r.Month, r.Invoiced, r.Pending, r.Reason, r.Net, w[0], w[1])
		}
		if !r.Pending.IsZero() && r.Reason != ReasonVoidedTopUp {
			t.Errorf("%s: pending for %q", r.Month, r.Reason)
		}
	}
	// Re-issued, it is invoiced again in its month.
	if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
	if rec, err = e.svc.Reconcile(e.ctx, ""); err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.Rows {
		if !r.Pending.IsZero() || !r.Invoiced.Equal(r.Used) || !r.Invoiced.Equal(dec(map[string]string{"2026-10": "1000", "2026-11": "500"}[r.Month])) {
			t.Errorf("after the re-issue, %s: %+v", r.Month, r)
		}
	}
}
