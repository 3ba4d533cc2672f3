package invoicing

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// topUpRaw records a paid top-up as history may hold it: straight into the
// store, past the door's checks (which refuse fractions today).
func (e *env) topUpRaw(acct, ref, amount string, at time.Time) {
	e.t.Helper()
	ev := &domain.CreditsToppedUp{AccountID: acct, Amount: dec(amount), Method: domain.MethodCard, Reference: ref}
	d, err := commands.Event(domain.EventID(domain.TypeCreditsToppedUp, acct, ref), at, ev)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, domain.TopUpStream(acct), eventstore.Any(), d); err != nil {
		e.t.Fatal(err)
	}
}

// invoiceTopUps folds the history and issues the top-up invoices due.
func (e *env) invoiceTopUps() {
	e.t.Helper()
	if err := e.svc.Sync(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

// reconciled finds the reconciliation row of an account and month.
func reconciled(t *testing.T, svc *Service, acct, month string) ReconcileRow {
	t.Helper()
	rec, err := svc.Reconcile(t.Context(), month)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.Rows {
		if r.AccountID == acct && r.Month == month {
			return r
		}
	}
	t.Fatalf("no reconciliation row for %s %s in %+v", acct, month, rec.Rows)
	return ReconcileRow{}
}

// Usage after `invoices issue`: the second issue bills the remainder on a
// supplementary invoice that names the usage month; a third has nothing left.
func TestLateUsageAfterIssue(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 100, 199)
	e.open("acme", "艾克米股份有限公司", "22099131", domain.PlanBusiness)
	e.use("acme", "gpt-4o", taipei(2026, 11, 3, 10, 0), 10, 10, "35.2")
	first, created, err := e.svc.IssueMonthly(e.ctx, "acme", "2026-11")
	if err != nil || !created || first.Total != 35 {
		t.Fatalf("first issue: %+v %v %v", first.InvoiceIssued, created, err)
	}
	e.use("acme", "gpt-4o", taipei(2026, 11, 12, 10, 0), 10, 10, "8.19")
	e.clock.Set(taipei(2026, 11, 20, 9, 0))
	sup, created, err := e.svc.IssueMonthly(e.ctx, "acme", "2026-11")
	if err != nil || !created {
		t.Fatalf("second issue: %v created %v", err, created)
	}
	// 43.39 rounds to 43 for the month: 35 billed, 8 on the supplement.
	if sup.Number == first.Number || sup.Month != "2026-11" || sup.Seq != 1 || sup.Total != 8 || !sup.Covers.Equal(dec("8.19")) {
		t.Fatalf("supplement %+v", sup.InvoiceIssued)
	}
	again, created, err := e.svc.IssueMonthly(e.ctx, "acme", "2026-11")
	if err != nil || created || again.Number != sup.Number {
		t.Fatalf("third issue: %s created %v err %v", again.Number, created, err)
	}
	r := reconciled(t, e.svc, "acme", "2026-11")
	if !r.Used.Equal(dec("43.39")) || !r.Invoiced.Equal(dec("43.39")) || !r.Pending.IsZero() || r.InvoicedNTD != 43 {
		t.Fatalf("reconciliation %+v", r)
	}
}

// Usage recorded after the monthly close: closing again, or the next
// month's close, bills it on an invoice naming its month.
func TestLateUsageAfterClose(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 100, 199)
	e.open("acme", "艾克米股份有限公司", "22099131", domain.PlanBusiness)
	e.open("solo", "王小明工作室", "", domain.PlanEnterprise)
	e.use("acme", "gpt-4o", taipei(2026, 11, 3, 10, 0), 10, 10, "35.2")
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil || len(rep.Issued) != 1 {
		t.Fatalf("close: %+v %v", rep, err)
	}
	// A late request of acme, and solo's first, both started in November.
	e.use("acme", "claude-sonnet", taipei(2026, 11, 30, 23, 59), 10, 10, "8.19")
	e.use("solo", "gpt-4o", taipei(2026, 11, 30, 23, 58), 10, 10, "12.5")
	if r := reconciled(t, e.svc, "acme", "2026-11"); !r.Pending.Equal(dec("8.19")) || r.Reason != ReasonLateUsage {
		t.Fatalf("before the second close: %+v", r)
	}
	rep, err = e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil || len(rep.Issued) != 2 {
		t.Fatalf("second close: %+v %v", rep, err)
	}
	sup := rep.Issued[0]
	if sup.AccountID != "acme" || sup.Seq != 1 || sup.Total != 8 || sup.Month != "2026-11" {
		t.Fatalf("supplement %+v", sup.InvoiceIssued)
	}
	if len(sup.Lines) != 1 || sup.Lines[0].Description == "" || !containsAll(sup.Lines[0].Description, "claude-sonnet", "2026-11", "補開") {
		t.Fatalf("supplement lines %+v", sup.Lines)
	}
	if s := rep.Issued[1]; s.AccountID != "solo" || s.Seq != 0 || s.Total != 13 {
		t.Fatalf("solo's invoice %+v", s.InvoiceIssued)
	}
	rep, err = e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil || len(rep.Issued) != 0 || rep.Existing != 2 {
		t.Fatalf("third close: %+v %v", rep, err)
	}
	// Later still, December's close picks up November's late usage.
	e.use("acme", "gpt-4o", taipei(2026, 11, 30, 23, 0), 10, 10, "3")
	e.clock.Set(taipei(2027, 1, 1, 2, 0))
	e.assign("2027-01", "CD", 100, 199)
	rep, err = e.svc.Close(e.ctx, "2026-12", CloseOptions{})
	if err != nil || len(rep.Issued) != 1 || rep.Issued[0].Month != "2026-11" || rep.Issued[0].Total != 3 || rep.Issued[0].Period != "2027-01" {
		t.Fatalf("december close: %+v %v", rep, err)
	}
	if r := reconciled(t, e.svc, "acme", "2026-11"); !r.Pending.IsZero() || r.InvoicedNTD != 46 || len(r.Invoices) != 3 {
		t.Fatalf("after december: %+v", r)
	}
}

