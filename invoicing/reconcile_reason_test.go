package invoicing

import (
	"testing"

	"github.com/routefree/routefree/domain"
)

// While a voided top-up invoice waits for its re-issue, only the month of
// the payments it billed is pending for that reason: a later payment
// waiting for its own invoice is pending for its own, and re-issuing the
// voided invoice does not invoice it. Every pending row of the account
// said "top-up invoice voided".
func TestOnlyTheVoidedInvoicesPaymentsArePendingForTheVoid(t *testing.T) {
	e := newEnv(t, taipei(2026, 3, 10, 10, 0))
	e.assign("2026-03", "AB", 1, 99)
	e.open("rv", "作廢待補開股份有限公司", "", domain.PlanStarter)
	if _, err := e.cmd.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "rv", Amount: dec("1000"), Method: domain.MethodBankTransfer, Reference: "TX-MAR"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
	invs := e.svc.Invoices("", "rv")
	if len(invs) != 1 {
		t.Fatalf("%d invoices, want 1", len(invs))
	}
	if _, err := e.svc.Void(e.ctx, invs[0].Number, "wrong amount typed"); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(taipei(2026, 4, 2, 10, 0))
	if _, err := e.cmd.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "rv", Amount: dec("500"), Method: domain.MethodBankTransfer, Reference: "TX-APR"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := e.svc.Reconcile(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, r := range rec.Rows {
		if r.AccountID == "rv" && r.Basis == BasisTopUps && !r.Pending.IsZero() {
			reasons[r.Month] = r.Reason
		}
	}
	if reasons["2026-03"] != ReasonVoidedTopUp || reasons["2026-04"] != ReasonTopUpPending {
		t.Fatalf("pending reasons by month %v; want March's voided invoice's and April's payment waiting for its own", reasons)
	}
}
