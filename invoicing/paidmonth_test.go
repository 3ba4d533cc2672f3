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

// Payments received while no top-up invoicing ran (serve stopped), one on
// 31 October and one on 1 November, are invoiced once it runs as they
// would have been at once: an invoice each, counting in its payment's
// month. One invoice billed both and counted in November, so October's
// payment moved to November in the reconciliation and the dashboard.
func TestPaymentsWaitingTogetherForInvoicesGetAnInvoiceEach(t *testing.T) {
	e := newEnv(t, taipei(2026, 10, 31, 23, 0))
	e.assign("2026-09", "AB", 1, 99)
	e.assign("2026-11", "AB", 100, 199)
	e.open("pre", "小商店", "", domain.PlanStarter)
	pay := func(ref, amount string) {
		t.Helper()
		if _, err := e.cmd.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "pre", Amount: dec(amount), Method: domain.MethodBankTransfer, Reference: ref}); err != nil {
			t.Fatal(err)
		}
	}
	pay("TX-OCT", "1000")
	e.clock.Set(taipei(2026, 11, 1, 9, 0))
	pay("TX-NOV", "500")
	if err := e.svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{"TX-OCT": {"1000", "2026-10"}, "TX-NOV": {"500", "2026-11"}}
	invs := e.svc.Invoices("", "pre")
	for _, inv := range invs {
		w := want[inv.TopUpRef]
		if len(inv.TopUps) != 1 || dec(w[0]).IntPart() != inv.Total || e.svc.InvoiceMonth(inv) != w[1] {
			t.Errorf("invoice %s bills %v, NT$%d, in %s; want one payment each: %v", inv.Number, inv.TopUps, inv.Total, e.svc.InvoiceMonth(inv), want)
		}
	}
	if len(invs) != 2 {
		t.Fatalf("%d invoices, want one for each payment", len(invs))
	}
	rec, err := e.svc.Reconcile(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	net := map[string]int64{"2026-10": 1000, "2026-11": 500}
	for _, r := range rec.Rows {
		if !r.Pending.IsZero() || r.Net != net[r.Month] {
			t.Errorf("%s: pending %s, net NT$%d; want NT$%d invoiced", r.Month, r.Pending, r.Net, net[r.Month])
		}
	}
}