// Fractional top-ups: whole NTD are invoiced, the fraction is carried to
// the account's next top-up and billed once it adds up to NT$1.
func TestFractionalTopUps(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 100, 199)
	e.open("shop", "小商店", "", domain.PlanStarter)
	e.topUpRaw("shop", "pay-1", "12300.5", taipei(2026, 11, 10, 9, 0))
	e.invoiceTopUps()
	e.topUpRaw("shop", "pay-2", "0.4", taipei(2026, 11, 11, 9, 0))
	e.invoiceTopUps()
	if _, _, err := e.svc.IssueTopUp(e.ctx, "shop", "pay-2"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("issuing a fraction alone: %v", err)
	}
	invs := e.svc.Invoices("", "shop")
	if len(invs) != 1 || invs[0].Total != 12300 || invs[0].TopUpRef != "pay-1" {
		t.Fatalf("invoices %+v", invs)
	}
	r := reconciled(t, e.svc, "shop", "2026-11")
	if !r.Used.Equal(dec("12300.9")) || !r.Pending.Equal(dec("0.9")) || r.Reason != ReasonFraction {
		t.Fatalf("reconciliation %+v", r)
	}
	e.topUpRaw("shop", "pay-3", "0.1", taipei(2026, 11, 12, 9, 0))
	e.invoiceTopUps()
	invs = e.svc.Invoices("", "shop")
	if len(invs) != 2 || invs[1].Total != 1 || invs[1].TopUpRef != "pay-3" || !invs[1].Covers.Equal(dec("0.5")) {
		t.Fatalf("invoices %+v", invs)
	}
	r = reconciled(t, e.svc, "shop", "2026-11")
	if !r.Pending.IsZero() || r.InvoicedNTD != 12301 || !r.Invoiced.Equal(dec("12301")) {
		t.Fatalf("reconciliation %+v", r)
	}
}

