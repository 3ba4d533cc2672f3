package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
)

// TestReplayPrintsTheLiveReconciliation builds a history with a long-lived
// invoicing service — an early issue, late usage, a close, a void, an
// allowance, fractional top-ups — and checks that `replay`, folding the
// history from the first event, prints the very totals the live service
// reports, and that `invoices reconcile` names what is pending.
func TestReplayPrintsTheLiveReconciliation(t *testing.T) {
	h := newLedgerHistory(t)
	ctx, store, cmds, svc, dir := h.ctx, h.store, h.cmds, h.svc, h.dir
	thisMonth := time.Date(h.now.Year(), h.now.Month(), 1, 0, 0, 0, 0, twrules.Taipei)
	lastMonth := thisMonth.AddDate(0, -1, 0)
	for _, a := range []domain.AccountOpened{
		{AccountID: "acme", Organisation: "艾克米股份有限公司", TaxID: "22099131", Plan: domain.PlanBusiness},
		{AccountID: "solo", Organisation: "王小明工作室", Plan: domain.PlanEnterprise},
		{AccountID: "shop", Organisation: "小商店", Plan: domain.PlanStarter},
	} {
		if _, err := cmds.OpenAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	use := h.use
	topUp := func(ref, amount string) {
		ev := &domain.CreditsToppedUp{AccountID: "shop", Amount: decimal.RequireFromString(amount), Method: domain.MethodCard, Reference: ref}
		d, err := commands.Event(domain.EventID(domain.TypeCreditsToppedUp, "shop", ref), time.Now(), ev)
		if err == nil {
			_, err = store.Append(ctx, domain.TopUpStream("shop"), eventstore.Any(), d)
		}
		if err == nil {
			err = svc.Sync(ctx)
		}
		if err == nil {
			err = svc.InvoiceTopUps(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	use("acme", lastMonth.Add(time.Hour), "35.2")
	use("solo", lastMonth.Add(2*time.Hour), "104.5")
	if _, _, err := svc.IssueMonthly(ctx, "acme", lastMonth.Format("2006-01")); err != nil {
		t.Fatal(err)
	}
	use("acme", lastMonth.Add(3*time.Hour), "8.19") // late: after the early issue
	rep, err := svc.Close(ctx, lastMonth.Format("2006-01"), invoicing.CloseOptions{})
	if err != nil || len(rep.Issued) != 2 {
		t.Fatalf("close: %+v %v", rep, err)
	}
	solo := rep.Issued[1]
	if _, err := svc.IssueAllowance(ctx, rep.Issued[0].Number, 3, "服務中斷"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Void(ctx, solo.Number, "買受人資料誤植"); err != nil {
		t.Fatal(err)
	}
	use("acme", lastMonth.Add(4*time.Hour), "0.05") // late: 43.44 still rounds to 43
	use("acme", thisMonth.Add(time.Hour), "12")     // the month still runs
	topUp("pay-1", "12300.5")
	topUp("pay-2", "0.4")

	live, err := svc.Reconcile(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	var want bytes.Buffer
	if err := live.WriteTotals(&want); err != nil {
		t.Fatal(err)
	}
	for reason, amount := range map[string]string{
		invoicing.ReasonVoided: "104.5", invoicing.ReasonUnderOneNTD: "0.05", invoicing.ReasonMonthOpen: "12", invoicing.ReasonFraction: "0.9",
	} {
		if got := live.Totals.PendingByReason[reason]; !got.Equal(decimal.RequireFromString(amount)) {
			t.Errorf("pending %q: %s, want %s (%v)", reason, got, amount, live.Totals.PendingByReason)
		}
	}
	if !live.Totals.Invoiced.Add(live.Totals.Pending).Equal(live.Totals.Used) {
		t.Fatalf("invoiced + pending ≠ used: %+v", live.Totals)
	}

	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+dir)
	replay := runCLI(t, env, "replay")
	if !strings.Contains(replay, want.String()) {
		t.Fatalf("replay does not print the live reconciliation:\n%s\nwant:\n%s", replay, want.String())
	}
	// And those are the history's figures, worked out by hand: used 35.2 +
	// 8.19 + 0.05 + 12 (acme) + 104.5 (solo) + 12,300.9 (top-ups);
	// invoiced 43.39 (acme: 35 + 8) + 12,300 (pay-1); allowance 3.
	for label, figure := range map[string]string{
		"used": "12460.8400", "invoiced": "12343.3900", "pending": "117.4500",
		"invoiced NTD": "12343", "allowances": "3", "net NTD": "12340",
	} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + ` +` + regexp.QuoteMeta(figure) + `$`).MatchString(replay) {
			t.Errorf("replay lacks %s %s:\n%s", label, figure, replay)
		}
	}
	out := runCLI(t, env, "invoices", "reconcile", "--month", lastMonth.Format("2006-01"))
	for _, w := range []string{"acme", "solo", invoicing.ReasonVoided, invoicing.ReasonUnderOneNTD} {
		if !strings.Contains(out, w) {
			t.Fatalf("reconcile lacks %q:\n%s", w, out)
		}
	}
}

// ledgerHistory is a store with a live invoicing service that has a number
// range for this period, for the tests of replay's and reconcile's output.
type ledgerHistory struct {
	t     *testing.T
	dir   string
	ctx   context.Context
	store *sqlite.Store
	cmds  *commands.Handler
	svc   *invoicing.Service
	now   time.Time // in Taipei
	seq   int
}

func newLedgerHistory(t *testing.T) *ledgerHistory {
	t.Helper()
	h := &ledgerHistory{t: t, dir: t.TempDir(), ctx: context.Background(), now: time.Now().In(twrules.Taipei)}
	var err error
	if h.store, err = sqlite.Open(filepath.Join(h.dir, "events.db"), sqlite.Options{}); err != nil {
		t.Fatal(err)
	}
	// Closed before the directory is removed: its watcher could otherwise
	// write the file's -wal beside the removal ("directory not empty").
	t.Cleanup(func() { _ = h.store.Close() })
	h.cmds = &commands.Handler{Store: h.store, Now: time.Now}
	if h.svc, err = invoicing.New(h.store, invoicing.Config{Seller: invoicing.DevSeller()}); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.AssignRange(h.ctx, twrules.PeriodOf(h.now).String(), "AB", 1000, 1999); err != nil {
		t.Fatal(err)
	}
	return h
}

// use records a completed request of acct that started at at.
func (h *ledgerHistory) use(acct string, at time.Time, cost string) {
	h.t.Helper()
	h.seq++
	id := fmt.Sprintf("req-%d", h.seq)
	rc := &domain.RequestCompleted{RequestID: id, AccountID: acct, Model: "gpt-4o", Usage: domain.Usage{Input: 10, Output: 10},
		Cost: decimal.RequireFromString(cost), StartedAt: at.UTC(), Outcome: domain.OutcomeCompleted}
	d, err := commands.Event(domain.EventID(domain.TypeRequestCompleted, id), time.Now(), rc)
	if err == nil {
		_, err = h.store.Append(h.ctx, domain.UsageStream(acct), eventstore.Any(), d)
	}
	if err != nil {
		h.t.Fatal(err)
	}
}
