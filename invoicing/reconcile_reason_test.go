package invoicing

import (
	"testing"

	"github.com/routefree/routefree/domain"
)

// A period whose ranges are used up leaves later top-ups waiting for a
// number range, and the reconciliation says so rather than naming the
// invoice run.
func TestReconcileNamesAnExhaustedRange(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 100, 101) // two numbers
	for _, id := range []string{"a1", "a2", "a3"} {
		e.open(id, "公司 "+id, "", domain.PlanStarter)
		e.topUpRaw(id, "pay-"+id, "1000", taipei(2026, 11, 10, 9, 0))
	}
	if err := e.svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.InvoiceTopUps(e.ctx); err == nil {
		t.Fatal("a third invoice was issued from a range of two numbers")
	}
	if got := len(e.svc.Invoices("", "")); got != 2 {
		t.Fatalf("%d invoices, want 2", got)
	}
	rec, err := e.svc.Reconcile(e.ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	pending := 0
	for _, r := range rec.Rows {
		if r.Pending.IsZero() {
			continue
		}
		pending++
		if r.Reason != ReasonNoRange {
			t.Errorf("%s %s: pending %s for %q, want %q", r.AccountID, r.Month, r.Pending, r.Reason, ReasonNoRange)
		}
	}
	if pending != 1 {
		t.Fatalf("%d rows pending, want 1: %+v", pending, rec.Rows)
	}
}