// Allowances never take back more than the invoice charged, tax included,
// and can be voided, after which the invoice can be. The buyer has a 統一
// 編號: an invoice without one takes no allowance before its period is
// filed, nor a void after.
func TestAllowanceCapsAndVoid(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 100, 199)
	e.open("solo", "王小明工作室", "04595257", domain.PlanEnterprise)
	e.use("solo", "gpt-4o", taipei(2026, 11, 3, 10, 0), 10, 10, "31")
	inv, _, err := e.svc.IssueMonthly(e.ctx, "solo", "2026-11")
	if err != nil || inv.Sales != 30 || inv.Tax != 1 {
		t.Fatalf("invoice %+v %v", inv.InvoiceIssued, err)
	}
	a1, err := e.svc.IssueAllowance(e.ctx, inv.Number, 11, "服務中斷")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := e.svc.IssueAllowance(e.ctx, inv.Number, 20, "服務中斷")
	if err != nil {
		t.Fatal(err)
	}
	if a1.Tax+a2.Tax > inv.Tax || a1.Sales+a2.Sales > inv.Sales || a1.Sales+a1.Tax != 11 || a2.Sales+a2.Tax != 20 {
		t.Fatalf("allowances %+v %+v against %d + %d", a1.AllowanceIssued, a2.AllowanceIssued, inv.Sales, inv.Tax)
	}
	if _, err := e.svc.Void(e.ctx, inv.Number, "重開"); !errors.Is(err, ErrConflict) {
		t.Fatalf("void with live allowances: %v", err)
	}
	allowanceText := func(number string) string {
		var buf bytes.Buffer
		if err := e.svc.AllowancePDF(&buf, number); err != nil {
			t.Fatal(err)
		}
		return pdftest.Text(t, buf.Bytes())
	}
	if text := allowanceText(a1.Number); strings.Contains(text, "作廢") || strings.Contains(text, "VOID") {
		t.Fatalf("a live allowance printed as voided:\n%s", text)
	}
	e.clock.Set(taipei(2026, 11, 12, 15, 4))
	for _, a := range []Allowance{a2, a1} {
		if _, err := e.svc.VoidAllowance(e.ctx, a.Number, "折讓取消"); err != nil {
			t.Fatal(err)
		}
	}
	// Re-rendered after its void, the allowance says so.
	pdftest.MustContain(t, allowanceText(a1.Number), "本折讓單已作廢（VOID）", "作廢日期 2026-11-12 15:04", "作廢原因：折讓取消",
		a1.Number, "服務中斷")
	if _, err := e.svc.VoidAllowance(e.ctx, a1.Number, "again"); !errors.Is(err, ErrConflict) {
		t.Fatalf("second allowance void: %v", err)
	}
	got, _ := e.svc.Invoice(inv.Number)
	if got.Net() != inv.Total {
		t.Fatalf("net after voided allowances %d", got.Net())
	}
	if _, err := e.svc.Void(e.ctx, inv.Number, "重開"); err != nil {
		t.Fatalf("void after the allowances' voids: %v", err)
	}
	// The period's G0401 name the original item (B2B: sales and tax
	// apart, as in F0401; a B2C one's are tax-inclusive:
	// TestAnAllowanceOnAB2CInvoiceInsideItsVoidWindowIsRefused); its
	// G0501 void them.
	for msg, want := range map[string][]string{
		MessageG0401: {"<OriginalDescription>gpt-4o 用量 2026-11", "<TaxAmount>1</TaxAmount>", "<TotalAmount>10</TotalAmount>", "<TotalAmount>20</TotalAmount>"},
		MessageG0501: {"<CancelAllowanceNumber>" + a1.Number, "<CancelAllowanceNumber>" + a2.Number, "折讓取消"},
	} {
		var buf bytes.Buffer
		if err := e.svc.Export(&buf, msg, "2026-11"); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil || len(zr.File) != 2 {
			t.Fatalf("%s: %v %d files", msg, err, len(zr.File))
		}
		var all []byte
		for _, f := range zr.File {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			all = append(all, b...)
		}
		for _, w := range want {
			if !bytes.Contains(all, []byte(w)) {
				t.Fatalf("%s lacks %q:\n%s", msg, w, all)
			}
		}
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// Several closers (processes) racing while late usage arrives never bill a
// request twice: after the race and one more close, each account's month is
// billed exactly once, in full.
func TestConcurrentClosersWithLateUsage(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 100, 999)
	const accounts = 6
	for i := range accounts {
		acct := fmt.Sprintf("acct-%d", i)
		e.open(acct, "公司"+acct, "", domain.PlanBusiness)
		e.use(acct, "gpt-4o", taipei(2026, 11, 2, 10, 0), 10, 10, "100.25")
	}
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 4 {
		svc := e.newService()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 3 {
				if _, err := svc.Close(e.ctx, "2026-11", CloseOptions{}); err != nil {
					errs <- err
				}
				if _, _, err := svc.IssueMonthly(e.ctx, fmt.Sprintf("acct-%d", (g+round)%accounts), "2026-11"); err != nil && !errors.Is(err, ErrInvalid) {
					errs <- err
				}
			}
		}()
	}
	for i := range accounts { // late usage while they race
		e.use(fmt.Sprintf("acct-%d", i), "claude-sonnet", taipei(2026, 11, 30, 23, 0), 10, 10, "7.5")
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	fresh := e.newService()
	rec, err := fresh.Reconcile(e.ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Rows) != accounts {
		t.Fatalf("rows %+v", rec.Rows)
	}
	for _, r := range rec.Rows {
		// 107.75 rounds to 108, over one invoice or two.
		if !r.Used.Equal(dec("107.75")) || !r.Invoiced.Equal(r.Used) || !r.Pending.IsZero() || r.InvoicedNTD != 108 {
			t.Fatalf("%s: %+v", r.AccountID, r)
		}
	}
	requests := map[string]int64{}
	for _, inv := range fresh.Invoices("2026-11", "") {
		for _, u := range inv.Usage {
			requests[inv.AccountID] += u.Requests
		}
	}
	for acct, n := range requests {
		if n != 2 {
			t.Fatalf("%s: %d requests on its invoices, want 2", acct, n)
		}
	}
}

