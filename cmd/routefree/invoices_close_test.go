package main

import (
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing/twrules"
)

// invoices close invoices every account it can, prints those it could not
// and why, and exits non-zero; run again once the name is fixed, it issues
// the missing invoice alone.
func TestInvoicesCloseNamesAccountsNotInvoiced(t *testing.T) {
	h := newLedgerHistory(t)
	last := time.Date(h.now.Year(), h.now.Month()-1, 1, 0, 0, 0, 0, twrules.Taipei)
	month := last.Format("2006-01")
	if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: "acme", Organisation: "艾克米股份有限公司",
		TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	rename := func(org string) { // as history holds a name from before names were checked
		d, err := commands.Event(domain.EventID("test", "rare", org), time.Now(), &domain.AccountOpened{AccountID: "rare",
			Organisation: org, TaxID: "04595257", Plan: domain.PlanBusiness})
		if err == nil {
			_, err = h.store.Append(h.ctx, domain.AccountStream("rare"), eventstore.Any(), d)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	rename("𠀋記科技有限公司")
	h.use("acme", last.Add(48*time.Hour), "300")
	h.use("rare", last.Add(48*time.Hour), "200")

	code, out, errs := cli(t, "invoices", "close", "--month", month, "--data-dir", h.dir)
	if code != 1 || !strings.Contains(errs, "did not invoice 1 account") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "issued") || !strings.Contains(lines[0], "acme") ||
		!strings.HasPrefix(lines[1], "failed") || !strings.Contains(lines[1], "rare") || !strings.Contains(lines[1], "𠀋記科技有限公司") ||
		!strings.Contains(lines[1], "cannot be printed") || !strings.Contains(lines[2], "1 issued") || !strings.Contains(lines[2], "1 not invoiced") {
		t.Fatalf("invoices close printed:\n%s", out)
	}

	rename("稀記科技有限公司")
	out = mustCLI(t, "invoices", "close", "--month", month, "--data-dir", h.dir)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[0], "rare") ||
		!strings.Contains(lines[1], "1 issued, 1 already invoiced") || !strings.Contains(lines[1], "0 not invoiced") {
		t.Fatalf("the second close printed:\n%s", out)
	}
}
