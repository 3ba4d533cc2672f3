package invoicing

import (
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// Every invoicing event names who caused it: the range, the invoice, its
// void and an allowance, each by the actor of the call's context.
func TestInvoicingEventsNameTheirActor(t *testing.T) {
	e := newEnv(t, taipei(2026, 12, 3, 10, 0))
	clerk := domain.Actor{Kind: domain.ActorStaff, ID: "stf_clerk", Role: "finance"}
	ctx := domain.WithActor(e.ctx, clerk)
	if err := e.svc.AssignRange(ctx, "2026-11", "AB", 1, 99); err != nil {
		t.Fatal(err)
	}
	e.open("corp", "艾克米股份有限公司", "22099131", domain.PlanBusiness)
	e.open("other", "其他股份有限公司", "04595257", domain.PlanBusiness)
	e.use("corp", "gpt-4o", taipei(2026, 11, 20, 10, 0), 10, 10, "2100")
	e.use("other", "gpt-4o", taipei(2026, 11, 21, 10, 0), 10, 10, "500")
	inv, _, err := e.svc.IssueMonthly(ctx, "corp", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.IssueAllowance(ctx, inv.Number, 100, "outage"); err != nil {
		t.Fatal(err)
	}
	other, _, err := e.svc.IssueMonthly(ctx, "other", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Void(domain.WithActor(e.ctx, domain.Actor{Kind: domain.ActorCLI, ID: "ops"}), other.Number, "wrong buyer"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SkipNumbers(ctx, "2026-11", "AB00000005", "issued before a restore"); err != nil {
		t.Fatal(err)
	}
	want := map[string]domain.Actor{
		domain.TypeInvoiceNumbersSkipped: clerk,
		domain.TypeInvoiceRangeSet:       clerk,
		domain.TypeInvoiceIssued:         clerk,
		domain.TypeAllowanceIssued:       clerk,
		domain.TypeInvoiceVoided:         {Kind: domain.ActorCLI, ID: "ops"},
	}
	evs, err := e.store.ReadAll(e.ctx, eventstore.Start, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		w, ok := want[ev.Type]
		if !ok {
			continue
		}
		delete(want, ev.Type)
		if a, _ := domain.ActorOf(ev.Type, ev.SchemaVersion, ev.Data); a != w {
			t.Errorf("%s: actor %+v, want %+v", ev.Type, a, w)
		}
	}
	if len(want) > 0 {
		t.Fatalf("no event of %v", want)
	}
}