// Invoices issued before an invoice recorded what it bills are read by
// convention: a monthly one bills its month's usage recorded before it, a
// top-up one its top-up. Late usage after such an invoice is billed once.
func TestLegacyInvoicesBillByConvention(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 100, 199)
	e.open("acme", "艾克米股份有限公司", "22099131", domain.PlanBusiness)
	e.open("shop", "小商店", "", domain.PlanStarter)
	e.use("acme", "gpt-4o", taipei(2026, 11, 3, 10, 0), 10, 10, "35.2")
	e.topUpRaw("shop", "pay-1", "12300.5", taipei(2026, 11, 3, 11, 0))
	at := taipei(2026, 11, 10, 9, 0).UTC()
	var legacy []eventstore.EventData
	for i, inv := range []domain.InvoiceIssued{
		{Number: "AB00000100", Period: "2026-11", AccountID: "acme", Month: "2026-11", Kind: "b2b", BuyerName: "艾克米股份有限公司",
			BuyerTaxID: "22099131", RandomCode: "1234", Sales: 33, Tax: 2, Total: 35, IssuedAt: at},
		{Number: "AB00000101", Period: "2026-11", AccountID: "shop", TopUpRef: "pay-1", Kind: "b2c", RandomCode: "1234",
			Sales: 11715, Tax: 586, Total: 12301, IssuedAt: at}, // then rounded half-up
	} {
		inv.Lines = []domain.InvoiceLine{{Description: "x", Quantity: dec("1"), UnitPrice: dec("1"), Amount: dec("1")}}
		d, err := encode(context.Background(), domain.EventID("legacy", strconv.Itoa(i)), at, &inv)
		if err != nil {
			t.Fatal(err)
		}
		legacy = append(legacy, d)
	}
	if _, err := e.store.Append(e.ctx, domain.InvoiceRangeStream("2026-11"), eventstore.Exact(0), legacy...); err != nil {
		t.Fatal(err)
	}
	e.use("acme", "gpt-4o", taipei(2026, 11, 12, 10, 0), 10, 10, "8.19")
	sup, created, err := e.svc.IssueMonthly(e.ctx, "acme", "2026-11")
	if err != nil || !created || sup.Seq != 1 || sup.Total != 8 || !sup.Covers.Equal(dec("8.19")) || sup.Usage[0].Requests != 1 {
		t.Fatalf("supplement after a legacy invoice: %+v %v %v", sup.InvoiceIssued, created, err)
	}
	// The legacy top-up invoice charged 0.5 more than paid: 0.4 and 0.6
	// more make no invoice until the account is past it.
	e.topUpRaw("shop", "pay-2", "0.4", taipei(2026, 11, 12, 11, 0))
	e.topUpRaw("shop", "pay-3", "0.6", taipei(2026, 11, 12, 12, 0))
	if err := e.svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
	if invs := e.svc.Invoices("", "shop"); len(invs) != 1 {
		t.Fatalf("shop invoices %+v", invs)
	}
	r := reconciled(t, e.svc, "shop", "2026-11")
	if !r.Used.Equal(dec("12301.5")) || !r.Pending.Equal(dec("0.5")) || r.Reason != ReasonFraction || r.InvoicedNTD != 12301 {
		t.Fatalf("shop reconciliation %+v", r)
	}
	if r := reconciled(t, e.svc, "acme", "2026-11"); !r.Pending.IsZero() || r.InvoicedNTD != 43 {
		t.Fatalf("acme reconciliation %+v", r)
	}
}

