package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
)

// An invoice whose period was filed long ago cannot be voided, but once
// the tax office approves a special void (專案作廢), finance records it:
// invoices void --special-approval --approved-on. It is then void as any
// void is: its usage pending again, its PDF saying so with the approval,
// its event naming the operator and the approval. Within the window the
// same flags are refused for a normal void.
func TestFinanceRecordsASpecialVoidFromTheCLI(t *testing.T) {
	h := newLedgerHistory(t)
	if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: "acme", Organisation: "艾克米股份有限公司",
		TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	// An invoice issued half a year ago, of the month before: its period
	// was filed months ago.
	then := h.now.AddDate(0, -6, 0)
	month := time.Date(then.Year(), then.Month()-1, 1, 0, 0, 0, 0, twrules.Taipei)
	h.use("acme", month.Add(48*time.Hour), "1000")
	past, err := invoicing.New(h.store, invoicing.Config{Seller: invoicing.DevSeller(), Now: func() time.Time { return then }})
	if err != nil {
		t.Fatal(err)
	}
	if err := past.AssignRange(h.ctx, twrules.PeriodOf(then).String(), "CD", 1000, 1999); err != nil {
		t.Fatal(err)
	}
	old, _, err := past.IssueMonthly(h.ctx, "acme", month.Format("2006-01"))
	if err != nil {
		t.Fatal(err)
	}
	dir := "--data-dir=" + h.dir
	today := h.now.Format(time.DateOnly)
	approval := "北區國稅審字第1160001234號"

	refusedCLI(t, "--special-approval", "invoices", "void", "--number", old.Number, "--reason", "買受人錯誤", dir)
	refusedCLI(t, "--special-approval and --approved-on go together", "invoices", "void", "--number", old.Number,
		"--reason", "買受人錯誤", "--approved-on", today, dir)
	refusedCLI(t, "control character", "invoices", "void", "--number", old.Number, "--reason", "買受人錯誤",
		"--special-approval", "審字\x1b第1號", "--approved-on", today, dir)
	refusedCLI(t, "at most 60 characters", "invoices", "void", "--number", old.Number, "--reason", "買受人錯誤",
		"--special-approval", strings.Repeat("字", 61), "--approved-on", today, dir)
	refusedCLI(t, "want YYYY-MM-DD", "invoices", "void", "--number", old.Number, "--reason", "買受人錯誤",
		"--special-approval", approval, "--approved-on", "yesterday", dir)

	out := mustCLI(t, "invoices", "void", "--number", old.Number, "--reason", "買受人錯誤",
		"--special-approval", approval, "--approved-on", today, dir)
	if !strings.Contains(out, "voided "+twrules.PrintedNumber(old.Number)) || !strings.Contains(out, "special void (專案作廢) approved on "+today+": "+approval) ||
		!strings.Contains(out, "routefree invoices issue --account acme --month "+month.Format("2006-01")) {
		t.Fatalf("invoices void --special-approval printed:\n%s", out)
	}
	var rec struct {
		Totals struct{ Used, Invoiced, Pending string } `json:"totals"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "invoices", "reconcile", "--month", month.Format("2006-01"), "--json", dir)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Totals.Used != "1000" || rec.Totals.Invoiced != "0" || rec.Totals.Pending != "1000" {
		t.Fatalf("after the special void: %+v", rec.Totals)
	}
	pdf := filepath.Join(h.dir, "voided.pdf")
	mustCLI(t, "invoices", "pdf", "--number", old.Number, "--out", pdf, dir)
	text := pdfFileText(t, pdf)
	for _, w := range []string{"本發票已作廢", "買受人錯誤", approval, today} {
		if !strings.Contains(text, w) {
			t.Errorf("the voided PDF lacks %q", w)
		}
	}
	found := false
	for _, e := range exportAll(t, "--data-dir", h.dir) {
		if e.Type != domain.TypeInvoiceVoided {
			continue
		}
		found = true
		var v domain.InvoiceVoided
		if err := json.Unmarshal(e.Data, &v); err != nil {
			t.Fatal(err)
		}
		if e.Actor == nil || e.Actor.Kind != "cli" || v.Special == nil || v.Special.Approval != approval || v.Special.ApprovedOn != today {
			t.Fatalf("the special void's event: actor %+v, %s", e.Actor, e.Data)
		}
	}
	if !found {
		t.Fatal("no void recorded")
	}

	// An invoice issued now, of last month: the normal void is the way.
	last := time.Date(h.now.Year(), h.now.Month()-1, 1, 0, 0, 0, 0, twrules.Taipei)
	if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: "beta", Organisation: "貝塔股份有限公司",
		TaxID: "04595257", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	h.use("beta", last.Add(48*time.Hour), "500")
	out = mustCLI(t, "invoices", "close", "--month", last.Format("2006-01"), dir)
	current := strings.ReplaceAll(regexp.MustCompile(`AB-\d{8}`).FindString(out), "-", "")
	if current == "" {
		t.Fatalf("no invoice of last month:\n%s", out)
	}
	refusedCLI(t, "can still be voided", "invoices", "void", "--number", current, "--reason", "買受人錯誤",
		"--special-approval", approval, "--approved-on", today, dir)
}
