package invoicing

import (
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// An account's usage is invoiced at the close while its plan was postpaid
// when the request ran: a starter account moved to Business mid-month has
// only the requests after the move on its invoice (what it used before was
// paid by its top-ups), and a starter account throughout has none. Invoicing
// reads request events of prepaid accounts without decoding them; the plan
// at each request is what decides.
func TestUsageInvoicedFromThePlanChange(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.open("mover", "搬家公司", "22099131", domain.PlanStarter)
	e.open("starter", "小商店", "", domain.PlanStarter)
	e.use("mover", "gpt-4o", taipei(2026, 11, 3, 10, 0), 1000, 100, "70")
	e.use("starter", "gpt-4o", taipei(2026, 11, 4, 10, 0), 1000, 100, "30")
	e.moveToBusiness("mover", taipei(2026, 11, 10, 9, 0))
	e.use("mover", "gpt-4o", taipei(2026, 11, 15, 10, 0), 2000, 200, "105")
	e.use("mover", "claude-sonnet", taipei(2026, 11, 16, 10, 0), 500, 50, "21")
	e.use("starter", "gpt-4o", taipei(2026, 11, 17, 10, 0), 1000, 100, "40")

	inv := e.closeNovemberOne()
	// 105 + 21 = 126, not 196 with the 70 used while prepaid.
	if inv.AccountID != "mover" || inv.Total != 126 || len(inv.Lines) != 2 {
		t.Fatalf("invoice %+v", inv.InvoiceIssued)
	}
}

// Credit paid for on a prepaid plan was invoiced at payment: usage after a
// move to a postpaid plan draws it first, and only what it does not cover
// is invoiced monthly. Credit given by adjustment is drawn first while
// prepaid (so that what was invoiced lasts) and is never invoiced.
func TestCreditPaidBeforeAMoveToPostpaidIsNotInvoicedAgain(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.open("mover", "搬家公司", "22099131", domain.PlanStarter)
	if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "mover", Amount: dec("50"), Reason: "welcome credit"}); err != nil {
		t.Fatal(err)
	}
	e.topUpRaw("mover", "pay-1", "1000", taipei(2026, 11, 2, 9, 0))
	e.invoiceTopUps()
	// 80 used while prepaid: 50 of the welcome credit, 30 of the paid 1,000.
	e.use("mover", "gpt-4o", taipei(2026, 11, 3, 10, 0), 1000, 100, "80")
	e.moveToBusiness("mover", taipei(2026, 11, 10, 9, 0))
	// 970 of paid credit left: 900 draws it, then 100.4 takes its last 70
	// and leaves 30.4 to invoice.
	e.use("mover", "gpt-4o", taipei(2026, 11, 15, 10, 0), 2000, 200, "900")
	e.use("mover", "claude-sonnet", taipei(2026, 11, 16, 10, 0), 500, 50, "100.4")

	inv := e.closeNovemberOne()
	if inv.AccountID != "mover" || !inv.Covers.Equal(dec("30.4")) || inv.Total != 30 {
		t.Fatalf("monthly invoice covers NT$%s, total %d; want 30.4 and 30 (the 1,000 paid was invoiced at payment): %+v", inv.Covers, inv.Total, inv.InvoiceIssued)
	}
	invoiced := int64(0)
	for _, i := range e.svc.Invoices("", "mover") {
		invoiced += i.Total
	}
	if invoiced != 1030 {
		t.Fatalf("mover was invoiced NT$%d in all; paid 1,000 and used 30.4 beyond it", invoiced)
	}
	rec, err := e.svc.Reconcile(e.ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.Rows {
		if r.Basis == BasisUsage && (!r.Used.Equal(dec("30.4")) || !r.Pending.IsZero()) {
			t.Fatalf("usage row %+v: want 30.4 used beyond the paid credit, all invoiced", r)
		}
	}
}

// moveToBusiness moves an account to the Business plan (postpaid) at at.
func (e *env) moveToBusiness(acct string, at time.Time) {
	e.t.Helper()
	e.clock.Set(at)
	if err := e.cmd.ChangePlan(e.ctx, domain.PlanChanged{AccountID: acct, Plan: domain.PlanBusiness, CreditLimit: decimal.NewFromInt(10000)}); err != nil {
		e.t.Fatal(err)
	}
}

