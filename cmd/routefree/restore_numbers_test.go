package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
)

// restoredAfterAnInvoice is a store put back from a backup taken before
// an invoice (AB12345000, to 甲公司) was issued and handed to Turnkey,
// which uploaded it (its file moved to BAK). It returns the environment,
// the period and Turnkey's root.
func restoredAfterAnInvoice(t *testing.T) (env []string, period, turnkey string) {
	t.Helper()
	dir, backup := t.TempDir(), t.TempDir()
	turnkey = t.TempDir()
	env = append(os.Environ(), "ROUTEFREE_DATA_DIR="+dir)
	if code := startServe(t, env).stop(syscall.SIGTERM, 30*time.Second); code != 0 { // makes the store
		t.Fatalf("serve exit status %d", code)
	}
	period = twrules.PeriodOf(time.Now()).String()
	runCLI(t, env, "invoices", "range", "--period", period, "--prefix", "AB", "--from", "12345000", "--to", "12345099")
	copyStore(t, dir, backup)

	topUpAndInvoice(t, env, "acct_first", "甲公司")
	runCLI(t, env, "invoices", "outbox", "--dir", turnkey)
	name := invoicing.MessageF0401 + "_" + period + "_AB12345000.xml"
	bak := invoicing.TurnkeyDir(turnkey, invoicing.MessageF0401, "BAK")
	if err := os.MkdirAll(bak, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(invoicing.TurnkeyDir(turnkey, invoicing.MessageF0401, "SRC"), name), filepath.Join(bak, name)); err != nil {
		t.Fatalf("Turnkey's upload of the first invoice: %v", err)
	}
	copyStore(t, backup, dir)
	return env, period, turnkey
}

// topUpAndInvoice opens an account with a 統一編號, tops it up by NT$1,000
// and issues the top-up's invoice.
func topUpAndInvoice(t *testing.T, env []string, id, org string) string {
	t.Helper()
	runCLI(t, env, "accounts", "open", "--id", id, "--organisation", org, "--tax-id", "04595257")
	runCLI(t, env, "credits", "topup", "--account", id, "--amount", "1000", "--method", "bank-transfer", "--reference", "T-"+id)
	out := runCLI(t, env, "invoices", "topups")
	if !strings.Contains(out, "issued 1 top-up invoices") {
		t.Fatalf("topups: %s", out)
	}
	return out
}

// TestOutboxFindsNumbersUsedOutsideTheHistory: after the restore, Turnkey's
// folders hold an invoice this store never issued. The outbox must say so
// and name the command that takes the number out of use, before the store
// gives it to another buyer.
func TestOutboxFindsNumbersUsedOutsideTheHistory(t *testing.T) {
	env, period, turnkey := restoredAfterAnInvoice(t)
	out, err := runCLIErr(env, "invoices", "outbox", "--dir", turnkey)
	if err == nil {
		t.Fatalf("outbox after the restore succeeded; Turnkey's BAK holds AB12345000, which this history never issued:\n%s", out)
	}
	t.Logf("outbox after the restore:\n%s", out)
	want := "routefree invoices skip --period " + period + " --through AB12345000"
	if !strings.Contains(out, "AB12345000") || !strings.Contains(out, want) {
		t.Fatalf("outbox after the restore does not name the number and %q:\n%s", want, out)
	}
}

// TestOutboxDoesNotTakeAnotherInvoicesUploadForItsOwn: the restored store
// gave AB12345000 again, to 乙公司. Turnkey's BAK holds 甲公司's
// AB12345000: 乙公司's invoice must not be recorded as uploaded, and the
// outbox must say the numbers clash.
func TestOutboxDoesNotTakeAnotherInvoicesUploadForItsOwn(t *testing.T) {
	env, _, turnkey := restoredAfterAnInvoice(t)
	topUpAndInvoice(t, env, "acct_second", "乙公司")
	out, err := runCLIErr(env, "invoices", "outbox", "--dir", turnkey)
	if err == nil || !strings.Contains(out, "AB12345000") || !strings.Contains(out, "another invoice") {
		t.Fatalf("outbox with 甲公司's AB12345000 in BAK and 乙公司's in the store: %v\n%s", err, out)
	}
	t.Logf("outbox with the number issued twice:\n%s", out)
	if strings.Contains(out, "1 uploaded") {
		t.Fatalf("乙公司's invoice was recorded as uploaded from 甲公司's file:\n%s", out)
	}
	list := runCLI(t, env, "invoices", "outbox", "--dir", t.TempDir()) // a Turnkey that has seen nothing
	if !strings.Contains(list, "written") || !strings.Contains(list, "0 uploaded") {
		t.Fatalf("乙公司's invoice is no longer pending:\n%s", list)
	}
}

// TestSkippedNumbersAreNeverIssued: finance takes AB12345000 out of use
// after the restore; the next invoice gets AB12345001, the period counts
// the number as used (not blank) and says it was skipped, and the outbox
// no longer complains of the lost invoice's file.
func TestSkippedNumbersAreNeverIssued(t *testing.T) {
	env, period, turnkey := restoredAfterAnInvoice(t)
	out := runCLI(t, env, "invoices", "skip", "--period", period, "--through", "AB12345000",
		"--reason", "restored from a backup; issued before the loss (Turnkey BAK)")
	if !strings.Contains(out, "AB12345000") {
		t.Fatalf("skip: %s", out)
	}
	again := runCLI(t, env, "invoices", "skip", "--period", period, "--through", "AB12345000", "--reason", "again")
	if !strings.Contains(again, "already") {
		t.Fatalf("skipping the same number again: %s", again)
	}
	topUpAndInvoice(t, env, "acct_second", "乙公司")
	if list := runCLI(t, env, "invoices", "list", "--account", "acct_second"); !strings.Contains(list, "12345001") || strings.Contains(list, "12345000") {
		t.Fatalf("the invoice after the skip:\n%s", list)
	}
	if st := runCLI(t, env, "invoices", "range", "--period", period); !strings.Contains(st, "2 used, 98 left") || !strings.Contains(st, "1 skipped") {
		t.Fatalf("range after the skip:\n%s", st)
	}
	if out, err := runCLIErr(env, "invoices", "outbox", "--dir", turnkey); err != nil {
		t.Fatalf("outbox after the skip: %v\n%s", err, out)
	}
	for _, bad := range [][]string{
		{"--through", "AB12345000", "--reason", ""},          // no reason
		{"--through", "CD12345000", "--reason", "elsewhere"}, // not a number of the period
		{"--through", "AB12345100", "--reason", "beyond"},    // past the range
	} {
		if out, err := runCLIErr(env, append([]string{"invoices", "skip", "--period", period}, bad...)...); err == nil {
			t.Fatalf("skip %v accepted:\n%s", bad, out)
		}
	}
}
