package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// `invoices allowance --once KEY` run again (its first run cut off after it
// recorded, the operator unsure) issues nothing more and says which
// allowance the key issued; the key with another amount is refused naming
// it. Without --once, a second run would allow the invoice twice.
func TestCLIAllowanceOnceIsIssuedOnce(t *testing.T) {
	h := newLedgerHistory(t)
	last := time.Date(h.now.Year(), h.now.Month()-1, 1, 0, 0, 0, 0, twrules.Taipei)
	if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: "acme", Organisation: "艾克米股份有限公司",
		TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	h.use("acme", last.Add(48*time.Hour), "1000")
	dir := "--data-dir=" + h.dir
	number := strings.ReplaceAll(regexp.MustCompile(`AB-\d{8}`).FindString(mustCLI(t, "invoices", "close", "--month", last.Format("2006-01"), dir)), "-", "")
	if number == "" {
		t.Fatal("the close issued no invoice")
	}
	allow := func(amount string) []string {
		return []string{"invoices", "allowance", "--number", number, "--amount", amount, "--reason", "服務中斷補償", "--once", "ticket-42", dir}
	}
	first := mustCLI(t, allow("300")...)
	al := regexp.MustCompile(`allowance (\S+) on`).FindStringSubmatch(first)
	if al == nil || !strings.Contains(first, "bills NT$700 now") {
		t.Fatalf("first run printed:\n%s", first)
	}
	again := mustCLI(t, allow("300")...)
	if !strings.Contains(again, "already issued allowance "+al[1]) || !strings.Contains(again, "nothing more") || !strings.Contains(again, "bills NT$700 now") {
		t.Fatalf("the run again printed:\n%s", again)
	}
	refusedCLI(t, "already issued allowance "+al[1], allow("200")...)
	if out := mustCLI(t, "invoices", "list", "--account", "acme", dir); !strings.Contains(out, "700") {
		t.Fatalf("invoices list after the runs:\n%s", out)
	}
}
