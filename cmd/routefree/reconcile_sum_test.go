package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
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

// The reconciliation's printed figures add up as printed: with usage of
// NT$12.61255 invoiced and NT$0.00019 more after the close, rounding each
// total to four places apart would print used 12.6127, invoiced 12.6126
// and pending 0.0002.
func TestReplayReconciliationFiguresAddUpAsPrinted(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cmds := &commands.Handler{Store: store, Now: time.Now}
	svc, err := invoicing.New(store, invoicing.Config{Seller: invoicing.DevSeller()})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(twrules.Taipei)
	lastMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, twrules.Taipei).AddDate(0, -1, 0)
	if err := svc.AssignRange(ctx, twrules.PeriodOf(now).String(), "AB", 1000, 1999); err != nil {
		t.Fatal(err)
	}
	if _, err := cmds.OpenAccount(ctx, domain.AccountOpened{AccountID: "acme", Organisation: "艾克米股份有限公司", TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	use := func(id string, at time.Time, cost string) {
		rc := &domain.RequestCompleted{RequestID: id, AccountID: "acme", Model: "gpt-4o", Usage: domain.Usage{Input: 10, Output: 10},
			Cost: decimal.RequireFromString(cost), StartedAt: at.UTC(), Outcome: domain.OutcomeCompleted}
		d, err := commands.Event(domain.EventID(domain.TypeRequestCompleted, id), time.Now(), rc)
		if err == nil {
			_, err = store.Append(ctx, domain.UsageStream("acme"), eventstore.Any(), d)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	use("req-1", lastMonth.Add(time.Hour), "12.61255")
	if rep, err := svc.Close(ctx, lastMonth.Format("2006-01"), invoicing.CloseOptions{}); err != nil || len(rep.Issued) != 1 {
		t.Fatalf("close: %+v %v", rep, err)
	}
	use("req-2", lastMonth.Add(2*time.Hour), "0.00019") // after the close: pending
	store.Close()

	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+dir)
	replay := runCLI(t, env, "replay")
	figure := func(label string) decimal.Decimal {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + ` +(\S+)$`).FindStringSubmatch(replay)
		if m == nil {
			t.Fatalf("replay prints no %s:\n%s", label, replay)
		}
		return decimal.RequireFromString(m[1])
	}
	used, invoiced, pending := figure("used"), figure("invoiced"), figure("pending")
	if !invoiced.Add(pending).Equal(used) {
		t.Errorf("printed invoiced %s + pending %s ≠ used %s:\n%s", invoiced, pending, used, replay)
	}
	if !used.Equal(decimal.RequireFromString("12.61274")) {
		t.Errorf("printed used %s, want the history's 12.61274", used)
	}
	reasons := regexp.MustCompile(`(?m)^  pending +(\S+)  `).FindAllStringSubmatch(replay, -1)
	sum := decimal.Zero
	for _, r := range reasons {
		sum = sum.Add(decimal.RequireFromString(r[1]))
	}
	if len(reasons) == 0 || !sum.Equal(pending) {
		t.Errorf("pending by reason adds up to %s, pending printed %s:\n%s", sum, pending, replay)
	}

	// The per-account report's columns add up too.
	rows := runCLI(t, env, "invoices", "reconcile", "--month", lastMonth.Format("2006-01"))
	m := regexp.MustCompile(`(?m)^\S+ +acme +\S+ +(\S+) +(\S+) +(\S+) `).FindStringSubmatch(rows)
	if m == nil {
		t.Fatalf("no acme row:\n%s", rows)
	}
	u, i, p := decimal.RequireFromString(m[1]), decimal.RequireFromString(m[2]), decimal.RequireFromString(m[3])
	if !i.Add(p).Equal(u) {
		t.Errorf("row: invoiced %s + pending %s ≠ used %s:\n%s", i, p, u, rows)
	}
}
