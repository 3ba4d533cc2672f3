package main

import (
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
)

// The reconciliation's printed figures add up as printed: with usage of
// NT$12.61255 invoiced and NT$0.00019 more after the close, rounding each
// total to four places apart would print used 12.6127, invoiced 12.6126
// and pending 0.0002.
func TestReplayReconciliationFiguresAddUpAsPrinted(t *testing.T) {
	h := newLedgerHistory(t)
	lastMonth := time.Date(h.now.Year(), h.now.Month(), 1, 0, 0, 0, 0, twrules.Taipei).AddDate(0, -1, 0)
	if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: "acme", Organisation: "艾克米股份有限公司", TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	h.use("acme", lastMonth.Add(time.Hour), "12.61255")
	if rep, err := h.svc.Close(h.ctx, lastMonth.Format("2006-01"), invoicing.CloseOptions{}); err != nil || len(rep.Issued) != 1 {
		t.Fatalf("close: %+v %v", rep, err)
	}
	h.use("acme", lastMonth.Add(2*time.Hour), "0.00019") // after the close: pending
	h.store.Close()

	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+h.dir)
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
