package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/twrules"
)

// invoices list prints the numbers as --number takes them, under a header,
// and --month filters on the month it shows.
func TestInvoicesListShowsMonthAndNumber(t *testing.T) {
	dir := t.TempDir()
	with := func(args ...string) []string { return append(args, "--data-dir", dir) }
	mustCLI(t, with("events", "generate", "--events", "40", "--accounts", "1")...)
	period := twrules.PeriodOf(time.Now()).String()
	mustCLI(t, with("invoices", "range", "--period", period, "--prefix", "AB", "--from", "12345000", "--to", "12345099")...)
	mustCLI(t, with("invoices", "topups")...)
	out := mustCLI(t, with("invoices", "list")...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "PERIOD") || !strings.Contains(lines[0], "MONTH") {
		t.Fatalf("invoices list:\n%s", out)
	}
	row := strings.Fields(lines[1])
	if row[2] != "AB12345000" {
		t.Fatalf("number printed %q, want AB12345000 as --number takes it:\n%s", row[2], out)
	}
	month := row[1]
	if out := mustCLI(t, with("invoices", "list", "--month", month)...); !strings.Contains(out, "AB12345000") {
		t.Fatalf("--month %s lists:\n%s", month, out)
	}
	mustCLI(t, with("invoices", "pdf", "--number", row[2], "--out", filepath.Join(dir, "inv.pdf"))...)
	// An account mistyped would list no invoice, as if it had none, as a
	// mistyped month would: refused, naming it. An account of the history
	// without invoices lists none.
	if out := mustCLI(t, with("invoices", "list", "--account", row[3])...); !strings.Contains(out, "AB12345000") {
		t.Fatalf("--account %s lists:\n%s", row[3], out)
	}
	if code, out, errs := cli(t, with("invoices", "list", "--account", row[3]+"x")...); code == 0 || !strings.Contains(errs, "account "+row[3]+"x") || strings.TrimSpace(out) != "" {
		t.Errorf("invoices list --account %sx: exit %d, stdout %q, stderr %q", row[3], code, out, errs)
	}
	mustCLI(t, with("accounts", "open", "--id", "acct_none", "--organisation", "None Ltd")...)
	if out := mustCLI(t, with("invoices", "list", "--account", "acct_none")...); strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("an account without invoices lists:\n%s", out)
	}
}

// --month filters on the month an invoice counts in, and its help says
// which: a top-up invoice counts in the month its payment was received
// (docs/invoicing-ledger.md), not the month it was issued in.
func TestInvoicesListHelpNamesThePaymentMonth(t *testing.T) {
	_, _, help := cli(t, "invoices", "list", "-h")
	if !strings.Contains(help, "month of payment") || strings.Contains(help, "month of issue") {
		t.Fatalf("invoices list -h:\n%s", help)
	}
}
