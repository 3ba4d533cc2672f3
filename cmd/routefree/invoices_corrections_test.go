package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// Finance corrects an issued invoice from the command line as through the
// admin API: an allowance (printing its tax split and the credit to give),
// the invoice's void refused while the allowance is live (naming the
// command that voids it), the allowance's void, the invoice's void
// (naming the re-issue to run), the re-issue. Usage stays invoiced once:
// invoiced + pending = used after every step, and the voided and the new
// invoice read back from their PDFs.
func TestFinanceCorrectsAnInvoiceFromTheCLI(t *testing.T) {
	h := newLedgerHistory(t)
	last := time.Date(h.now.Year(), h.now.Month()-1, 1, 0, 0, 0, 0, twrules.Taipei)
	month := last.Format("2006-01")
	if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: "acme", Organisation: "艾克米股份有限公司",
		TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	h.use("acme", last.Add(48*time.Hour), "1000")
	dir := "--data-dir=" + h.dir
	out := mustCLI(t, "invoices", "close", "--month", month, dir)
	number := regexp.MustCompile(`AB-\d{8}`).FindString(out)
	if number == "" {
		t.Fatalf("close printed no invoice:\n%s", out)
	}
	number = strings.ReplaceAll(number, "-", "")
	reconciled := func(step string) {
		t.Helper()
		var rec struct {
			Totals struct{ Used, Invoiced, Pending string } `json:"totals"`
		}
		if err := json.Unmarshal([]byte(mustCLI(t, "invoices", "reconcile", "--month", month, "--json", dir)), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Totals.Used != "1000" || rec.Totals.Invoiced+"+"+rec.Totals.Pending != step {
			t.Fatalf("after %s: used %s, invoiced %s + pending %s, want %s", step, rec.Totals.Used, rec.Totals.Invoiced, rec.Totals.Pending, step)
		}
	}
	reconciled("1000+0")

	refusedCLI(t, "whole number", "invoices", "allowance", "--number", number, "--amount", "30.5", "--reason", "服務中斷補償", dir)
	refusedCLI(t, "--reason is required", "invoices", "allowance", "--number", number, "--amount", "30", dir)
	out = mustCLI(t, "invoices", "allowance", "--number", number, "--amount", "300", "--reason", "服務中斷補償", dir)
	allowance := regexp.MustCompile(`allowance (\S+) on`).FindStringSubmatch(out)
	if allowance == nil || !strings.Contains(out, "NT$300 (sales 286 + tax 14)") || !strings.Contains(out, "bills NT$700 now") ||
		!strings.Contains(out, "routefree credits adjust --account acme --amount 300") {
		t.Fatalf("invoices allowance printed:\n%s", out)
	}
	reconciled("1000+0") // an allowance takes off what the invoice bills net, not what it invoiced

	refusedCLI(t, "routefree invoices allowance-void", "invoices", "void", "--number", number, "--reason", "買受人錯誤", dir)
	out = mustCLI(t, "invoices", "allowance-void", "--number", allowance[1], "--reason", "金額有誤", dir)
	if !strings.Contains(out, "voided allowance "+allowance[1]) || !strings.Contains(out, "bills NT$1000 now") {
		t.Fatalf("invoices allowance-void printed:\n%s", out)
	}
	allowancePDF := filepath.Join(h.dir, "allowance.pdf")
	mustCLI(t, "invoices", "pdf", "--allowance", allowance[1], "--out", allowancePDF, dir)
	pdftest.MustContain(t, pdfFileText(t, allowancePDF), allowance[1], "服務中斷補償", "本折讓單已作廢", "金額有誤")
	refusedCLI(t, "give --number (an invoice) or --allowance", "invoices", "pdf", "--number", number, "--allowance", allowance[1], dir)

	out = mustCLI(t, "invoices", "void", "--number", number, "--reason", "買受人錯誤", dir)
	if !strings.Contains(out, "voided "+twrules.PrintedNumber(number)) || !strings.Contains(out, "routefree invoices issue --account acme --month "+month) {
		t.Fatalf("invoices void printed:\n%s", out)
	}
	reconciled("0+1000")
	refusedCLI(t, "routefree invoices issue --account acme --month "+month, "invoices", "allowance", "--number", number, "--amount", "10", "--reason", "x", dir)
	refusedCLI(t, "already voided", "invoices", "void", "--number", number, "--reason", "買受人錯誤", dir)

	out = mustCLI(t, "invoices", "issue", "--account", "acme", "--month", month, dir)
	reissued := regexp.MustCompile(`AB-\d{8}`).FindString(out)
	if reissued == "" || reissued == twrules.PrintedNumber(number) || !strings.Contains(out, "re-issue of voided "+number) {
		t.Fatalf("the re-issue printed:\n%s", out)
	}
	reconciled("1000+0")

	voidedPDF, newPDF := filepath.Join(h.dir, "voided.pdf"), filepath.Join(h.dir, "new.pdf")
	mustCLI(t, "invoices", "pdf", "--number", number, "--out", voidedPDF, dir)
	mustCLI(t, "invoices", "pdf", "--number", strings.ReplaceAll(reissued, "-", ""), "--out", newPDF, dir)
	pdftest.MustContain(t, pdfFileText(t, voidedPDF), "作廢", "買受人錯誤")
	pdftest.MustContain(t, pdfFileText(t, newPDF), "重開", number[:2]+"-"+number[2:], "1,000")

	// Each correction names the operator who made it.
	corrections := 0
	for _, e := range exportAll(t, "--data-dir", h.dir) {
		switch e.Type {
		case domain.TypeAllowanceIssued, domain.TypeAllowanceVoided, domain.TypeInvoiceVoided:
			corrections++
			if e.Actor == nil || e.Actor.Kind != "cli" {
				t.Errorf("%s recorded with actor %+v, want the CLI's operator", e.Type, e.Actor)
			}
		}
	}
	if corrections != 3 {
		t.Fatalf("%d corrections recorded, want 3", corrections)
	}
}

// Two operators' allowances on one invoice at once, from two processes on
// the same store: their total never exceeds the invoice's. Both fit, and
// each gets its own number; or one does, and the other is refused saying
// how much is left, recording nothing.
func TestAllowancesFromTwoProcessesStayWithinTheInvoice(t *testing.T) {
	h := newLedgerHistory(t)
	last := time.Date(h.now.Year(), h.now.Month()-1, 1, 0, 0, 0, 0, twrules.Taipei)
	if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: "acme", Organisation: "艾克米股份有限公司",
		TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	h.use("acme", last.Add(48*time.Hour), "1000")
	out := mustCLI(t, "invoices", "close", "--month", last.Format("2006-01"), "--data-dir", h.dir)
	number := strings.ReplaceAll(regexp.MustCompile(`AB-\d{8}`).FindString(out), "-", "")
	for round, amounts := range [][2]string{{"600", "600"}, {"200", "150"}} {
		outs := make([]string, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, amt := range amounts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := exec.Command(binary, "invoices", "allowance", "--number", number, "--amount", amt,
					"--reason", fmt.Sprintf("補償 %d-%d", round, i), "--data-dir", h.dir).CombinedOutput()
				outs[i], errs[i] = string(b), err
			}()
		}
		wg.Wait()
		ok, refusal := 0, ""
		for i := range outs {
			if errs[i] == nil {
				ok++
			} else {
				refusal = outs[i]
			}
		}
		if round == 0 && (ok != 1 || !strings.Contains(refusal, "exceeds what invoice "+number+" still bills (NT$400)")) {
			t.Fatalf("two allowances of NT$600 on NT$1000: %d recorded\n%s\n%s", ok, outs[0], outs[1])
		}
		if round == 1 && ok != 2 {
			t.Fatalf("two allowances that fit: %d recorded\n%s\n%s", ok, outs[0], outs[1])
		}
	}
	// The allowances are other processes' events: read the file to its end.
	if err := h.svc.SyncLatest(h.ctx); err != nil {
		t.Fatal(err)
	}
	inv, err := h.svc.Invoice(number)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	allowed := int64(0)
	for _, a := range inv.Allowances {
		if seen[a.Number] {
			t.Fatalf("allowance number %s given twice", a.Number)
		}
		seen[a.Number] = true
		allowed += a.Sales + a.Tax
	}
	if len(inv.Allowances) != 3 || allowed != 950 || inv.Net() != 50 {
		t.Fatalf("%d allowances of NT$%d in all, the invoice bills NT$%d", len(inv.Allowances), allowed, inv.Net())
	}
}

