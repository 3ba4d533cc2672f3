package invoicing

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A refund of paid credit (a negative adjustment beyond the credit given)
// leaves its top-up invoice billing money given back: the reconciliation
// names the account and the allowance (折讓) due on its top-up invoices,
// until allowances on them cover the refund. A refund of credit given
// needs none.
func TestRefundOfPaidCreditAsksForAnAllowance(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.open("shop", "小商店", "", domain.PlanStarter)
	adjust := func(amount, reason string) {
		t.Helper()
		if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "shop", Amount: dec(amount), Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	adjust("50", "welcome credit")
	e.topUpRaw("shop", "pay-1", "1000", taipei(2026, 11, 2, 9, 0))
	e.invoiceTopUps()
	e.use("shop", "gpt-4o", taipei(2026, 11, 3, 10, 0), 1000, 100, "100")
	adjust("-20", "welcome credit withdrawn")

	refunds := func() []Refund {
		t.Helper()
		rec, err := e.svc.Reconcile(e.ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		return rec.Refunds
	}
	// The 100 used took the 50 given and 50 paid: the 20 withdrawn is paid
	// credit given back.
	if r := refunds(); len(r) != 1 || !r[0].Refunded.Equal(dec("20")) || r[0].ToAllow != 20 {
		t.Fatalf("refunds %+v; want shop, NT$20 refunded, NT$20 to allow", r)
	}
	adjust("-880", "refund of the credit left")
	r := refunds()
	if len(r) != 1 || !r[0].Refunded.Equal(dec("900")) || r[0].ToAllow != 900 || len(r[0].Invoices) != 1 {
		t.Fatalf("refunds %+v; want NT$900 refunded, NT$900 to allow on one invoice", r)
	}
	rec, err := e.svc.Reconcile(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := rec.WriteTotals(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "shop") || !strings.Contains(out.String(), r[0].Invoices[0]) {
		t.Fatalf("totals do not name the refund:\n%s", out.String())
	}
	// The buyer has no 統一編號: its invoice takes the allowance once its
	// period is filed, from 16 January; the refund waits to be allowed
	// until then.
	var b2c *B2CAllowanceError
	if _, err := e.svc.IssueAllowance(e.ctx, r[0].Invoices[0], 900, "退款"); !errors.As(err, &b2c) {
		t.Fatalf("allowance on the B2C top-up invoice before its period is filed: %v", err)
	}
	if r := refunds(); len(r) != 1 || r[0].ToAllow != 900 {
		t.Fatalf("refunds %+v after the refusal; want NT$900 to allow", r)
	}
	e.clock.Set(taipei(2027, 1, 16, 9, 0))
	if _, err := e.svc.IssueAllowance(e.ctx, r[0].Invoices[0], 900, "退款"); err != nil {
		t.Fatal(err)
	}
	if r := refunds(); len(r) != 1 || r[0].ToAllow != 0 || r[0].Allowed != 900 {
		t.Fatalf("refunds %+v after the allowance; want nothing left to allow", r)
	}
}
