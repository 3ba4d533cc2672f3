package invoicing

import (
	"testing"

	"github.com/routefree/routefree/domain"
)

// A top-up invoice issued after midnight names the month its payment was
// made in, the month it counts in, so that a reader of the invoice alone
// (the invoices read model, an export) needs no list of the payments
// waiting for their invoices.
func TestATopUpInvoiceNamesTheMonthOfItsPayment(t *testing.T) {
	e := newEnv(t, taipei(2026, 3, 31, 23, 59))
	e.assign("2026-03", "AB", 1, 99)
	e.open("eom", "月底儲值股份有限公司", "", domain.PlanStarter)
	if _, err := e.cmd.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "eom", Amount: dec("1000"), Method: domain.MethodBankTransfer, Reference: "TX-0331"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(taipei(2026, 4, 1, 0, 1))
	if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
	invs := e.svc.Invoices("", "eom")
	if len(invs) != 1 {
		t.Fatalf("%d invoices, want 1", len(invs))
	}
	if got := invs[0].IssuedAt.In(taipei(2026, 4, 1, 0, 0).Location()).Format("2006-01"); got != "2026-04" {
		t.Fatalf("issued in %s, want after midnight", got)
	}
	evs, err := e.store.ReadStream(e.ctx, domain.InvoiceRangeStream(invs[0].Period), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var issued *domain.InvoiceIssued
	for _, ev := range evs {
		if ev.Type == domain.TypeInvoiceIssued {
			d, err := domain.Decode(ev.Type, ev.SchemaVersion, ev.Data)
			if err != nil {
				t.Fatal(err)
			}
			issued = d.(*domain.InvoiceIssued)
		}
	}
	if issued == nil || issued.Number != invs[0].Number {
		t.Fatalf("no event of invoice %s in its period's stream", invs[0].Number)
	}
	if issued.PaidMonth != "2026-03" || issued.Month != "" {
		t.Fatalf("the invoice's event names paid month %q and billing month %q, want 2026-03 and none", issued.PaidMonth, issued.Month)
	}
}
