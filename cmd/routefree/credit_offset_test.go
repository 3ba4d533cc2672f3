package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// Goodwill credit given to a postpaid account whose monthly invoice is
// still owed does not forgive what the invoice bills: usage never draws it,
// it only lowers what the customer pays, and the invoice would bill NT$300
// that is never collected. `credits adjust` says so and names the
// allowance that forgives it, the reconciliation lists it until the
// allowance is issued, and the allowance, once issued, is paid by that
// credit: the customer pays NT$700, what the invoice then bills.
func TestCreditOnAnInvoiceStillOwedNamesTheAllowance(t *testing.T) {
	h := newLedgerHistory(t)
	dir := "--data-dir=" + h.dir
	number := businessBilled(t, h, "acme")

	// Credit given as a top-up by adjustment is credit given too.
	out := mustCLI(t, "credits", "topup", "--account", "acme", "--amount", "100", "--method", "adjustment", "--reference", "goodwill-1", dir)
	if next := "routefree invoices allowance --number " + number + " --amount 100 --reason"; !strings.Contains(out, next) {
		t.Fatalf("credits topup --method adjustment on an invoice still owed printed:\n%s\nwant the allowance to issue: %s …", out, next)
	}
	out = mustCLI(t, "credits", "adjust", "--account", "acme", "--amount", "200", "--reason", "goodwill", dir)
	next := "routefree invoices allowance --number " + number + " --amount 300 --reason"
	if !strings.Contains(out, "recorded: adjustment of NT$200") || !strings.Contains(out, next) {
		t.Fatalf("credits adjust on an invoice still owed printed:\n%s\nwant the allowance to issue: %s …", out, next)
	}
	rec := reconcileJSON(t, h.dir)
	if len(rec.Offsets) != 1 || rec.Offsets[0].AccountID != "acme" || rec.Offsets[0].ToAllow != 300 ||
		rec.Offsets[0].Owed != "1000" || !strings.Contains(rec.Offsets[0].Next, next) {
		t.Fatalf("the reconciliation's credit offsetting invoiced usage: %+v", rec.Offsets)
	}
	if text := mustCLI(t, "invoices", "reconcile", dir); !strings.Contains(text, next) {
		t.Fatalf("invoices reconcile does not name the allowance to issue:\n%s", text)
	}

	out = mustCLI(t, "invoices", "allowance", "--number", number, "--amount", "300", "--reason", "服務中斷補償", dir)
	allowance := regexp.MustCompile(`allowance (\S+) on`).FindStringSubmatch(out)
	if allowance == nil || !strings.Contains(out, "bills NT$700 now") {
		t.Fatalf("invoices allowance printed:\n%s", out)
	}
	if rec := reconcileJSON(t, h.dir); len(rec.Offsets) != 0 || rec.Totals.Net != 700 {
		t.Fatalf("after the allowance: offsets %+v, net NT$%d invoiced", rec.Offsets, rec.Totals.Net)
	}
	pdfPath := filepath.Join(h.dir, "allowance.pdf")
	mustCLI(t, "invoices", "pdf", "--allowance", allowance[1], "--out", pdfPath, dir)
	pdftest.MustContain(t, pdfFileText(t, pdfPath), allowance[1], "服務中斷補償", "286", "14")

	// The customer pays what the invoice bills, which settles the account:
	// nothing billed is left uncollected, nothing is invoiced again.
	mustCLI(t, "credits", "topup", "--account", "acme", "--amount", "700", "--method", "bank-transfer", "--reference", "TX-700", dir)
	mustCLI(t, "invoices", "topups", dir)
	if show := mustCLI(t, "accounts", "show", "--account", "acme", dir); !regexp.MustCompile(`balance\s*:?\s*(NT\$)?0(\.00)?\b`).MatchString(show) {
		t.Fatalf("after paying NT$700 the account shows:\n%s", show)
	}
	if list := mustCLI(t, "invoices", "list", "--account", "acme", dir); strings.Count(list, "AB") != 1 {
		t.Fatalf("paying the invoice invoiced it again:\n%s", list)
	}
}
