package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// offsetReport is what a test reads of `invoices reconcile --json`.
type offsetReport struct {
	Rows []struct {
		AccountID string `json:"account_id"`
		Basis     string `json:"basis"`
		Used      string `json:"used"`
	} `json:"rows"`
	Totals struct {
		Net int64 `json:"net_ntd"`
	} `json:"totals"`
	Offsets []struct {
		AccountID string   `json:"account_id"`
		Owed      string   `json:"owed"`
		ToAllow   int64    `json:"to_allow_ntd"`
		Invoices  []string `json:"invoices"`
		Next      string   `json:"next"`
	} `json:"credit_offsets"`
}

func reconcileJSON(t *testing.T, dir string, args ...string) offsetReport {
	t.Helper()
	var rec offsetReport
	out := mustCLI(t, append([]string{"invoices", "reconcile", "--json", "--data-dir", dir}, args...)...)
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	return rec
}

// businessBilled opens a Business account, bills NT$1,000 of its usage of
// last month on a monthly invoice and returns the invoice's number.
func businessBilled(t *testing.T, h *ledgerHistory, acct string) string {
	t.Helper()
	last := time.Date(h.now.Year(), h.now.Month()-1, 1, 0, 0, 0, 0, twrules.Taipei)
	if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: acct, Organisation: "艾克米股份有限公司",
		TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	h.use(acct, last.Add(48*time.Hour), "1000")
	out := mustCLI(t, "invoices", "issue", "--account", acct, "--month", last.Format("2006-01"), "--data-dir", h.dir)
	number := regexp.MustCompile(`AB-\d{8}`).FindString(out)
	if number == "" {
		t.Fatalf("the issue printed no invoice:\n%s", out)
	}
	return strings.ReplaceAll(number, "-", "")
}

// Finance's two steps of a correction, the allowance and the credit, give
// the same documents in either order. Credit given first used to sit
// beside the allowed amount, still owed: the next payment paid that,
// leaving less paid credit, so the next month's usage was invoiced (NT$300)
// with the credit offsetting it, never collected.
func TestACreditBeforeItsAllowanceInvoicesAsOneAfterIt(t *testing.T) {
	h := newLedgerHistory(t)
	dir := "--data-dir=" + h.dir
	for _, acct := range []string{"allowfirst", "creditfirst"} {
		number := businessBilled(t, h, acct)
		allow := []string{"invoices", "allowance", "--number", number, "--amount", "300", "--reason", "服務中斷補償", dir}
		credit := []string{"credits", "adjust", "--account", acct, "--amount", "300", "--reason", "allowance", dir}
		if acct == "allowfirst" {
			mustCLI(t, allow...)
			mustCLI(t, credit...)
		} else {
			mustCLI(t, credit...)
			mustCLI(t, allow...)
		}
		mustCLI(t, "credits", "topup", "--account", acct, "--amount", "700", "--method", "bank-transfer", "--reference", acct+"-700", dir)
		mustCLI(t, "credits", "topup", "--account", acct, "--amount", "1000", "--method", "bank-transfer", "--reference", acct+"-1000", dir)
		h.use(acct, h.now, "1000") // the NT$1,000 paid ahead pays it
	}
	mustCLI(t, "invoices", "topups", dir)
	rec := reconcileJSON(t, h.dir, "--month", h.now.Format("2006-01"))
	for _, r := range rec.Rows {
		if r.Basis == "usage" {
			t.Errorf("%s: NT$%s of this month's usage to invoice, though paid for ahead", r.AccountID, r.Used)
		}
	}
	if len(rec.Offsets) != 0 {
		t.Errorf("credit offsetting invoiced usage: %+v", rec.Offsets)
	}
	for _, acct := range []string{"allowfirst", "creditfirst"} {
		list := mustCLI(t, "invoices", "list", "--account", acct, dir)
		top := regexp.MustCompile(`AB\d{8}\s+`+acct+`\s+\S+\s+(\d+)`).FindAllStringSubmatch(list, -1)
		if len(top) != 2 || top[0][1] != "1000" || top[1][1] != "1000" {
			t.Fatalf("%s's invoices:\n%s\nwant the month's NT$1,000 and the NT$1,000 paid ahead", acct, list)
		}
		for _, n := range regexp.MustCompile(`AB\d{8}`).FindAllString(list, -1) {
			p := filepath.Join(h.dir, acct+n+".pdf")
			mustCLI(t, "invoices", "pdf", "--number", n, "--out", p, dir)
			pdftest.MustContain(t, pdfFileText(t, p), "1,000")
		}
	}
}