// A close of a month that has not ended (this one, next one) is refused
// saying from when it can be closed, and prints no summary: it printed
// "month  (period ): 0 issued, 0 already invoiced, …" with the month and
// period left blank, as if a close of nothing had run.
func TestInvoicesCloseOfAMonthNotEndedPrintsNoSummary(t *testing.T) {
	h := newLedgerHistory(t)
	now := time.Now().In(twrules.Taipei)
	for _, month := range []string{now.Format("2006-01"), now.AddDate(0, 1, 0).Format("2006-01")} {
		code, out, errs := cli(t, "invoices", "close", "--month", month, "--data-dir", h.dir)
		if code == 0 || !strings.Contains(errs, month+" has not ended") || strings.TrimSpace(out) != "" {
			t.Errorf("invoices close --month %s: exit %d, stdout %q, stderr %q", month, code, out, errs)
		}
	}
}

// A month mistyped is refused, saying the form it wants, rather than
// listing nothing (as if the month had no invoices) or printing a close's
// summary of a month that is not one.
func TestInvoiceCommandsRefuseAMistypedMonth(t *testing.T) {
	h := newLedgerHistory(t)
	for _, args := range [][]string{
		{"invoices", "list", "--month", "2026-1"},
		{"invoices", "close", "--month", "nov"},
		{"invoices", "issue", "--account", "acme", "--month", "2026/11"},
		{"invoices", "reconcile", "--month", "2026-13"},
	} {
		code, out, errs := cli(t, append(args, "--data-dir", h.dir)...)
		if code == 0 || !strings.Contains(errs, "want YYYY-MM") || strings.TrimSpace(out) != "" {
			t.Errorf("routefree %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errs)
		}
	}
}
