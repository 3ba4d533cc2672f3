package console

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/projections"
)

// TestDashboardSaysWhenAPeriodsUnusedNumbersAreDue: in the ten days after
// a period ends, finance's dashboard says how many of its numbers were
// never used, that they are reported as E0402 by the tenth, and links the
// export; after the tenth, and for a period whose numbers were all used,
// it says nothing of them.
func TestDashboardSaysWhenAPeriodsUnusedNumbersAreDue(t *testing.T) {
	e := newEnv(t, false)
	if _, err := e.deps.Invoices.(Finance).AddRange(e.ctx, "2026-01", "AB", 12345000, 12345049); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn(e.staffToken("finance"))

	e.clock.set(time.Date(2026, 3, 4, 9, 0, 0, 0, projections.Taipei))
	page := b.getOK(t, "/console/dashboard")
	for _, want := range []string{`id="blank-due"`, "50", "2026-03-10", "/console/invoices/export?message=E0402&amp;period=2026-01"} {
		if !strings.Contains(page, want) {
			t.Fatalf("dashboard on 2026-03-04 lacks %q:\n%s", want, page[max(0, strings.Index(page, "pending-uploads")-600):min(len(page), strings.Index(page, "pending-uploads")+100)])
		}
	}
	// The outbox writes the period's E0402 to Turnkey: listed as a document
	// to upload until Turnkey has sent it, then the dashboard is done with it.
	svc := e.deps.Invoices.(*invoicing.Service)
	root := t.TempDir()
	if rep, err := svc.Outbox(e.ctx, root); err != nil || len(rep.Written) != 1 {
		t.Fatalf("outbox: %+v, %v", rep, err)
	}
	if page := b.getOK(t, "/console/dashboard"); !strings.Contains(page, `data-document="E0402-AB"`) || !strings.Contains(page, `id="blank-due"`) {
		t.Fatal("dashboard does not list the E0402 written to Turnkey and not sent yet")
	}
	bak := invoicing.TurnkeyDir(root, invoicing.MessageE0402, "BAK")
	if err := os.MkdirAll(bak, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(invoicing.TurnkeyDir(root, invoicing.MessageE0402, "SRC"), "E0402_11502_AB.xml"), filepath.Join(bak, "E0402_11502_AB.xml")); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Outbox(e.ctx, root); err != nil {
		t.Fatal(err)
	}
	if page := b.getOK(t, "/console/dashboard"); strings.Contains(page, `id="blank-due"`) || strings.Contains(page, `data-document="E0402-AB"`) {
		t.Fatal("dashboard still asks for the E0402 of 2026-01 after Turnkey sent it")
	}
	e.clock.set(time.Date(2026, 3, 11, 0, 0, 1, 0, projections.Taipei))
	if page := b.getOK(t, "/console/dashboard"); strings.Contains(page, `id="blank-due"`) {
		t.Fatal("dashboard still asks for the E0402 of 2026-01 after its deadline")
	}
}

// TestRangesShowSkippedNumbers: numbers taken out of use after a restore
// show on the period's ranges, counted apart from the numbers left.
func TestRangesShowSkippedNumbers(t *testing.T) {
	e := newEnv(t, false)
	e.clock.set(time.Date(2026, 3, 4, 9, 0, 0, 0, projections.Taipei))
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 12345000, 12345049); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SkipNumbers(e.ctx, "2026-03", "AB12345002", "issued before the restore"); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn(e.staffToken("finance"))
	page := b.getOK(t, "/console/invoices?month=2026-03")
	for _, want := range []string{`data-skipped="3"`, `data-left="47"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("the ranges of 2026-03 lack %s:\n%s", want, page[max(0, strings.Index(page, "ranges-2026-03")-100):min(len(page), strings.Index(page, "ranges-2026-03")+900)])
		}
	}
}
