package invoicing

import (
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// An allowance of the whole of an unpaid monthly invoice that rounded its
// usage up (NT$944.60 billed NT$945) owes the customer nothing back: the
// NT$0.40 of rounding was never paid. Finance's credit for the allowance
// pays what it left owed and is credit given beyond it; moved to a prepaid
// plan, the account holds no money returned, and no top-up invoice bills
// one. (Read as money paid, the NT$0.40 would be owed back and invoiced at
// the move as a payment never received.)
func TestAllowingAnUnpaidRoundedUpInvoiceOwesNothingBack(t *testing.T) {
	e := businessWithUsage(t, "944.6")
	inv := e.closeNovemberOne()
	if inv.Total != 945 {
		t.Fatalf("November's invoice bills NT$%d, want NT$945", inv.Total)
	}
	e.clock.Set(taipei(2026, 12, 4, 9, 0))
	if _, err := e.svc.IssueAllowance(e.ctx, inv.Number, inv.Net(), "服務中斷補償"); err != nil {
		t.Fatal(err)
	}
	if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "biz", Amount: dec("945"), Reason: "allowance " + inv.Number}); err != nil {
		t.Fatal(err)
	}
	if err := e.cmd.ChangePlan(e.ctx, domain.PlanChanged{AccountID: "biz", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	e.invoiceTopUps()
	for _, i := range e.svc.Invoices("", "biz") {
		if strings.HasPrefix(i.TopUpRef, "returned-") {
			t.Errorf("invoice %s bills NT$%d of money returned, where none was paid", i.Number, i.Total)
		}
	}
	rec, err := e.svc.Reconcile(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.Rows {
		if r.AccountID == "biz" && r.Basis == BasisTopUps && !r.Used.IsZero() {
			t.Errorf("the reconciliation has top-ups of NT$%s for an account that paid nothing", r.Used)
		}
	}
}
