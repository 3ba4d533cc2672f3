package invoicing

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// A refused void names the live allowances to void first; a refused
// allowance on a voided invoice names the invoice that bills its amount
// now, or the re-issue to run when none does yet.
func TestRefusedCorrectionsSayWhatToDo(t *testing.T) {
	e := newEnv(t, taipei(2026, 12, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.assign("2027-01", "CD", 10000000, 10000999)
	e.open("acme", "艾克米股份有限公司", "", domain.PlanBusiness)
	e.use("acme", "gpt-4o", taipei(2026, 12, 3, 10, 0), 1000, 200, "1000.4")
	e.clock.Set(taipei(2027, 1, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-12", CloseOptions{})
	if err != nil || len(rep.Issued) != 1 {
		t.Fatalf("close: %+v %v", rep, err)
	}
	wrong := rep.Issued[0]

	// Finance corrects the buyer and voids the B2C invoice.
	e.clock.Set(taipei(2027, 1, 5, 10, 0))
	tax := "22099131"
	if _, _, err := e.cmd.ChangeAccountDetails(e.ctx, "acme", commands.DetailsChange{TaxID: &tax, Reason: "B2B buyer"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Void(e.ctx, wrong.Number, "買受人資料誤植"); err != nil {
		t.Fatal(err)
	}
	// Before the re-issue: the allowance is refused, naming the re-issue.
	_, err = e.svc.IssueAllowance(e.ctx, wrong.Number, 10, "折讓")
	var verr *VoidedInvoiceError
	if !errors.Is(err, ErrConflict) || !errors.As(err, &verr) || len(verr.BilledBy) != 0 ||
		!strings.Contains(err.Error(), "routefree invoices issue --account acme --month 2026-12") {
		t.Fatalf("allowance on a voided invoice not yet re-issued: %v", err)
	}
	again, created, err := e.svc.IssueMonthly(e.ctx, "acme", "2026-12")
	if err != nil || !created || again.Kind != "b2b" || again.BuyerTaxID != tax {
		t.Fatalf("re-issue: %+v %v %v", again.InvoiceIssued, created, err)
	}
	// After it: refused, naming the invoice to allow instead.
	_, err = e.svc.IssueAllowance(e.ctx, wrong.Number, 10, "折讓")
	if !errors.As(err, &verr) || len(verr.BilledBy) != 1 || verr.BilledBy[0] != again.Number ||
		!strings.Contains(err.Error(), again.Number) {
		t.Fatalf("allowance on a voided invoice after its re-issue: %v", err)
	}

	// A void of an invoice with live allowances names them.
	a1, err := e.svc.IssueAllowance(e.ctx, again.Number, 100, "部分退款")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := e.svc.IssueAllowance(e.ctx, again.Number, 200, "部分退款")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VoidAllowance(e.ctx, a1.Number, "金額錯誤"); err != nil {
		t.Fatal(err)
	}
	a3, err := e.svc.IssueAllowance(e.ctx, again.Number, 300, "部分退款")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Void(e.ctx, again.Number, "重開")
	var lerr *LiveAllowancesError
	if !errors.Is(err, ErrConflict) || !errors.As(err, &lerr) ||
		strings.Join(lerr.Allowances, ",") != a2.Number+","+a3.Number ||
		!strings.Contains(err.Error(), a2.Number) || !strings.Contains(err.Error(), a3.Number) ||
		strings.Contains(err.Error(), a1.Number) {
		t.Fatalf("void with live allowances: %v", err)
	}
}

// The same for a top-up invoice: the refused allowance names the invoice
// that bills its top-up again, not a later top-up's.
func TestAllowanceOnAVoidedTopUpInvoiceNamesItsReplacement(t *testing.T) {
	e := newEnv(t, taipei(2026, 12, 10, 9, 0))
	e.assign("2026-11", "AB", 100, 199)
	e.open("pre", "預付公司", "", domain.PlanStarter)
	e.topUpRaw("pre", "pay-1", "1000", taipei(2026, 12, 10, 9, 0))
	if err := e.svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
	first := e.svc.Invoices("", "pre")[0]
	if _, err := e.svc.Void(e.ctx, first.Number, "買受人資料誤植"); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.IssueAllowance(e.ctx, first.Number, 10, "折讓")
	if err == nil || !strings.Contains(err.Error(), "routefree invoices topups") {
		t.Fatalf("before the re-issue: %v", err)
	}
	if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.topUpRaw("pre", "pay-2", "500", taipei(2026, 12, 11, 9, 0))
	if err := e.svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
	invs := e.svc.Invoices("", "pre")
	if len(invs) != 3 {
		t.Fatalf("%d invoices, want 3", len(invs))
	}
	var replacement string
	for _, inv := range invs {
		if !inv.Voided && slices.Contains(inv.TopUps, "pay-1") {
			replacement = inv.Number
		}
	}
	for _, inv := range invs {
		want := ""
		if inv.Number == replacement {
			want = first.Number
		}
		if got := strings.Join(inv.Replaces, ","); got != want {
			t.Errorf("top-up invoice %s replaces %q, want %q", inv.Number, got, want)
		}
	}
	_, err = e.svc.IssueAllowance(e.ctx, first.Number, 10, "折讓")
	var verr *VoidedInvoiceError
	if !errors.As(err, &verr) || len(verr.BilledBy) != 1 || verr.BilledBy[0] != replacement || replacement == "" {
		t.Fatalf("after the re-issue (replacement %q): %v", replacement, err)
	}
}

// The wrong buyer, December's usage invoiced in January: corrected, voided
// and re-issued, the reconciliation shows the amount pending only between
// the void and the re-issue, with the command that re-issues it; late
// usage after the re-issue is late usage, not a void.
func TestReconciliationSaysHowToReissueAVoidedInvoice(t *testing.T) {
	e := newEnv(t, taipei(2026, 12, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.assign("2027-01", "CD", 10000000, 10000999)
	e.open("acme", "艾克米股份有限公司", "", domain.PlanBusiness)
	e.use("acme", "gpt-4o", taipei(2026, 12, 3, 10, 0), 1000, 200, "1000.4")
	e.clock.Set(taipei(2027, 1, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-12", CloseOptions{})
	if err != nil || len(rep.Issued) != 1 {
		t.Fatalf("close: %+v %v", rep, err)
	}
	row := func() ReconcileRow {
		t.Helper()
		rec, err := e.svc.Reconcile(e.ctx, "2026-12")
		if err != nil || len(rec.Rows) != 1 {
			t.Fatalf("reconcile: %+v %v", rec, err)
		}
		return rec.Rows[0]
	}
	if r := row(); !r.Pending.IsZero() || r.Next != "" {
		t.Fatalf("after the close: %+v", r)
	}
	e.clock.Set(taipei(2027, 1, 5, 10, 0))
	tax := "22099131"
	if _, _, err := e.cmd.ChangeAccountDetails(e.ctx, "acme", commands.DetailsChange{TaxID: &tax, Reason: "B2B buyer"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Void(e.ctx, rep.Issued[0].Number, "買受人資料誤植"); err != nil {
		t.Fatal(err)
	}
	r := row()
	if !r.Pending.Equal(dec("1000.4")) || r.Reason != ReasonVoided || r.Next != "routefree invoices issue --account acme --month 2026-12" ||
		!strings.Contains(r.Reason, "routefree invoices issue") {
		t.Fatalf("between void and re-issue: %+v", r)
	}
	var buf strings.Builder
	rec, _ := e.svc.Reconcile(e.ctx, "2026-12")
	if err := rec.WriteRows(&buf); err != nil || !strings.Contains(buf.String(), r.Next) {
		t.Fatalf("the printed rows lack %q:\n%s", r.Next, buf.String())
	}
	again, _, err := e.svc.IssueMonthly(e.ctx, "acme", "2026-12")
	if err != nil || again.Period != "2027-01" || again.Month != "2026-12" || again.BuyerTaxID != tax {
		t.Fatalf("re-issue: %+v %v", again.InvoiceIssued, err)
	}
	if r := row(); !r.Pending.IsZero() || r.Reason != "" || r.Next != "" || r.InvoicedNTD != 1000 {
		t.Fatalf("after the re-issue: %+v", r)
	}
	// Usage recorded late, after the re-issue, is late usage.
	e.use("acme", "gpt-4o", taipei(2026, 12, 31, 23, 59), 10, 10, "5")
	if r := row(); !r.Pending.Equal(dec("5")) || r.Reason != ReasonLateUsage {
		t.Fatalf("late usage after the re-issue: %+v", r)
	}
}

// A void refused past the filing deadline names the last day it was
// allowed (the 15th, as the reference states it, not the instant after)
// and both ways on: an allowance, or the tax office's 專案作廢 for a
// wrong buyer or amount.
func TestLateVoidNamesTheLastDayAndTheWaysOn(t *testing.T) {
	e := november(t)
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(taipei(2027, 1, 16, 0, 0))
	_, err = e.svc.Void(e.ctx, rep.Issued[0].Number, "買受人資料誤植")
	var werr *VoidWindowError
	if !errors.As(err, &werr) || werr.LastDay != "2027-01-15" {
		t.Fatalf("late void: %v", err)
	}
	msg := err.Error()
	for _, w := range []string{"2027-01-15", "allowance (折讓)", "專案作廢"} {
		if !strings.Contains(msg, w) {
			t.Errorf("late void's message lacks %q: %s", w, msg)
		}
	}
	if strings.Contains(msg, "2027-01-16") {
		t.Errorf("late void's message names the day after the deadline: %s", msg)
	}
}

// The month's first invoice voided after a supplementary one was issued:
// what it billed is pending for the void, and the re-issue names the
// invoice it replaces, as does the CLI's and the document's wording.
func TestVoidOfAnEarlierInvoiceIsNamedAsSuch(t *testing.T) {
	e := november(t)
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	first, _, err := e.svc.IssueMonthly(e.ctx, "acme", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	e.use("acme", "gpt-4o", taipei(2026, 11, 30, 23, 59), 10, 10, "10")
	e.clock.Set(taipei(2026, 12, 2, 2, 0))
	supp, created, err := e.svc.IssueMonthly(e.ctx, "acme", "2026-11")
	if err != nil || !created || supp.Seq != 1 {
		t.Fatalf("supplement: %+v %v %v", supp.InvoiceIssued, created, err)
	}
	e.clock.Set(taipei(2026, 12, 3, 2, 0))
	if _, err := e.svc.Void(e.ctx, first.Number, "買受人資料誤植"); err != nil {
		t.Fatal(err)
	}
	rec, err := e.svc.Reconcile(e.ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.Rows {
		if r.AccountID == "acme" && (r.Reason != ReasonVoided || r.Next == "" || !r.Pending.Equal(first.Covers)) {
			t.Fatalf("after the void of the first invoice: %+v", r)
		}
	}
	again, created, err := e.svc.IssueMonthly(e.ctx, "acme", "2026-11")
	if err != nil || !created || strings.Join(again.Replaces, ",") != first.Number || again.Total != first.Total {
		t.Fatalf("re-issue: %+v %v %v", again.InvoiceIssued, created, err)
	}
	for _, l := range again.Lines {
		if !strings.Contains(l.Description, "重開") || strings.Contains(l.Description, "補開") {
			t.Errorf("a re-issue's line reads %q", l.Description)
		}
	}
	// The re-issue voided in turn: its own re-issue replaces it alone, the
	// first invoice's amount being on it.
	e.clock.Set(taipei(2026, 12, 4, 2, 0))
	if _, err := e.svc.Void(e.ctx, again.Number, "統編誤植"); err != nil {
		t.Fatal(err)
	}
	third, _, err := e.svc.IssueMonthly(e.ctx, "acme", "2026-11")
	if err != nil || strings.Join(third.Replaces, ",") != again.Number || third.Total != first.Total {
		t.Fatalf("re-issue of the re-issue: %+v %v", third.InvoiceIssued, err)
	}
	var buf bytes.Buffer
	if err := e.svc.InvoicePDF(&buf, again.Number); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "重開：本發票取代已作廢之發票 AB-12345000")
	// The supplement stays a supplement; lists show what a re-issue replaces.
	for _, inv := range e.svc.Invoices("2026-11", "acme") {
		want := map[string]string{again.Number: first.Number, third.Number: again.Number}[inv.Number]
		if got := strings.Join(inv.Replaces, ","); got != want {
			t.Errorf("listed %s replaces %q, want %q", inv.Number, got, want)
		}
	}
}
