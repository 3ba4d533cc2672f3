package invoicing

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// Two top-up invoices voided while no top-up invoicing ran (a CLI void with
// serve stopped) are re-issued one by one, each billing its own payment in
// its own month, also when re-issuing either alone against the live
// invoices would come under NT$1. With payments of NT$1.5 (October), 1.3
// and 0.3 (November) invoiced NT$1 each, and the first two voided, the
// third's live invoice charges NT$1 for 0.3: each re-issue alone came to
// NT$0, so one invoice billed both payments, counted in November, and
// October's payment moved to November.
func TestVoidsWaitingTogetherAreReissuedOneByOne(t *testing.T) {
	e := newEnv(t, taipei(2026, 10, 20, 10, 0))
	e.assign("2026-09", "AB", 1, 99)
	e.assign("2026-11", "AB", 100, 199)
	e.open("pre", "小商店", "", domain.PlanStarter)
	pay := func(ref, amount string) { t.Helper(); e.payFraction("pre", ref, amount, true) }
	pay("TX-1", "1.5")
	e.clock.Set(taipei(2026, 11, 5, 10, 0))
	pay("TX-2", "1.3")
	e.clock.Set(taipei(2026, 11, 6, 10, 0))
	pay("TX-3", "0.3")
	byRef := map[string]Invoice{}
	for _, inv := range e.svc.Invoices("", "pre") {
		if len(inv.TopUps) != 1 || inv.Total != 1 {
			t.Fatalf("invoice %s bills %v for NT$%d, want one payment for NT$1 each", inv.Number, inv.TopUps, inv.Total)
		}
		byRef[inv.TopUps[0]] = inv
	}
	if len(byRef) != 3 {
		t.Fatalf("%d invoices, want one for each payment", len(byRef))
	}
	e.clock.Set(taipei(2026, 11, 7, 10, 0))
	for _, ref := range []string{"TX-1", "TX-2"} {
		inv := byRef[ref]
		if _, err := e.svc.Void(e.ctx, InvoiceRef(inv.Period, inv.Number), "買受人錯誤"); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
	var live []Invoice
	for _, inv := range e.svc.Invoices("", "pre") {
		if !inv.Voided {
			live = append(live, inv)
		}
	}
	if len(live) != 3 {
		t.Fatalf("%d live invoices, want the third payment's and a re-issue of each voided one: %+v", len(live), live)
	}
	total := int64(0)
	for _, inv := range live {
		total += inv.Total
		if len(inv.TopUps) != 1 {
			t.Errorf("invoice %s bills %v (replacing %v), want one payment", inv.Number, inv.TopUps, inv.Replaces)
			continue
		}
		ref := inv.TopUps[0]
		if ref != "TX-3" && !slices.Equal(inv.Replaces, []string{byRef[ref].Number}) {
			t.Errorf("invoice %s bills %s and replaces %v, want %s", inv.Number, ref, inv.Replaces, byRef[ref].Number)
		}
		if want := map[string]string{"TX-1": "2026-10", "TX-2": "2026-11", "TX-3": "2026-11"}[ref]; e.svc.InvoiceMonth(inv) != want {
			t.Errorf("invoice %s of %s counts in %s, want %s", inv.Number, ref, e.svc.InvoiceMonth(inv), want)
		}
	}
	// NT$3.1 received: NT$3 invoiced, 0.1 carried.
	if total != 3 {
		t.Errorf("live invoices charge NT$%d, want 3", total)
	}
	rec, err := e.svc.Reconcile(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	net := map[string]int64{"2026-10": 1, "2026-11": 2}
	for _, r := range rec.Rows {
		if r.Net != net[r.Month] || !r.Invoiced.Add(r.Pending).Equal(r.Used) {
			t.Errorf("%s: used %s, invoiced %s, pending %s (%s), net NT$%d; want net NT$%d", r.Month, r.Used, r.Invoiced, r.Pending, r.Reason, r.Net, net[r.Month])
		}
		if r.Month == "2026-10" && !r.Pending.IsZero() {
			t.Errorf("October's payment is pending NT$%s (%s) after its re-issue", r.Pending, r.Reason)
		}
	}
}

// payFraction records a payment of an amount that the door would refuse
// (a fraction of NT$1, as older history may hold) and, when invoice is
// set, invoices the top-ups due as serve does at once.
func (e *env) payFraction(acct, ref, amount string, invoice bool) {
	e.t.Helper()
	tu := domain.CreditsToppedUp{AccountID: acct, Amount: dec(amount), Method: domain.MethodCard, Reference: ref}
	d, err := commands.Event(domain.EventID(domain.TypeCreditsToppedUp, acct, ref), e.clock.Now(), &tu)
	if err == nil {
		_, err = e.store.Append(e.ctx, domain.TopUpStream(acct), eventstore.Any(), d)
	}
	if err == nil {
		err = e.svc.Sync(e.ctx)
	}
	if err == nil && invoice {
		err = e.svc.InvoiceTopUps(e.ctx)
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

// A re-issue charges what the invoice it replaces charged. Payments of
// NT$1.67, 1.3 and 0.3 in October and 1.9 and 1.3 in November are invoiced
// NT$1, 1, 1, 2 and 1; then November's 1.3 and October's 0.3 are voided
// with serve stopped, and NT$0.7 is paid. The first re-issue charged NT$2
// for its 1.3 (the NT$1 that the 0.3's void freed), which left the 0.3
// under NT$1: it was billed with the NT$0.7, in November.
func TestAReissueChargesWhatTheVoidedInvoiceCharged(t *testing.T) {
	e := newEnv(t, taipei(2026, 10, 20, 10, 0))
	e.assign("2026-09", "AB", 1, 99)
	e.assign("2026-11", "AB", 100, 199)
	e.open("pre", "小商店", "", domain.PlanStarter)
	for _, p := range []struct{ ref, amount string }{{"X", "1.67"}, {"Y", "1.3"}, {"Z", "0.3"}} {
		e.payFraction("pre", p.ref, p.amount, true)
	}
	e.clock.Set(taipei(2026, 11, 2, 10, 0))
	for _, p := range []struct{ ref, amount string }{{"W", "1.9"}, {"V", "1.3"}} {
		e.payFraction("pre", p.ref, p.amount, true)
	}
	charged := map[string]int64{}
	byRef := map[string]Invoice{}
	for _, inv := range e.svc.Invoices("", "pre") {
		charged[inv.TopUpRef], byRef[inv.TopUpRef] = inv.Total, inv
	}
	if want := map[string]int64{"X": 1, "Y": 1, "Z": 1, "W": 2, "V": 1}; !maps.Equal(charged, want) {
		t.Fatalf("invoices charge %v, want %v", charged, want)
	}
	e.clock.Set(taipei(2026, 11, 5, 10, 0))
	for _, ref := range []string{"V", "Z"} {
		if _, err := e.svc.Void(e.ctx, InvoiceRef(byRef[ref].Period, byRef[ref].Number), "買受人錯誤"); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Set(taipei(2026, 11, 6, 10, 0))
	e.payFraction("pre", "P", "0.7", false)
	if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, inv := range e.svc.Invoices("", "pre") {
		if !inv.Voided && inv.Seq >= 5 {
			got[strings.Join(inv.TopUps, "+")] = fmt.Sprintf("NT$%d in %s replacing %v", inv.Total, e.svc.InvoiceMonth(inv), inv.Replaces)
		}
	}
	want := map[string]string{
		"V": fmt.Sprintf("NT$1 in 2026-11 replacing [%s]", byRef["V"].Number),
		"Z": fmt.Sprintf("NT$1 in 2026-10 replacing [%s]", byRef["Z"].Number),
		"P": "NT$1 in 2026-11 replacing []",
	}
	if !maps.Equal(got, want) {
		t.Errorf("after serve starts, the new invoices are %v; want %v", got, want)
	}
	rec, err := e.svc.Reconcile(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	net := map[string]int64{"2026-10": 3, "2026-11": 4}
	for _, r := range rec.Rows {
		if r.Net != net[r.Month] || !r.Invoiced.Add(r.Pending).Equal(r.Used) {
			t.Errorf("%s: used %s, invoiced %s, pending %s (%s), net NT$%d; want net NT$%d", r.Month, r.Used, r.Invoiced, r.Pending, r.Reason, r.Net, net[r.Month])
		}
	}
}
