package invoicing

import (
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// The invoice of money returned for an allowance, issued when the account
// moves to a prepaid plan, names who issued it (serve's own work), as
// every invoice does; so does its special void (專案作廢) past the filing
// deadline (finance at the CLI), and the invoice that bills the money
// again after it.
func TestReturnedMoneysInvoiceAndItsSpecialVoidNameTheirActor(t *testing.T) {
	e := businessWithUsage(t, "1000")
	inv := e.closeNovemberOne()
	e.topUpRaw("biz", "pay-1", "1000", taipei(2026, 12, 3, 9, 0))
	e.invoiceTopUps()
	clerk := domain.Actor{Kind: domain.ActorStaff, ID: "stf_clerk", Role: "finance"}
	serve := domain.Actor{Kind: domain.ActorSystem, ID: "serve"}
	ops := domain.Actor{Kind: domain.ActorCLI, ID: "ops"}
	e.clock.Set(taipei(2026, 12, 4, 9, 0))
	if _, err := e.svc.IssueAllowance(domain.WithActor(e.ctx, clerk), inv.Number, 300, "服務中斷補償"); err != nil {
		t.Fatal(err)
	}
	if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "biz", Amount: dec("300"), Reason: "allowance " + inv.Number}); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(taipei(2026, 12, 5, 9, 0))
	if err := e.cmd.ChangePlan(e.ctx, domain.PlanChanged{AccountID: "biz", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.InvoiceTopUps(domain.WithActor(e.ctx, serve)); err != nil {
		t.Fatal(err)
	}
	var returned Invoice
	for _, i := range e.svc.Invoices("", "biz") {
		if strings.HasPrefix(i.TopUpRef, "returned-") {
			returned = i
		}
	}
	if returned.Total != 300 {
		t.Fatalf("the invoice of the NT$300 returned at the move: %+v", returned)
	}
	// Past January 15th, the November–December period is filed: only
	// the tax office's special void takes the invoice back.
	e.clock.Set(taipei(2027, 2, 3, 10, 0))
	e.assign("2027-01", "AB", 22345000, 22345999)
	if _, err := e.svc.SpecialVoid(domain.WithActor(e.ctx, ops), InvoiceRef(returned.Period, returned.Number), "買受人錯誤",
		domain.SpecialVoid{Approval: "北區國稅審字第1160001234號", ApprovedOn: "2027-02-02"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.InvoiceTopUps(domain.WithActor(e.ctx, serve)); err != nil {
		t.Fatal(err)
	}

	evs, err := e.store.ReadAll(e.ctx, eventstore.Start, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var issued []domain.Actor
	voided := false
	for _, ev := range evs {
		b, err := domain.Decode(ev.Type, ev.SchemaVersion, ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		switch v := b.(type) {
		case *domain.InvoiceIssued:
			if strings.HasPrefix(v.TopUpRef, "returned-") {
				issued = append(issued, v.Actor)
			}
		case *domain.InvoiceVoided:
			voided = true
			if v.Number != returned.Number || v.Special == nil || v.Actor != ops {
				t.Errorf("the special void of %s: %+v, want one by %+v", returned.Number, *v, ops)
			}
		}
	}
	if len(issued) != 2 || issued[0] != serve || issued[1] != serve || !voided {
		t.Fatalf("the invoices of the money returned name %+v (voided: %v); want two by %+v and a special void", issued, voided, serve)
	}
}
