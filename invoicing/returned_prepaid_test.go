package invoicing

import (
	"fmt"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// Money returned for an allowance on a paid monthly invoice pays usage that
// the monthly invoices bill. A prepaid plan's usage is on no monthly
// invoice: an account holding returned money on such a plan would spend
// money that no invoice bills. So the returned money it holds is invoiced
// as a top-up paid then, whether it was credited before the move to the
// prepaid plan (invoiced at the move) or after it (invoiced at the credit),
// and is prepaid credit. A Business account billed NT$1,000 that pays it,
// is allowed NT$300 and credited NT$300, moves to Starter and uses NT$300,
// is invoiced NT$1,000 net: what it paid. A fresh reader and replay count
// the same.
func TestReturnedMoneyIsInvoicedOnAPrepaidPlan(t *testing.T) {
	for _, c := range []struct {
		name         string
		creditBefore bool // credited before the move to Starter
	}{{"credited then moved", true}, {"moved then credited", false}} {
		t.Run(c.name, func(t *testing.T) {
			e := businessWithUsage(t, "1000")
			inv := e.closeNovemberOne()
			e.topUpRaw("biz", "pay-1", "1000", taipei(2026, 12, 3, 9, 0))
			e.invoiceTopUps()
			credit := func() {
				e.clock.Set(taipei(2026, 12, 4, 9, 0))
				if _, err := e.svc.IssueAllowance(e.ctx, inv.Number, 300, "服務中斷補償"); err != nil {
					t.Fatal(err)
				}
				if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "biz", Amount: dec("300"), Reason: "allowance " + inv.Number}); err != nil {
					t.Fatal(err)
				}
			}
			move := func() {
				e.clock.Set(taipei(2026, 12, 5, 9, 0))
				if err := e.cmd.ChangePlan(e.ctx, domain.PlanChanged{AccountID: "biz", Plan: domain.PlanStarter}); err != nil {
					t.Fatal(err)
				}
			}
			if c.creditBefore {
				credit()
				move()
			} else {
				move()
				credit()
			}
			e.invoiceTopUps()
			e.use("biz", "gpt-4o", taipei(2026, 12, 10, 10, 0), 1000, 100, "300")
			e.clock.Set(taipei(2027, 1, 2, 9, 0))
			e.assign("2027-01", "AB", 22345000, 22345999)
			if _, err := e.svc.Close(e.ctx, "2026-12", CloseOptions{}); err != nil {
				t.Fatal(err)
			}
			e.invoiceTopUps()

			net, byMonth := int64(0), map[string]int64{}
			var returned []Invoice
			for _, i := range e.svc.Invoices("", "biz") {
				net += i.Net()
				byMonth[e.svc.InvoiceMonth(i)] += i.Net()
				if i.TopUpRef != "" && i.TopUpRef != "pay-1" {
					returned = append(returned, i)
				}
			}
			if net != 1000 {
				t.Errorf("biz's invoices net NT$%d; it paid NT$1,000 (NT$300 of it returned, then used on Starter)", net)
			}
			if len(returned) != 1 || returned[0].Total != 300 || e.svc.InvoiceMonth(returned[0]) != "2026-12" {
				t.Errorf("invoices of the returned money: %+v; want one of NT$300, counted in December", returned)
			}
			e.nothingPending("")
			if k, ok := e.credit("biz"); !ok || k.returned.Sign() != 0 || k.paid.Sign() != 0 || k.overdrawn.Sign() != 0 {
				t.Errorf("biz's credit: returned %s, paid %s, overdrawn %s; the NT$300 returned was invoiced, then used",
					k.returned.Decimal(), k.paid.Decimal(), k.overdrawn.Decimal())
			}

			// Folded again from the first event, the history counts the same.
			live, err := e.svc.Reconcile(e.ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			again, err := e.newService().Reconcile(e.ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(again.Totals) != fmt.Sprint(live.Totals) || len(again.Rows) != len(live.Rows) {
				t.Errorf("a fresh reader reconciles to %+v, the live service to %+v", again.Totals, live.Totals)
			}
			f, err := projections.Replay(e.ctx, e.store, nil)
			if err != nil {
				t.Fatal(err)
			}
			for m, n := range byMonth {
				if f.InvoiceTotals[m] != n {
					t.Errorf("%s: replay's net invoiced NT$%d, the ledger's NT$%d", m, f.InvoiceTotals[m], n)
				}
			}
		})
	}
}

// credit is a copy of the ledger's record of what an account's balance is
// made of; ok is false while it has none.
func (e *env) credit(acct string) (c credit, ok bool) {
	e.t.Helper()
	if err := e.svc.Sync(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	e.svc.mu.Lock()
	defer e.svc.mu.Unlock()
	a := e.svc.l.accounts[acct]
	if a == nil || a.credit == nil {
		return c, false
	}
	return *a.credit, true
}

// Prepaid usage beyond all credit is owed, and the next payment, invoiced,
// pays it; the account may move to a monthly plan owing it. Money finance
// then returns for an allowance on a paid invoice pays it as that payment
// would: it is money received, not credit given, so what of it pays the
// prepaid usage is invoiced then, as a top-up, and the rest is returned
// money. A Business account billed NT$1,000 that pays it, moves to Starter
// and uses NT$200 beyond its credit, moves back, is allowed NT$300 and
// credited NT$300, then uses NT$100 (on December's invoice) is invoiced
// NT$1,000 net: what it paid. And nothing is left owed back.
func TestReturnedMoneyPayingPrepaidUsageIsInvoiced(t *testing.T) {
	for _, c := range []struct {
		name string
		plan domain.Plan // the plan when credited
	}{{"moved back to Business", domain.PlanBusiness}, {"still on Starter", domain.PlanStarter}} {
		t.Run(c.name, func(t *testing.T) {
			e := businessWithUsage(t, "1000")
			inv := e.closeNovemberOne()
			e.topUpRaw("biz", "pay-1", "1000", taipei(2026, 12, 3, 9, 0))
			e.invoiceTopUps()
			e.clock.Set(taipei(2026, 12, 4, 9, 0))
			if err := e.cmd.ChangePlan(e.ctx, domain.PlanChanged{AccountID: "biz", Plan: domain.PlanStarter}); err != nil {
				t.Fatal(err)
			}
			e.use("biz", "gpt-4o", taipei(2026, 12, 5, 10, 0), 1000, 100, "200")
			if c.plan == domain.PlanBusiness {
				e.moveToBusiness("biz", taipei(2026, 12, 6, 9, 0))
			}
			e.clock.Set(taipei(2026, 12, 7, 9, 0))
			if _, err := e.svc.IssueAllowance(e.ctx, inv.Number, 300, "服務中斷補償"); err != nil {
				t.Fatal(err)
			}
			if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "biz", Amount: dec("300"), Reason: "allowance " + inv.Number}); err != nil {
				t.Fatal(err)
			}
			e.invoiceTopUps()
			e.use("biz", "gpt-4o", taipei(2026, 12, 10, 10, 0), 1000, 100, "100")
			e.clock.Set(taipei(2027, 1, 2, 9, 0))
			e.assign("2027-01", "AB", 22345000, 22345999)
			if _, err := e.svc.Close(e.ctx, "2026-12", CloseOptions{}); err != nil {
				t.Fatal(err)
			}
			e.invoiceTopUps()
			net := int64(0)
			for _, i := range e.svc.Invoices("", "biz") {
				net += i.Net()
			}
			if net != 1000 {
				t.Errorf("biz's invoices net NT$%d; it paid NT$1,000 and used NT$1,300, NT$300 of it allowed", net)
			}
			e.nothingPending("")
			e.svc.mu.Lock()
			d := e.svc.l.allowed["biz"]
			e.svc.mu.Unlock()
			if d == nil || d.claim.Sign() != 0 {
				t.Errorf("biz is still owed back money finance credited: %+v", d)
			}
		})
	}
}
