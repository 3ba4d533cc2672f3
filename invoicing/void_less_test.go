package invoicing

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// The way a B2C invoice bills less before its period is filed: its void
// takes the amount off the re-issue. The void event records it, so a
// reader started after the void (a crash before the re-issue) re-issues
// the rest; the ledger gives the amount back as by an allowance (what is
// due goes down by it, finance credits it), a later supplement does not
// bill it again, and the re-issue's PDF and F0401 add up to what it bills.
func TestAVoidTakingAnAmountOffTheReissueBillsTheRest(t *testing.T) {
	e, _, acme, solo := raceEnv(t)
	if solo.Total != 105 || solo.BuyerTaxID != "" {
		t.Fatalf("solo's invoice %+v", solo.InvoiceIssued)
	}
	for _, c := range []struct {
		number string
		less   int64
	}{{solo.Number, -1}, {solo.Number, 105}, {acme.Number, 3346}} {
		if _, err := e.svc.VoidLess(e.ctx, c.number, "折讓改作廢重開", c.less); !errors.Is(err, ErrInvalid) {
			t.Fatalf("void of %s taking NT$%d off its re-issue: %v, want ErrInvalid", c.number, c.less, err)
		}
	}
	v, err := e.svc.VoidLess(e.ctx, solo.Number, "折讓改作廢重開", 5)
	if err != nil || !v.Voided || v.VoidLess != 5 {
		t.Fatalf("void %+v: %v", v, err)
	}

	// A reader that starts after the void re-issues the rest.
	e.svc = e.newService()
	re, created, err := e.svc.IssueMonthly(e.ctx, "solo", "2026-11")
	if err != nil || !created {
		t.Fatal(err, created)
	}
	if re.Total != 100 || re.Less != 5 || re.Sales+re.Tax != 100 || len(re.Replaces) != 1 || re.Replaces[0] != solo.Number {
		t.Fatalf("re-issue %+v", re.InvoiceIssued)
	}
	r := reconciled(t, e.svc, "solo", "2026-11")
	if !r.Used.Equal(dec("104.5")) || !r.Invoiced.Equal(dec("104.5")) || !r.Pending.IsZero() || r.Net != 100 {
		t.Fatalf("reconciliation %+v", r)
	}
	// What is due is what the re-issue bills; the NT$5 is owed until
	// finance credits it, as after an allowance.
	e.svc.mu.Lock()
	c := *e.svc.l.accounts["solo"].credit
	e.svc.mu.Unlock()
	if !c.due.Decimal().Equal(dec("99.5")) || !c.overdrawn.Decimal().Equal(dec("5")) {
		t.Fatalf("credit after the void: due %s, overdrawn %s", c.due.Decimal(), c.overdrawn.Decimal())
	}
	if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "solo", Amount: dec("5"), Reason: "void " + solo.Number + " less"}); err != nil {
		t.Fatal(err)
	}
	// Paying the re-issue settles the account; nothing is invoiced at payment.
	e.topUpRaw("solo", "pay-100", "100", taipei(2026, 12, 2, 9, 0))
	e.invoiceTopUps()
	for _, inv := range e.svc.Invoices("", "solo") {
		if inv.TopUpRef != "" {
			t.Fatalf("paying the re-issue was invoiced again: %+v", inv.InvoiceIssued)
		}
	}
	if o, _ := e.svc.CreditOffset(e.ctx, "solo", decimal.Zero); o.ToAllow != 0 {
		t.Fatalf("credit offset after the credit and the payment: %+v", o)
	}

	// Late usage: its supplement bills its own rounding, not the NT$5
	// again. NT$0.50 of the payment was the re-issue's rounding, paid
	// credit that the usage draws first: NT$9.70 is billed monthly, and
	// the month's invoices bill round(104.5 + 9.7) = 114, less the NT$5,
	// of which the re-issue NT$100: NT$9.
	e.use("solo", "gpt-4o-mini", taipei(2026, 11, 20, 10, 0), 10, 10, "10.2")
	sup, created, err := e.svc.IssueMonthly(e.ctx, "solo", "2026-11")
	if err != nil || !created || sup.Total != 9 || sup.Less != 0 || !sup.Covers.Equal(dec("9.7")) {
		t.Fatalf("supplement %+v: %v", sup.InvoiceIssued, err)
	}

	// The re-issue's documents add up to what it bills.
	var buf bytes.Buffer
	if err := e.svc.InvoicePDF(&buf, re.Number); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), re.Number[:2]+"-"+re.Number[2:], "重開", "壹佰元整")
	buf.Reset()
	if err := e.svc.Export(&buf, MessageF0401, "2026-11"); err != nil {
		t.Fatal(err)
	}
	body := zipFile(t, buf.Bytes(), "F0401_"+re.Number+".xml")
	if !strings.Contains(body, "<SalesAmount>100</SalesAmount>") && !strings.Contains(body, "<TotalAmount>100</TotalAmount>") {
		t.Errorf("F0401 of the re-issue:\n%s", body)
	}
	whole := whole(t, e.svc, re)
	sum := decimal.Zero
	for _, l := range whole.Lines {
		sum = sum.Add(l.Amount)
	}
	if !sum.Equal(decimal.NewFromInt(100)) {
		t.Errorf("the re-issue's lines add up to %s, it bills NT$100", sum)
	}
}
