package invoicing

import (
	"testing"

	"github.com/routefree/routefree/domain"
)

// An allowance on a monthly invoice the customer has already paid, credited
// to the balance as its command says, returns money the customer paid: the
// credit is not credit given. The usage it pays is invoiced monthly, as the
// money behind it is on no invoice any more, and no allowance is asked for
// it; a later payment is invoiced whole. A Business account billed NT$1,000
// and paying it, allowed NT$300, then using NT$300 and paying NT$500, is
// invoiced NT$1,500 net: what it paid.
func TestAnAllowanceOnAPaidInvoiceCreditsMoneyPaid(t *testing.T) {
	e := businessWithUsage(t, "1000")
	inv := e.closeNovemberOne()
	e.topUpRaw("biz", "pay-1", "1000", taipei(2026, 12, 3, 9, 0))
	e.invoiceTopUps()
	e.clock.Set(taipei(2026, 12, 4, 9, 0))
	if _, err := e.svc.IssueAllowance(e.ctx, inv.Number, 300, "服務中斷補償"); err != nil {
		t.Fatal(err)
	}
	if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "biz", Amount: dec("300"), Reason: "allowance " + inv.Number}); err != nil {
		t.Fatal(err)
	}
	e.use("biz", "gpt-4o", taipei(2026, 12, 10, 10, 0), 1000, 100, "300")
	e.clock.Set(taipei(2027, 1, 2, 9, 0))
	e.assign("2027-01", "AB", 22345000, 22345999)
	if _, err := e.svc.Close(e.ctx, "2026-12", CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	rec, err := e.svc.Reconcile(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Offsets) != 0 {
		t.Errorf("the credit for the allowance is taken for credit given, and another allowance asked for: %+v", rec.Offsets)
	}
	e.topUpRaw("biz", "pay-2", "500", taipei(2027, 1, 5, 9, 0))
	e.invoiceTopUps()
	net := int64(0)
	for _, i := range e.svc.Invoices("", "biz") {
		net += i.Net()
		if i.TopUpRef == "pay-2" && i.Total != 500 {
			t.Errorf("the payment of NT$500, nothing being owed, was invoiced NT$%d", i.Total)
		}
	}
	if net != 1500 {
		t.Errorf("biz's invoices net NT$%d; it paid NT$1,500", net)
	}
	e.nothingPending("")
}

// The credit finance is about to give for an allowance is previewed as it
// will be recorded (the console's confirmation step warns of an offset
// with it): credit that pays what an allowance left owed, or returns what
// it took off usage already paid, offsets nothing, and no second
// allowance is asked for before the first is credited.
func TestCreditForAnAllowanceIsPreviewedAsRecorded(t *testing.T) {
	for _, c := range []struct {
		name string
		paid string // paid of the NT$1,000 invoice before the allowance
	}{{"unpaid", "0"}, {"part paid", "800"}, {"paid", "1000"}} {
		t.Run(c.name, func(t *testing.T) {
			e := businessWithUsage(t, "1000")
			inv := e.closeNovemberOne()
			if c.paid != "0" {
				e.topUpRaw("biz", "pay-1", c.paid, taipei(2026, 12, 3, 9, 0))
				e.invoiceTopUps()
			}
			// December's usage is billed before finance credits November's
			// allowance, and is still owed.
			e.use("biz", "gpt-4o", taipei(2026, 12, 2, 10, 0), 1000, 100, "500")
			e.clock.Set(taipei(2027, 1, 2, 9, 0))
			e.assign("2027-01", "AB", 22345000, 22345999)
			if _, err := e.svc.IssueAllowance(e.ctx, inv.Number, 300, "服務中斷補償"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Close(e.ctx, "2026-12", CloseOptions{}); err != nil {
				t.Fatal(err)
			}
			preview, err := e.svc.CreditOffset(e.ctx, "biz", dec("300"))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "biz", Amount: dec("300"), Reason: "allowance"}); err != nil {
				t.Fatal(err)
			}
			after, err := e.svc.CreditOffset(e.ctx, "biz", dec("0"))
			if err != nil {
				t.Fatal(err)
			}
			if preview.ToAllow != 0 || after.ToAllow != 0 {
				t.Fatalf("crediting the allowance asks for another: previewed %+v, recorded %+v", preview, after)
			}
		})
	}
}

// An allowance takes off what its invoice bills, rounding included: what it
// takes beyond the usage still due was paid already only as far as a
// payment paid it. A Business account billed NT$1 for NT$0.6675 of usage,
// allowed the whole NT$1 before paying anything, credited for it and moved
// to a prepaid plan, paid nothing: none of the credit is money returned,
// and no payment is invoiced for it.
func TestAnAllowanceOfUnpaidRoundingReturnsNoMoney(t *testing.T) {
	e := businessWithUsage(t, "0.6675")
	inv := e.closeNovemberOne()
	if inv.Total != 1 {
		t.Fatalf("November's invoice bills NT$%d; want NT$1", inv.Total)
	}
	e.clock.Set(taipei(2026, 12, 4, 9, 0))
	if _, err := e.svc.IssueAllowance(e.ctx, inv.Number, 1, "服務中斷補償"); err != nil {
		t.Fatal(err)
	}
	if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "biz", Amount: dec("1"), Reason: "allowance " + inv.Number}); err != nil {
		t.Fatal(err)
	}
	if err := e.cmd.ChangePlan(e.ctx, domain.PlanChanged{AccountID: "biz", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "biz", Amount: dec("72.03"), Reason: "goodwill"}); err != nil {
		t.Fatal(err)
	}
	e.invoiceTopUps()
	for _, i := range e.svc.Invoices("", "biz") {
		if i.Number != inv.Number {
			t.Errorf("invoice %s of NT$%d (top-up %q) issued for credit given: nothing was paid", i.Number, i.Total, i.TopUpRef)
		}
	}
	rec, err := e.svc.Reconcile(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.Rows {
		if r.AccountID == "biz" && r.Basis == BasisTopUps && !r.Used.IsZero() {
			t.Errorf("the reconciliation counts NT$%s paid in %s; nothing was paid", r.Used, r.Month)
		}
	}
	e.nothingPending("")
}