// businessWithUsage is a Business (postpaid) account, biz, that used cost
// NTD on 2026-11-03, with a number range for November's invoices.
func businessWithUsage(t *testing.T, cost string) *env {
	t.Helper()
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.open("biz", "艾克米股份有限公司", "22099131", domain.PlanBusiness)
	e.use("biz", "gpt-4o", taipei(2026, 11, 3, 10, 0), 1000, 100, cost)
	return e
}

// closeNovemberOne closes November 2026 on the night after it and returns
// the one invoice the close issued.
func (e *env) closeNovemberOne() Invoice {
	e.t.Helper()
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(rep.Issued) != 1 {
		e.t.Fatalf("issued %d invoices, want 1: %+v", len(rep.Issued), rep)
	}
	return rep.Issued[0]
}

// A payment is invoiced when it is received (services in Taiwan are
// invoiced at payment), except for what pays usage already invoiced, or due
// on the month's invoice. A Business account that pays NT$1,000 while it
// owes NT$300 of usage has NT$700 invoiced at payment as credit; the usage
// that credit pays, on either plan, is not invoiced again, and after a move
// to a prepaid plan nothing it paid is left uninvoiced.
func TestPaymentBeyondWhatIsDueIsInvoicedAtPayment(t *testing.T) {
	e := businessWithUsage(t, "300")
	e.topUpRaw("biz", "pay-1", "1000", taipei(2026, 11, 5, 9, 0))
	e.invoiceTopUps()
	var credit []Invoice
	for _, i := range e.svc.Invoices("", "biz") {
		if i.TopUpRef != "" || len(i.TopUps) > 0 {
			credit = append(credit, i)
		}
	}
	if len(credit) != 1 || credit[0].Total != 700 {
		t.Fatalf("top-up invoices %+v; want one of NT$700 (NT$300 of the 1,000 paid the month's usage)", credit)
	}
	// 200 more while postpaid and 100 after a move to Starter: both paid
	// from the NT$700 invoiced at payment.
	e.use("biz", "gpt-4o", taipei(2026, 11, 8, 10, 0), 1000, 100, "200")
	e.clock.Set(taipei(2026, 11, 10, 9, 0))
	if err := e.cmd.ChangePlan(e.ctx, domain.PlanChanged{AccountID: "biz", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	e.use("biz", "gpt-4o", taipei(2026, 11, 12, 10, 0), 1000, 100, "100")

	inv := e.closeNovemberOne()
	if inv.Total != 300 {
		t.Fatalf("monthly invoice NT$%d; want NT$300, the usage before the payment", inv.Total)
	}
	invoiced := int64(0)
	for _, i := range e.svc.Invoices("", "biz") {
		invoiced += i.Total
	}
	if invoiced != 1000 {
		t.Fatalf("biz was invoiced NT$%d in all; it paid NT$1,000 and used NT$600, NT$300 of it before paying", invoiced)
	}
	e.nothingPending("2026-11")
}

// Paying a monthly invoice exactly invoices nothing more, though the
// invoice rounded the usage up: NT$944.87 of usage is billed NT$945, and a
// payment of NT$945 pays it, the NT$0.13 its rounding billed becoming
// credit. A later payment is invoiced whole.
func TestPayingAnInvoiceExactlyInvoicesNothingMore(t *testing.T) {
	e := businessWithUsage(t, "944.87")
	if inv := e.closeNovemberOne(); inv.Total != 945 {
		t.Fatalf("monthly invoice NT$%d; want 945", inv.Total)
	}
	e.topUpRaw("biz", "pay-1", "945", taipei(2026, 12, 3, 9, 0))
	e.invoiceTopUps()
	if n := len(e.svc.Invoices("", "biz")); n != 1 {
		t.Fatalf("%d invoices after paying the month's exactly; want the monthly one alone", n)
	}
	e.topUpRaw("biz", "pay-2", "1000", taipei(2026, 12, 4, 9, 0))
	e.invoiceTopUps()
	var totals []int64
	for _, i := range e.svc.Invoices("", "biz") {
		totals = append(totals, i.Total)
	}
	if len(totals) != 2 || totals[0]+totals[1] != 1945 {
		t.Fatalf("invoices %v; want the monthly NT$945 and NT$1,000 invoiced at payment", totals)
	}
	e.nothingPending("")
}

// nothingPending fails unless every row of the month's reconciliation
// ("" for all) is wholly invoiced.
func (e *env) nothingPending(month string) {
	e.t.Helper()
	rec, err := e.svc.Reconcile(e.ctx, month)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range rec.Rows {
		if !r.Pending.IsZero() {
			e.t.Fatalf("row %+v pending; all of it was invoiced", r)
		}
	}
}

// An allowance on a monthly invoice takes what it allows off what the
// account owes on invoices: a Business account billed NT$1,000, allowed
// NT$300 for an outage (finance credits the balance with it) and paying
// the NT$700 left owes nothing invoiced. Moved to Starter, its next top-up
// pays for credit and is invoiced whole, not NT$300 short as if it paid
// the allowed amount.
func TestAllowedUsageIsNotPaidAgainByALaterPayment(t *testing.T) {
	e := businessWithUsage(t, "1000")
	inv := e.closeNovemberOne()
	if _, err := e.svc.IssueAllowance(e.ctx, inv.Number, 300, "服務中斷補償"); err != nil {
		t.Fatal(err)
	}
	if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "biz", Amount: dec("300"), Reason: "allowance " + inv.Number}); err != nil {
		t.Fatal(err)
	}
	e.topUpRaw("biz", "pay-1", "700", taipei(2026, 12, 3, 9, 0))
	e.clock.Set(taipei(2026, 12, 5, 9, 0))
	if err := e.cmd.ChangePlan(e.ctx, domain.PlanChanged{AccountID: "biz", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	e.topUpRaw("biz", "pay-2", "1000", taipei(2026, 12, 6, 9, 0))
	e.invoiceTopUps()
	net := int64(0)
	for _, i := range e.svc.Invoices("", "biz") {
		net += i.Net()
		if i.TopUpRef == "pay-1" {
			t.Errorf("the NT$700 paid for the allowed invoice was invoiced again: %+v", i.InvoiceIssued)
		}
		if i.TopUpRef == "pay-2" && i.Total != 1000 {
			t.Errorf("the top-up of NT$1,000 after the move was invoiced NT$%d", i.Total)
		}
	}
	if net != 1700 {
		t.Fatalf("biz's invoices net NT$%d; it paid NT$1,700", net)
	}
}

// A payment made while a monthly invoice's allowance stood paid what the
// allowance left owed, and was invoiced at payment. Voided, the allowance
// makes the invoice bill that usage again: the payment no longer pays it,
// and is credit again, as invoiced at payment. So the usage is due again,
// and the payment of it is not invoiced a second time; the credit pays the
// next usage, which no monthly invoice bills. A Business account that used
// NT$600 and paid NT$600 is invoiced NT$600 net, not NT$900.
func TestAVoidedAllowanceDoesNotInvoiceAPaymentTwice(t *testing.T) {
	e := businessWithUsage(t, "300")
	inv := e.closeNovemberOne()
	a, err := e.svc.IssueAllowance(e.ctx, inv.Number, 300, "服務中斷補償")
	if err != nil {
		t.Fatal(err)
	}
	// Paid anyway: nothing is due, so the payment is invoiced at payment.
	e.topUpRaw("biz", "pay-1", "300", taipei(2026, 12, 3, 9, 0))
	e.invoiceTopUps()
	e.clock.Set(taipei(2026, 12, 4, 9, 0))
	if _, err := e.svc.VoidAllowance(e.ctx, a.Number, "折讓取消"); err != nil {
		t.Fatal(err)
	}
	// The invoice bills the NT$300 again: this payment pays it.
	e.topUpRaw("biz", "pay-2", "300", taipei(2026, 12, 5, 9, 0))
	e.invoiceTopUps()
	for _, i := range e.svc.Invoices("", "biz") {
		if slices.Contains(i.TopUps, "pay-2") || i.TopUpRef == "pay-2" {
			t.Errorf("the payment of the invoice billed again was invoiced at payment too: %+v", i.InvoiceIssued)
		}
	}
	// December's usage is paid by the first payment's credit.
	e.use("biz", "gpt-4o", taipei(2026, 12, 10, 10, 0), 1000, 100, "300")
	e.clock.Set(taipei(2027, 1, 2, 9, 0))
	e.assign("2027-01", "AB", 22345000, 22345999)
	if _, err := e.svc.Close(e.ctx, "2026-12", CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	net := int64(0)
	for _, i := range e.svc.Invoices("", "biz") {
		net += i.Net()
	}
	if net != 600 {
		t.Fatalf("biz's invoices net NT$%d; it used NT$600 and paid NT$600", net)
	}
	e.nothingPending("")
}
