package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// `invoices allowance` on an invoice whose buyer has no 統一編號, issued in
// the current period (never filed yet), is refused and names the way the
// rules leave (統一發票使用辦法 §20): the void taking the amount off the
// re-issue, then the re-issue, both as commands to run. Run as named,
// they void the invoice and issue its usage again for NT$300 less;
// nothing was allowed.
func TestCLIAllowanceOnAB2CInvoiceBeforeFilingNamesTheVoidAndReissue(t *testing.T) {
	h := newLedgerHistory(t)
	last := time.Date(h.now.Year(), h.now.Month()-1, 1, 0, 0, 0, 0, twrules.Taipei)
	month := last.Format("2006-01")
	if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: "solo", Organisation: "王小明工作室", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	h.use("solo", last.Add(48*time.Hour), "1000")
	dir := "--data-dir=" + h.dir
	number := strings.ReplaceAll(regexp.MustCompile(`AB-\d{8}`).FindString(mustCLI(t, "invoices", "issue", "--account", "solo", "--month", month, dir)), "-", "")
	if number == "" {
		t.Fatal("the issue printed no invoice")
	}
	code, _, errs := cli(t, "invoices", "allowance", "--number", number, "--amount", "300", "--reason", "服務中斷補償", dir)
	void := "routefree invoices void --number " + number + " --less AMOUNT --reason"
	reissue := "routefree invoices issue --account solo --month " + month
	if code == 0 || !strings.Contains(errs, "統一編號") || !strings.Contains(errs, void) || !strings.Contains(errs, reissue) {
		t.Fatalf("invoices allowance on a B2C invoice before filing: exit %d\n%s", code, errs)
	}
	refusedCLI(t, "--less", "invoices", "void", "--number", number, "--less", "3.5", "--reason", "折讓改作廢重開", dir)
	refusedCLI(t, "leaves no invoice", "invoices", "void", "--number", number, "--less", "1000", "--reason", "折讓改作廢重開", dir)
	out := mustCLI(t, "invoices", "void", "--number", number, "--less", "300", "--reason", "折讓改作廢重開", dir)
	if !strings.Contains(out, reissue) || !strings.Contains(out, "the re-issue bills NT$300 less") ||
		!strings.Contains(out, "routefree credits adjust --account solo --amount 300") {
		t.Fatalf("invoices void printed:\n%s", out)
	}
	out = mustCLI(t, "invoices", "issue", "--account", "solo", "--month", month, dir)
	if !strings.Contains(out, "re-issue of voided "+number) {
		t.Fatalf("the re-issue printed:\n%s", out)
	}
	if rec := reconcileJSON(t, h.dir); rec.Totals.Net != 700 {
		t.Fatalf("net NT$%d invoiced after the void and re-issue, want NT$700", rec.Totals.Net)
	}
}
