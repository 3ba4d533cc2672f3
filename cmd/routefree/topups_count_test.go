package main

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
)

// `invoices topups` says how many invoices it issued itself: those another
// process (serve, a second run of the command) issued while it ran are
// not counted as its own. Three runs at once said "issued 5", "issued 5"
// and "issued 1" of six invoices.
func TestInvoicesTopUpsCountsOnlyItsOwn(t *testing.T) {
	h := newLedgerHistory(t)
	for _, acct := range []string{"solo", "duo"} {
		if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: acct, Organisation: acct, Plan: domain.PlanStarter}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.cmds.TopUp(h.ctx, domain.CreditsToppedUp{AccountID: acct, Amount: decimal.NewFromInt(500), Method: domain.MethodBankTransfer, Reference: "TX-" + acct}); err != nil {
			t.Fatal(err)
		}
	}
	// This run has read the history, top-ups to invoice included...
	if err := h.svc.Sync(h.ctx); err != nil {
		t.Fatal(err)
	}
	// ...when another process invoices one account's.
	other, err := invoicing.New(h.store, invoicing.Config{Seller: invoicing.DevSeller()})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Sync(h.ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.IssueTopUp(h.ctx, "solo", "TX-solo"); err != nil {
		t.Fatal(err)
	}
	n, err := issueTopUps(h.ctx, h.svc)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(h.svc.Invoices("", "")); got != 2 {
		t.Fatalf("%d invoices after both; want one of each account", got)
	}
	if n != 1 {
		t.Fatalf("the run says it issued %d; it issued duo's alone", n)
	}
}
