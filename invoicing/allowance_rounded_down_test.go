package invoicing

import (
	"testing"

	"github.com/routefree/routefree/domain"
)

// An invoice rounded down bills less than its usage, and the part it never
// bills is owed by nobody. Paid, then allowed (here by its void taking
// NT$1 off the re-issue), it gives back all the allowance takes off: the
// customer paid NT$5 for an invoice that now bills NT$4. On a prepaid plan
// that money returned is invoiced as a top-up, so every NT$ received is
// on an invoice, and nothing is left pending as a fraction of NT$1 that no
// payment would ever invoice.
func TestAnAllowanceOnAnInvoiceRoundedDownAndPaidGivesBackAllItTakesOff(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 2, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.open("solo", "王小明工作室", "", domain.PlanBusiness)
	if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "solo", Amount: dec("236"), Reason: "welcome credit"}); err != nil {
		t.Fatal(err)
	}
	e.use("solo", "gpt-4o", taipei(2026, 11, 3, 10, 0), 10, 10, "5.1345")
	e.clock.Set(taipei(2026, 11, 4, 9, 0))
	if err := e.cmd.ChangePlan(e.ctx, domain.PlanChanged{AccountID: "solo", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	inv, _, err := e.svc.IssueMonthly(e.ctx, "solo", "2026-11")
	if err != nil || inv.Total != 5 {
		t.Fatalf("invoice of NT$5.1345: NT$%d (%v)", inv.Total, err)
	}
	// A payment: NT$5 pays the invoice, the rest is invoiced at payment.
	e.topUpRaw("solo", "pay-1", "3658", taipei(2026, 11, 5, 9, 0))
	e.clock.Set(taipei(2026, 11, 5, 9, 1))
	e.invoiceTopUps()
	if _, err := e.svc.VoidLess(e.ctx, inv.Number, "折讓改作廢重開", 1); err != nil {
		t.Fatal(err)
	}
	re, _, err := e.svc.IssueMonthly(e.ctx, "solo", "2026-11")
	if err != nil || re.Total != 4 {
		t.Fatalf("re-issue NT$%d (%v), want NT$4", re.Total, err)
	}
	e.invoiceTopUps()

	var net, returned int64
	for _, i := range e.svc.Invoices("", "solo") {
		net += i.Net()
		if i.BillsPayments() && i.TopUpRef != "pay-1" {
			returned += i.Net()
		}
	}
	if net != 3658 || returned != 1 {
		t.Errorf("invoices bill NT$%d net of the NT$3658 paid, NT$%d of it money returned (want 3658 and 1)", net, returned)
	}
	rec, err := e.svc.Reconcile(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.Rows {
		if !r.Pending.IsZero() {
			t.Errorf("%s %s: NT$%s pending (%s)", r.Month, r.Basis, r.Pending, r.Reason)
		}
	}
	if c, _ := e.credit("solo"); !c.free.Decimal().Equal(dec("235")) || !c.paid.Decimal().Equal(dec("3654")) {
		t.Errorf("credit: free %s, paid %s; want 235 (NT$1 of the credit given returned) and 3654", c.free.Decimal(), c.paid.Decimal())
	}
}
