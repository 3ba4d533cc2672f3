package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
)

// A payment invoiced more than two months after it was received (no number
// range for so long) counts in its month of payment: `replay`'s invoices
// by month say so as the reconciliation does, month by month, beside an
// invoice issued at once and a monthly invoice of usage.
func TestReplayCountsALateInvoiceInItsPaymentMonthAsTheReconciliationDoes(t *testing.T) {
	h := newLedgerHistory(t)
	ctx, store, cmds, svc := h.ctx, h.store, h.cmds, h.svc
	thisMonth := time.Date(h.now.Year(), h.now.Month(), 1, 0, 0, 0, 0, twrules.Taipei)
	lastMonth := thisMonth.AddDate(0, -1, 0)
	paidAt := thisMonth.AddDate(0, -3, 9).Add(12 * time.Hour)
	for _, a := range []domain.AccountOpened{
		{AccountID: "acme", Organisation: "艾克米股份有限公司", TaxID: "22099131", Plan: domain.PlanBusiness},
		{AccountID: "late", Organisation: "晚開股份有限公司", Plan: domain.PlanStarter},
		{AccountID: "prompt", Organisation: "準時工作室", Plan: domain.PlanStarter},
	} {
		if _, err := cmds.OpenAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	paid := func(acct, ref string, at time.Time) {
		ev := &domain.CreditsToppedUp{AccountID: acct, Amount: decimal.NewFromInt(1000), Method: domain.MethodCard, Reference: ref}
		d, err := commands.Event(domain.EventID(domain.TypeCreditsToppedUp, acct, ref), at, ev)
		if err == nil {
			_, err = store.Append(ctx, domain.TopUpStream(acct), eventstore.Any(), d)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	h.use("acme", lastMonth.Add(time.Hour), "300")
	if rep, err := svc.Close(ctx, lastMonth.Format("2006-01"), invoicing.CloseOptions{}); err != nil || len(rep.Issued) != 1 {
		t.Fatalf("close: %+v %v", rep, err)
	}
	paid("late", "pay-late", paidAt) // invoiced only now, months later
	paid("prompt", "pay-prompt", time.Now())
	if err := svc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.InvoiceTopUps(ctx); err != nil {
		t.Fatal(err)
	}
	late := svc.Invoices("", "late")
	if len(late) != 1 || svc.InvoiceMonth(late[0]) != paidAt.Format("2006-01") || late[0].IssuedAt.Before(thisMonth) {
		t.Fatalf("the late invoice: %+v", late)
	}
	rec, err := svc.Reconcile(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{} // the reconciliation's net NTD by month
	for _, r := range rec.Rows {
		want[r.Month] += r.Net
	}
	if want[paidAt.Format("2006-01")] != 1000 || want[thisMonth.Format("2006-01")] != 1000 || want[lastMonth.Format("2006-01")] != 300 {
		t.Fatalf("the reconciliation's net by month: %v", want)
	}
	store.Close()

	replay := runCLI(t, append(os.Environ(), "ROUTEFREE_DATA_DIR="+h.dir), "replay")
	got := invoicesByMonth(t, replay)
	for m := range got {
		if _, ok := want[m]; !ok {
			want[m] = 0
		}
	}
	for m, n := range want {
		if got[m] != n {
			t.Errorf("replay's invoices of %s: NT$%d, the reconciliation's NT$%d", m, got[m], n)
		}
	}
	if t.Failed() {
		t.Logf("replay:\n%s", replay)
	}
}

// invoicesByMonth reads the INVOICES BY MONTH table that `replay` prints.
func invoicesByMonth(t *testing.T, replay string) map[string]int64 {
	t.Helper()
	_, table, ok := strings.Cut(replay, "\nINVOICES BY MONTH (net NTD)\n")
	if !ok {
		t.Fatalf("replay prints no invoices by month:\n%s", replay)
	}
	table, _, _ = strings.Cut(table, "\n\n")
	line := regexp.MustCompile(`^(\d{4}-\d{2}) +(-?\d+)$`)
	out := map[string]int64{}
	for _, l := range strings.Split(table, "\n")[1:] { // after the header
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("replay's invoices by month: line %q", l)
		}
		out[m[1]], _ = strconv.ParseInt(m[2], 10, 64)
	}
	return out
}
