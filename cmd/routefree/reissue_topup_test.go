package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing/twrules"
	"github.com/routefree/routefree/projections"
)

// A top-up invoice voided with serve stopped, after a later payment came in
// and before it was invoiced, is re-issued by `invoices topups` for the
// payment it billed alone, in that payment's month; the later payment gets
// an invoice of its own, in its month. Both invoices bore the two payments
// together, counted in the later month: last month's payment moved in the
// reconciliation, the dashboard and `replay`.
func TestAReissuedTopUpInvoiceBillsOnlyWhatTheVoidedOneBilled(t *testing.T) {
	h := newLedgerHistory(t)
	ctx, store, svc := h.ctx, h.store, h.svc
	thisMonth := time.Date(h.now.Year(), h.now.Month(), 1, 0, 0, 0, 0, twrules.Taipei)
	lastMonth := thisMonth.AddDate(0, -1, 0)
	if _, err := h.cmds.OpenAccount(ctx, domain.AccountOpened{AccountID: "pre", Organisation: "小商店", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	paid := func(ref, amount string, at time.Time) {
		t.Helper()
		ev := &domain.CreditsToppedUp{AccountID: "pre", Amount: decimal.RequireFromString(amount), Method: domain.MethodBankTransfer, Reference: ref}
		d, err := commands.Event(domain.EventID(domain.TypeCreditsToppedUp, "pre", ref), at, ev)
		if err == nil {
			_, err = store.Append(ctx, domain.TopUpStream("pre"), eventstore.Any(), d)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	paid("TX-EARLY", "1000", lastMonth.AddDate(0, 0, 9).Add(12*time.Hour))
	if err := svc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.InvoiceTopUps(ctx); err != nil {
		t.Fatal(err)
	}
	first := svc.Invoices("", "pre")
	if len(first) != 1 || first[0].Total != 1000 {
		t.Fatalf("the first payment's invoice: %+v", first)
	}
	voided := first[0].Number
	paid("TX-LATER", "500", time.Now()) // received while serve is stopped: no invoice yet

	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+h.dir)
	runCLI(t, env, "invoices", "void", "--number", voided, "--reason", "買受人錯誤")
	if out := runCLI(t, env, "invoices", "topups"); !strings.Contains(out, "issued 2 top-up invoices") {
		t.Errorf("invoices topups printed %q, want a re-issue and the later payment's invoice", out)
	}

	// The CLI wrote in another process: ask the store for its head, or the
	// void and re-issues may not be read yet.
	if err := svc.SyncLatest(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		total int64
		month string
	}{"TX-EARLY": {1000, lastMonth.Format("2006-01")}, "TX-LATER": {500, thisMonth.Format("2006-01")}}
	invs := svc.Invoices("", "pre")
	live := 0
	for _, inv := range invs {
		if inv.Voided {
			continue
		}
		live++
		w, ok := want[inv.TopUpRef]
		if !ok || len(inv.TopUps) != 1 || inv.Total != w.total || svc.InvoiceMonth(inv) != w.month {
			t.Errorf("invoice %s bills %v, NT$%d, counts in %s; want one payment per invoice, in its month: %+v",
				inv.Number, inv.TopUps, inv.Total, svc.InvoiceMonth(inv), want)
		}
		reissue := inv.TopUpRef == "TX-EARLY"
		if names := slices.Contains(inv.Replaces, voided); names != reissue {
			t.Errorf("invoice %s of %s names the voided %s: %v", inv.Number, inv.TopUpRef, voided, names)
		}
	}
	if live != 2 {
		t.Fatalf("%d live invoices, want the re-issue and the later payment's: %+v", live, invs)
	}

	rec, err := svc.Reconcile(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	net := map[string]int64{}
	for _, r := range rec.Rows {
		net[r.Month] += r.Net
		if !r.Pending.IsZero() || !r.Invoiced.Equal(r.Used) || decimal.NewFromInt(r.Net).Cmp(r.Invoiced) != 0 {
			t.Errorf("%s: used %s, invoiced %s, pending %s, net NT$%d", r.Month, r.Used, r.Invoiced, r.Pending, r.Net)
		}
	}
	// The read model behind the dashboard counts an invoice in the month
	// its event names (paid_month).
	figs, err := projections.Replay(ctx, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	replay := runCLI(t, env, "replay")
	got := invoicesByMonth(t, replay)
	for m, w := range want {
		if got[w.month] != w.total || net[w.month] != w.total || figs.InvoiceTotals[w.month] != w.total {
			t.Errorf("%s's month %s: replay NT$%d, reconciliation NT$%d, read model NT$%d; want NT$%d",
				m, w.month, got[w.month], net[w.month], figs.InvoiceTotals[w.month], w.total)
		}
	}
	if t.Failed() {
		t.Logf("replay:\n%s", regexp.MustCompile(`(?s)^.*\nINVOICES BY MONTH`).ReplaceAllString(replay, "INVOICES BY MONTH"))
	}
}
