package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// A --once key typed again otherwise than the first time, the same ticket
// as finance reads it, records nothing more: typed in full width from a
// Chinese input method (ＴＫ－４７１１), with a space before it, or with
// its accented letter decomposed. A key holding a character that shows
// nothing (a zero-width space pasted with it) is refused, recording
// nothing: it would read as a key used before and be another.
func TestCLIAdjustmentOnceKeyTypedOtherwise(t *testing.T) {
	store := []string{"--data-dir", storeDir(t)}
	with := func(args ...string) []string { return append(args, store...) }
	mustCLI(t, with("accounts", "open", "--id", "acct_once", "--organisation", "Once 公司")...)
	adjust := func(key string) []string {
		return with("credits", "adjust", "--account", "acct_once", "--amount", "100", "--reason", "ticket 4711", "--once", key)
	}
	mustCLI(t, adjust("TK-4711-JOS\u00c9")...)
	for _, key := range []string{"ＴＫ－４７１１－ＪＯＳ\u00c9", " TK-4711-JOS\u00c9", "TK-4711-JOSE\u0301", "TK\u20104711-JOS\u00c9"} {
		if out := mustCLI(t, adjust(key)...); !strings.Contains(out, "already recorded") {
			t.Errorf("--once %q after TK-4711-JOSÉ says: %s", key, out)
		}
	}
	refusedCLI(t, "U+200B", adjust("TK-4711-JOS\u00c9\u200b")...)
	if show := mustCLI(t, with("accounts", "show", "--account", "acct_once")...); !strings.Contains(show, "balance       NT$100") {
		t.Fatalf("after one adjustment and its key typed four other ways:\n%s", show)
	}
}

// The same for `invoices allowance --once`: the ticket typed in full width
// issues no second allowance on the invoice.
func TestCLIAllowanceOnceKeyTypedOtherwise(t *testing.T) {
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
	allow := func(key string) []string {
		return []string{"invoices", "allowance", "--number", number, "--amount", "300", "--reason", "服務中斷補償", "--once", key, dir}
	}
	mustCLI(t, allow("TK-42")...)
	if again := mustCLI(t, allow("ＴＫ－４２")...); !strings.Contains(again, "already issued allowance") || !strings.Contains(again, "bills NT$700 now") {
		t.Fatalf("the key in full width printed:\n%s", again)
	}
	refusedCLI(t, "U+200B", allow("TK-42\u200b")...)
	if out := mustCLI(t, "invoices", "list", "--account", "acme", dir); !strings.Contains(out, "700") {
		t.Fatalf("invoices list after the runs:\n%s", out)
	}
}
