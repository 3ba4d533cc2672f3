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
// rules leave (統一發票使用辦法 §20): the void, then the re-issue, both as
// commands to run. Run as named, they void the invoice and issue its
// usage again; nothing was allowed.
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
	void := "routefree invoices void --number " + number + " --reason"
	reissue := "routefree invoices issue --account solo --month " + month
	if code == 0 || !strings.Contains(errs, "統一編號") || !strings.Contains(errs, void) || !strings.Contains(errs, reissue) {
		t.Fatalf("invoices allowance on a B2C invoice before filing: exit %d\n%s", code, errs)
	}
	out := mustCLI(t, "invoices", "void", "--number", number, "--reason", "折讓改作廢重開", dir)
	if !strings.Contains(out, reissue) {
		t.Fatalf("invoices void printed:\n%s", out)
	}
	out = mustCLI(t, "invoices", "issue", "--account", "solo", "--month", month, dir)
	if !strings.Contains(out, "re-issue of voided "+number) || !strings.Contains(out, "1,000") && !strings.Contains(out, "1000") {
		t.Fatalf("the re-issue printed:\n%s", out)
	}
	if rec := reconcileJSON(t, h.dir); rec.Totals.Net != 1000 {
		t.Fatalf("net NT$%d invoiced after the void and re-issue", rec.Totals.Net)
	}
}
