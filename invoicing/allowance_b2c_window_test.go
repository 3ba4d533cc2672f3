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

// An allowance (折讓) on an invoice to a buyer with no 統一編號 was issued
// while its period was not filed yet. 統一發票使用辦法 §20 has such an
// invoice recovered and voided (作廢) then: only a business buyer whose
// name and 統編 are on the invoice may take an allowance instead. Inside
// the void window it is refused, naming the void and the re-issue; a B2B
// invoice takes it as before, and past the window both do.
func TestAnAllowanceOnAB2CInvoiceInsideItsVoidWindowIsRefused(t *testing.T) {
	e, _, acme, solo := raceEnv(t) // acme: 統編 22099131; solo: none
	if solo.BuyerTaxID != "" || acme.BuyerTaxID == "" {
		t.Fatalf("buyers: acme %q, solo %q", acme.BuyerTaxID, solo.BuyerTaxID)
	}
	for _, key := range []string{"", "ticket-7"} {
		_, _, err := e.svc.IssueAllowanceOnce(e.ctx, solo.Number, 100, "服務中斷補償", key)
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("allowance on B2C invoice %s inside its void window (key %q): %v, want ErrConflict", solo.Number, key, err)
		}
		var b2c *B2CAllowanceError
		if !errors.As(err, &b2c) || b2c.Number != solo.Number || b2c.LastDay != "2027-01-15" || b2c.From != "2027-01-16" {
			t.Fatalf("refusal %#v", err)
		}
		for _, want := range []string{"統一編號", "2027-01-15", "taking the amount off its re-issue",
			"routefree invoices void --number " + solo.Number + " --less AMOUNT --reason",
			"routefree invoices issue --account solo --month 2026-11", "which bills the rest"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("refusal does not say %q: %v", want, err)
			}
		}
	}
	if b2c := (&B2CAllowanceError{}); b2c.Void != "" {
		t.Fatal("zero error names a void")
	}
	if inv, _ := e.svc.Invoice(solo.Number); len(inv.Allowances) != 0 || inv.Net() != solo.Total {
		t.Fatalf("refused allowance recorded: %+v", inv.Allowances)
	}
	// A fresh reader of the store agrees: nothing was appended.
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if inv, _ := fresh.Invoice(solo.Number); len(inv.Allowances) != 0 {
		t.Fatalf("store holds a refused allowance: %+v", inv.Allowances)
	}

	// The B2B invoice takes its allowance inside the window, as before.
	if _, err := e.svc.IssueAllowance(e.ctx, acme.Number, 100, "服務中斷補償"); err != nil {
		t.Fatalf("allowance on B2B invoice inside its window: %v", err)
	}

	// On the void window's last day (15 January 2027) the B2C one is still
	// refused; from the 16th, its period filed, it takes the allowance.
	e.clock.Set(taipei(2027, 1, 15, 23, 59))
	if _, err := e.svc.IssueAllowance(e.ctx, solo.Number, 100, "服務中斷補償"); !errors.Is(err, ErrConflict) {
		t.Fatalf("allowance on the window's last day: %v", err)
	}
	e.clock.Set(taipei(2027, 1, 16, 0, 0))
	a, err := e.svc.IssueAllowance(e.ctx, solo.Number, 100, "服務中斷補償")
	if err != nil {
		t.Fatalf("allowance on B2C invoice past its window: %v", err)
	}
	if inv, _ := e.svc.Invoice(solo.Number); inv.Net() != solo.Total-100 || a.InvoiceNumber != solo.Number {
		t.Fatalf("allowance %+v on %+v", a.AllowanceIssued, inv.InvoiceIssued)
	}
	// Its 折讓證明單 and its G0401 (tax-inclusive, as B2C's F0401) are made,
	// in the period of the allowance.
	var buf bytes.Buffer
	if err := e.svc.AllowancePDF(&buf, a.Number); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "折讓證明單", a.Number, solo.Number[:2]+"-"+solo.Number[2:], "服務中斷補償", "壹佰元整")
	buf.Reset()
	if err := e.svc.Export(&buf, MessageG0401, "2027-01"); err != nil {
		t.Fatal(err)
	}
	body := zipFile(t, buf.Bytes(), "G0401_"+a.Number+".xml")
	for _, want := range []string{"<AllowanceNumber>" + a.Number, "<OriginalInvoiceNumber>" + solo.Number, "<TotalAmount>100</TotalAmount>"} {
		if !strings.Contains(body, want) {
			t.Errorf("G0401 of %s lacks %q:\n%s", a.Number, want, body)
		}
	}
}

// The way the refusal names is there: the B2C invoice is voided inside its
// window and its usage re-issued on a new invoice of the same period, and
// the key that was refused issues nothing meanwhile.
func TestTheB2CRefusalsVoidAndReissueWork(t *testing.T) {
	e, _, _, solo := raceEnv(t)
	_, err := e.svc.IssueAllowance(e.ctx, solo.Number, 100, "服務中斷補償")
	var b2c *B2CAllowanceError
	if !errors.As(err, &b2c) {
		t.Fatalf("allowance: %v", err)
	}
	if _, err := e.svc.Void(e.ctx, solo.Number, "折讓改作廢重開"); err != nil {
		t.Fatal(err)
	}
	re, created, err := e.svc.IssueMonthly(e.ctx, "solo", "2026-11")
	if err != nil || !created {
		t.Fatal(err, created)
	}
	if re.Period != solo.Period || re.Total != solo.Total || len(re.Replaces) != 1 || re.Replaces[0] != solo.Number {
		t.Fatalf("re-issue %+v of %s", re.InvoiceIssued, solo.Number)
	}
}

// Credit given to an account that still owes a B2C invoice names the
// allowance that forgives it, and, while the invoice's period is not
// filed, the day from which that allowance is taken; a B2B invoice, or
// the same once filed, takes it at once.
func TestACreditOffsetOnAB2CInvoiceSaysWhenItsAllowanceIsTaken(t *testing.T) {
	e, _, _, solo := raceEnv(t)
	if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "solo", Amount: dec("50"), Reason: "goodwill"}); err != nil {
		t.Fatal(err)
	}
	o, err := e.svc.CreditOffset(e.ctx, "solo", decimal.Zero)
	if err != nil {
		t.Fatal(err)
	}
	if o.ToAllow != 50 || o.From != "2027-01-16" || !strings.Contains(o.Next, solo.Number) ||
		!strings.Contains(o.Advice(), "from 2027-01-16, once its period is filed") {
		t.Fatalf("offset before filing: %+v\n%s", o, o.Advice())
	}
	e.clock.Set(taipei(2027, 1, 16, 0, 0))
	if o, _ = e.svc.CreditOffset(e.ctx, "solo", decimal.Zero); o.ToAllow != 50 || o.From != "" || strings.Contains(o.Advice(), "once its period is filed") {
		t.Fatalf("offset once filed: %+v\n%s", o, o.Advice())
	}
	if _, err := e.svc.IssueAllowance(e.ctx, solo.Number, 50, "服務中斷補償"); err != nil {
		t.Fatal(err)
	}
	if o, _ = e.svc.CreditOffset(e.ctx, "solo", decimal.Zero); o.ToAllow != 0 {
		t.Fatalf("offset after the allowance: %+v", o)
	}
}
