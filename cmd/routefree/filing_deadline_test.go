package main

import (
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
)

// The September–October 2026 period was filed by Sunday 15 November,
// which moves to Monday the 16th (行政程序法 §48 IV). `invoices void` past
// it names Monday as the last void day, and a special void approved on
// that Monday, still inside the window, is refused; one approved on the
// Tuesday is recorded.
func TestCLINamesTheMondayAfterASundayFilingDeadline(t *testing.T) {
	h := newLedgerHistory(t)
	if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: "acme", Organisation: "艾克米股份有限公司",
		TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	h.use("acme", time.Date(2026, 9, 10, 10, 0, 0, 0, twrules.Taipei), "1000")
	then := time.Date(2026, 10, 1, 2, 0, 0, 0, twrules.Taipei)
	past, err := invoicing.New(h.store, invoicing.Config{Seller: invoicing.DevSeller(), Now: func() time.Time { return then }})
	if err != nil {
		t.Fatal(err)
	}
	if err := past.AssignRange(h.ctx, "2026-09", "CD", 1000, 1999); err != nil {
		t.Fatal(err)
	}
	inv, _, err := past.IssueMonthly(h.ctx, "acme", "2026-09")
	if err != nil || inv.Period != "2026-09" {
		t.Fatal(inv.Period, err)
	}
	dir := "--data-dir=" + h.dir
	code, _, errs := cli(t, "invoices", "void", "--number", inv.Number, "--reason", "買受人錯誤", dir)
	if code == 0 || !strings.Contains(errs, "2026-11-16") || strings.Contains(errs, "2026-11-15") {
		t.Fatalf("late void: exit %d, want the last void day 2026-11-16 named:\n%s", code, errs)
	}
	approval := "北區國稅審字第1150001234號"
	refusedCLI(t, "is not after", "invoices", "void", "--number", inv.Number, "--reason", "買受人錯誤",
		"--special-approval", approval, "--approved-on", "2026-11-16", dir)
	out := mustCLI(t, "invoices", "void", "--number", inv.Number, "--reason", "買受人錯誤",
		"--special-approval", approval, "--approved-on", "2026-11-17", dir)
	if !strings.Contains(out, "special void (專案作廢) approved on 2026-11-17") {
		t.Fatalf("invoices void --special-approval printed:\n%s", out)
	}
}
