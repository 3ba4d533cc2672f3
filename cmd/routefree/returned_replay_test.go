package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing"
)

// Money returned for an allowance on a paid invoice, still held when
// finance moves the account to a prepaid plan, is invoiced as a top-up
// paid at the move, by the commands finance runs: `invoices allowance`,
// `credits adjust`, `accounts plan` (which says so), `invoices topups`.
// `replay`, folding the history from its first event, prints the live
// reconciliation and the same net invoiced: NT$1,000 billed, NT$300
// allowed, NT$300 invoiced at the move, what the customer paid.
func TestReplayInvoicesReturnedMoneyAtAMoveToPrepaidAsTheLiveServiceDoes(t *testing.T) {
	h := newLedgerHistory(t)
	ctx, store, svc := h.ctx, h.store, h.svc
	if _, err := h.cmds.OpenAccount(ctx, domain.AccountOpened{AccountID: "acme", Organisation: "艾克米股份有限公司", TaxID: "22099131",
		Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	lastMonth := time.Date(h.now.Year(), h.now.Month(), 1, 0, 0, 0, 0, h.now.Location()).AddDate(0, -1, 0)
	h.use("acme", lastMonth.Add(time.Hour), "1000")
	rep, err := svc.Close(ctx, lastMonth.Format("2006-01"), invoicing.CloseOptions{})
	if err != nil || len(rep.Issued) != 1 {
		t.Fatalf("close: %+v %v", rep, err)
	}
	billed := rep.Issued[0]
	pay := &domain.CreditsToppedUp{AccountID: "acme", Amount: decimal.NewFromInt(1000), Method: domain.MethodBankTransfer, Reference: "TX-1"}
	d, err := commands.Event(domain.EventID(domain.TypeCreditsToppedUp, "acme", "TX-1"), time.Now(), pay)
	if err == nil {
		_, err = store.Append(ctx, domain.TopUpStream("acme"), eventstore.Any(), d)
	}
	if err != nil {
		t.Fatal(err)
	}

	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+h.dir)
	runCLI(t, env, "invoices", "allowance", "--number", billed.Number, "--amount", "300", "--reason", "服務中斷補償")
	runCLI(t, env, "credits", "adjust", "--account", "acme", "--amount", "300", "--reason", "allowance "+billed.Number)
	// The move says what it invoices, and what to run for it.
	if out := runCLI(t, env, "accounts", "plan", "--account", "acme", "--plan", "starter"); !strings.Contains(out,
		"NT$300 returned to acme for allowances on invoices it had paid is now prepaid credit, invoiced as a top-up paid now") ||
		!strings.Contains(out, "run: routefree invoices topups") {
		t.Errorf("accounts plan does not say that the money returned is invoiced:\n%s", out)
	}
	runCLI(t, env, "invoices", "topups")
	h.use("acme", time.Now(), "300") // prepaid: paid by the credit the move invoiced

	live, err := svc.Reconcile(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	net := int64(0)
	var atMove []invoicing.Invoice
	for _, inv := range svc.Invoices("", "acme") {
		net += inv.Net()
		if inv.TopUpRef != "" {
			atMove = append(atMove, inv)
		}
	}
	if net != 1000 || len(atMove) != 1 || atMove[0].Total != 300 || !strings.HasPrefix(atMove[0].TopUpRef, "returned-") {
		t.Fatalf("acme's invoices net NT$%d, top-up invoices %+v; want NT$1,000 net, NT$300 of it invoiced at the move", net, atMove)
	}
	if !live.Totals.Pending.IsZero() {
		t.Fatalf("pending after the top-up invoice: %+v", live.Totals)
	}
	store.Close()
	var want bytes.Buffer
	if err := live.WriteTotals(&want); err != nil {
		t.Fatal(err)
	}
	replay := runCLI(t, env, "replay")
	if !strings.Contains(replay, want.String()) {
		t.Fatalf("replay does not print the live reconciliation:\n%s\nwant:\n%s", replay, want.String())
	}
	if !regexp.MustCompile(`(?m)^net NTD +1000$`).MatchString(replay) {
		t.Errorf("replay's net NTD is not NT$1,000:\n%s", replay)
	}
}