// openRaw records an account's opening straight into the store, as
// imported history may hold it: after its top-ups, or a second time.
func (e *env) openRaw(id, org, taxID string, at time.Time) {
	e.t.Helper()
	d, err := commands.Event(domain.EventID(domain.TypeAccountOpened, id, at.String()), at,
		&domain.AccountOpened{AccountID: id, Organisation: org, TaxID: taxID, Plan: domain.PlanStarter})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, domain.AccountStream(id), eventstore.Any(), d); err != nil {
		e.t.Fatal(err)
	}
}

// An account's top-ups live in its account: those folded before the
// account was opened, and those of an account opened again, stay billed
// and counted.
func TestTopUpsAroundTheAccountsOpening(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 100, 199)
	e.topUpRaw("late", "pay-1", "500", taipei(2026, 11, 10, 9, 0))
	e.openRaw("late", "艾克米股份有限公司", "22099131", taipei(2026, 11, 10, 10, 0))
	e.invoiceTopUps()
	invs := e.svc.Invoices("", "late")
	if len(invs) != 1 || invs[0].TopUpRef != "pay-1" || invs[0].Total != 500 || invs[0].BuyerTaxID != "22099131" {
		t.Fatalf("invoices after the opening: %+v", invs)
	}
	e.openRaw("late", "艾克米股份有限公司", "22099131", taipei(2026, 11, 11, 9, 0))
	e.topUpRaw("late", "pay-2", "300", taipei(2026, 11, 12, 9, 0))
	e.invoiceTopUps()
	invs = e.svc.Invoices("", "late")
	if len(invs) != 2 || invs[1].TopUpRef != "pay-2" || invs[1].Total != 300 {
		t.Fatalf("invoices after the second opening: %+v", invs)
	}
	r := reconciled(t, e.svc, "late", "2026-11")
	if !r.Used.Equal(dec("800")) || !r.Invoiced.Equal(dec("800")) || !r.Pending.IsZero() || r.InvoicedNTD != 800 {
		t.Fatalf("reconciliation %+v", r)
	}
	// A fresh fold of the same history gives the same figures, and keeps
	// the decoded invoices' slices without the decoder's spare room; their
	// documents are read from the store when shown.
	fresh := e.newService()
	if got := reconciled(t, fresh, "late", "2026-11"); !got.Used.Equal(r.Used) || got.InvoicedNTD != r.InvoicedNTD {
		t.Fatalf("replayed reconciliation %+v, want %+v", got, r)
	}
	for _, inv := range fresh.l.invoices {
		if cap(inv.TopUps) != len(inv.TopUps) {
			t.Errorf("invoice %s keeps %d top-ups in room for %d", inv.Number, len(inv.TopUps), cap(inv.TopUps))
		}
		whole, err := fresh.Invoice(InvoiceRef(inv.Period, inv.Number))
		if err != nil {
			t.Fatal(err)
		}
		if len(whole.Lines) != 1 || whole.RandomCode == "" || whole.Seller == nil {
			t.Errorf("invoice %s shown with %d lines, random code %q, seller %v", inv.Number, len(whole.Lines), whole.RandomCode, whole.Seller)
		}
	}
}
