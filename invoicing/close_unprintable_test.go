package invoicing

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/internal/testenv"
)

// openUnchecked records an account's opening as history holds it from
// before names were checked (or its renaming, when the account exists).
func (e *env) openUnchecked(id, org, taxID string) {
	e.t.Helper()
	d, err := commands.Event(domain.EventID("test", id, org), e.clock.Now(), &domain.AccountOpened{AccountID: id,
		Organisation: org, TaxID: taxID, Plan: domain.PlanBusiness})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, domain.AccountStream(id), eventstore.Any(), d); err != nil {
		e.t.Fatal(err)
	}
}

// An account whose name no invoice can print or file does not stop the
// close: every other account is invoiced, and the close names the ones it
// could not invoice, and why. Closing again once their names are fixed
// issues theirs, and nothing more for the others.
func TestCloseInvoicesEveryOtherAccount(t *testing.T) {
	e := november(t)
	e.openUnchecked("long", strings.Repeat("長", 61), "22099131")
	e.openUnchecked("rare", "𠀋記科技有限公司", "04595257")
	e.use("long", "gpt-4o", taipei(2026, 11, 3, 10, 0), 1, 1, "100")
	e.use("rare", "gpt-4o", taipei(2026, 11, 3, 10, 0), 1, 1, "200")
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	pdfDir := t.TempDir()
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{PDFDir: pdfDir})
	if err == nil || !errors.Is(err, ErrInvalid) {
		t.Fatalf("close with two accounts it cannot invoice: %v", err)
	}
	for _, want := range []string{"long", "rare", "60", "𠀋"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the close's error does not say %q: %v", want, err)
		}
	}
	if len(rep.Issued) != 2 || rep.Issued[0].AccountID != "acme" || rep.Issued[1].AccountID != "solo" ||
		rep.Issued[0].Number != "AB12345000" || rep.Issued[1].Number != "AB12345001" {
		t.Fatalf("issued %+v", rep.Issued)
	}
	if rep.PDFs != 2 {
		t.Fatalf("%d PDFs written, want the two issued", rep.PDFs)
	}
	if _, err := os.Stat(filepath.Join(pdfDir, "2026-11-AB12345001.pdf")); err != nil {
		t.Fatal(err)
	}
	checkNotInvoiced(t, rep, err)

	// Nothing of theirs is recorded: another process sees two invoices.
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := fresh.PeriodInvoices("2026-11"); len(got) != 2 {
		t.Fatalf("%d invoices stored, want 2", len(got))
	}

	// Names fixed, the close issues their invoices, and only theirs.
	e.openUnchecked("long", "長名股份有限公司", "22099131")
	e.openUnchecked("rare", "稀記科技有限公司", "04595257")
	rep, err = e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Issued) != 2 || rep.Existing != 2 || rep.Issued[0].AccountID != "long" || rep.Issued[1].AccountID != "rare" ||
		rep.Issued[0].Number != "AB12345002" || rep.Issued[1].Number != "AB12345003" || rep.Issued[1].BuyerName != "稀記科技有限公司" {
		t.Fatalf("second close: %+v", rep)
	}
	if rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{}); err != nil || len(rep.Issued) != 0 || rep.Existing != 4 {
		t.Fatalf("third close: %+v %v", rep, err)
	}
}

// checkNotInvoiced: the report and the error name each account not
// invoiced, its organisation and why.
func checkNotInvoiced(t *testing.T, rep CloseReport, err error) {
	t.Helper()
	var nerr *NotInvoicedError
	if !errors.As(err, &nerr) || nerr.Month != "2026-11" || len(nerr.Failures) != 2 {
		t.Fatalf("close error %v", err)
	}
	if len(rep.Failed) != 2 {
		t.Fatalf("failed %+v", rep.Failed)
	}
	long, rare := rep.Failed[0], rep.Failed[1]
	if long.AccountID != "long" || long.Month != "2026-11" || long.Name != strings.Repeat("長", 61) ||
		!strings.Contains(long.Reason, "61 characters") || !strings.Contains(long.Reason, "at most 60") {
		t.Errorf("long: %+v", long)
	}
	if rare.AccountID != "rare" || rare.Name != "𠀋記科技有限公司" || !strings.Contains(rare.Reason, "account rare cannot be printed") ||
		!strings.Contains(rare.Reason, "𠀋") {
		t.Errorf("rare: %+v", rare)
	}
}

// serve's monthly close invoices every other account and logs one error
// for each account it could not invoice, naming it and why.
func TestProjectorCloseReportsEachAccountNotInvoiced(t *testing.T) {
	e := newEnv(t, taipei(2026, 12, 1, 1, 30))
	e.assign("2026-11", "AB", 1, 99)
	e.open("corp", "艾克米股份有限公司", "22099131", domain.PlanBusiness)
	e.openUnchecked("long", strings.Repeat("長", 61), "22099131")
	e.openUnchecked("rare", "𠀋記科技有限公司", "04595257")
	for _, acct := range []string{"corp", "long", "rare"} {
		e.use(acct, "gpt-4o", taipei(2026, 11, 20, 10, 0), 10, 10, "210")
	}
	var logs testenv.Buffer
	svc, err := New(e.store, Config{Seller: DevSeller(), Now: e.clock.Now, CloseDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, slog.New(slog.NewJSONHandler(&logs, nil))) }()
	defer func() { cancel(); <-done }()
	waitFor(t, func() bool { return strings.Contains(logs.String(), "month closed") })
	if n := len(svc.Invoices("2026-11", "")); n != 1 || svc.Invoices("2026-11", "")[0].AccountID != "corp" {
		t.Fatalf("%d invoices: %+v", n, svc.Invoices("2026-11", ""))
	}
	failed := map[string]map[string]any{}
	for _, line := range strings.Split(logs.String(), "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil && r["level"] == "ERROR" {
			acct, _ := r["account"].(string)
			failed[acct] = r
		}
	}
	if len(failed) != 2 {
		t.Fatalf("errors logged by account: %v\n%s", failed, logs.String())
	}
	for acct, says := range map[string]string{"long": "at most 60", "rare": "𠀋"} {
		r := failed[acct]
		if reason, _ := r["reason"].(string); r["month"] != "2026-11" || !strings.Contains(reason, says) {
			t.Errorf("%s: %v", acct, r)
		}
	}
}

// The usage of an account the close could not invoice was pending
// "awaiting the monthly close", though the close had run and refused it:
// finance read that waiting would do. The reconciliation now says the
// account's invoice cannot be issued until its details are corrected.
func TestTheReconciliationNamesAnAccountTheCloseRefused(t *testing.T) {
	e := november(t)
	e.openUnchecked("long", strings.Repeat("長", 61), "22099131")
	e.use("long", "gpt-4o", taipei(2026, 11, 3, 10, 0), 1, 1, "100")
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	if _, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{}); err == nil {
		t.Fatal("the close invoiced an account whose name cannot be filed")
	}
	rec, err := e.svc.Reconcile(e.ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.Rows {
		switch {
		case r.AccountID == "long" && r.Reason != ReasonRefused:
			t.Errorf("the refused account's NT$%s is pending for %q, want %q", r.Pending, r.Reason, ReasonRefused)
		case r.AccountID != "long" && r.Reason == ReasonRefused:
			t.Errorf("account %s is said refused", r.AccountID)
		}
	}
	if !rec.Totals.PendingByReason[ReasonRefused].Equal(dec("100")) {
		t.Errorf("pending by reason %v", rec.Totals.PendingByReason)
	}
}
