package invoicing

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/routefree/routefree/domain"
)

// reversalEnv is a prepaid account with a 統一編號 (its top-up invoice
// takes allowances at once) that paid NT$1,000, invoiced.
func reversalEnv(t *testing.T) (*env, string) {
	t.Helper()
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.open("firm", "艾克米股份有限公司", "22099131", domain.PlanStarter)
	e.topUpRaw("firm", "pay-1", "1000", taipei(2026, 11, 2, 9, 0))
	e.invoiceTopUps()
	invs := e.svc.Invoices("", "firm")
	if len(invs) != 1 || invs[0].TopUpRef == "" {
		t.Fatalf("invoices %+v; want the top-up's", invs)
	}
	return e, InvoiceRef(invs[0].Period, invs[0].Number)
}

// refund records a negative adjustment and returns its ID.
func (e *env) refund(acct, amount string) uuid.UUID {
	e.t.Helper()
	id, _, err := e.cmd.AdjustOnceRecorded(e.ctx, domain.CreditsAdjusted{AccountID: acct, Amount: dec(amount), Reason: "refund"}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// reverse records the reversal of the adjustment id, of amount.
func (e *env) reverse(acct, amount string, id uuid.UUID) {
	e.t.Helper()
	if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: acct, Amount: dec(amount), Reason: "recorded by mistake", Reverses: id}); err != nil {
		e.t.Fatal(err)
	}
}

// refundOf is the reconciliation's refund line of acct, with its totals
// as printed; ok is false when it lists none.
func (e *env) refundOf(acct string) (r Refund, printed string, ok bool) {
	e.t.Helper()
	rec, err := e.svc.Reconcile(e.ctx, "")
	if err != nil {
		e.t.Fatal(err)
	}
	var out bytes.Buffer
	if err := rec.WriteTotals(&out); err != nil {
		e.t.Fatal(err)
	}
	for _, r := range rec.Refunds {
		if r.AccountID == acct {
			return r, out.String(), true
		}
	}
	return Refund{}, out.String(), false
}

// allow issues an allowance on a top-up invoice, for a refund.
func (e *env) allow(ref string, amount int64) Allowance {
	e.t.Helper()
	a, err := e.svc.IssueAllowance(e.ctx, ref, amount, "退款")
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// An allowance issued for a refund of paid credit stays when the refund
// is reversed: the top-up invoice, net of it, bills less than the account
// paid and keeps. The reconciliation names the allowance to void and what
// is allowed beyond the refunds, in its report and as printed, until it is
// voided; whether the allowance covered all of the refund or part of it.
func TestAReversedRefundNamesItsAllowanceToVoid(t *testing.T) {
	for _, c := range []struct {
		name    string
		refund  string
		allowed int64
	}{
		{"whole refund allowed", "-300", 300},
		{"part of the refund allowed", "-900", 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, inv := reversalEnv(t)
			id := e.refund("firm", c.refund)
			a := e.allow(inv, c.allowed)
			if r, _, _ := e.refundOf("firm"); r.Beyond != 0 || len(r.ToVoid) != 0 {
				t.Fatalf("before the reversal: %+v; want nothing to void", r)
			}
			e.reverse("firm", dec(c.refund).Neg().String(), id)

			r, printed, ok := e.refundOf("firm")
			if !ok || !r.Refunded.IsZero() || r.ToAllow != 0 || r.Allowed != c.allowed || r.Beyond != c.allowed ||
				len(r.ToVoid) != 1 || r.ToVoid[0].Number != a.Number || r.ToVoid[0].Amount != c.allowed || r.ToVoid[0].Invoice != inv {
				t.Fatalf("after the reversal: %+v (listed %v); want NT$%d allowed beyond refunds, allowance %s to void", r, ok, c.allowed, a.Number)
			}
			for _, want := range []string{"to void", "firm", "allowed beyond refunds", "void allowance " + a.Number,
				"routefree invoices allowance-void --number " + a.Number} {
				if !strings.Contains(printed, want) {
					t.Fatalf("the totals do not say %q:\n%s", want, printed)
				}
			}

			if _, err := e.svc.VoidAllowance(e.ctx, a.Number, "退款已撤銷"); err != nil {
				t.Fatal(err)
			}
			if r, printed, ok := e.refundOf("firm"); ok || strings.Contains(printed, "to void") || strings.Contains(printed, "to allow") {
				t.Fatalf("after the allowance's void: %+v listed\n%s", r, printed)
			}
		})
	}
}

// Of two refunds allowed together, one is reversed: the one allowance
// covers more than the refund that stays. It is named to void; once void,
// the refund left is to allow again, alone.
func TestAReversedRefundAllowedWithAnotherNamesTheAllowance(t *testing.T) {
	e, inv := reversalEnv(t)
	e.refund("firm", "-500")
	second := e.refund("firm", "-400")
	a := e.allow(inv, 900)
	e.reverse("firm", "400", second)

	r, _, ok := e.refundOf("firm")
	if !ok || !r.Refunded.Equal(dec("500")) || r.ToAllow != 0 || r.Beyond != 400 || len(r.ToVoid) != 1 || r.ToVoid[0].Number != a.Number {
		t.Fatalf("after the reversal: %+v; want NT$400 allowed beyond the NT$500 refunded, allowance %s to void", r, a.Number)
	}
	if _, err := e.svc.VoidAllowance(e.ctx, a.Number, "退款已撤銷"); err != nil {
		t.Fatal(err)
	}
	if r, _, _ := e.refundOf("firm"); r.ToAllow != 500 || r.Beyond != 0 || len(r.ToVoid) != 0 {
		t.Fatalf("after the allowance's void: %+v; want NT$500 to allow, nothing to void", r)
	}
	b := e.allow(inv, 500)
	if r, printed, _ := e.refundOf("firm"); r.ToAllow != 0 || r.Beyond != 0 || strings.Contains(printed, "to allow") || strings.Contains(printed, "to void") {
		t.Fatalf("after allowance %s: %+v\n%s", b.Number, r, printed)
	}
}

// Of several allowances, those named to void cover what is allowed
// beyond the refunds and leave the least to allow again: the smallest one
// that covers it alone, else the largest first; not merely the latest.
func TestTheAllowancesToVoidLeaveTheLeastToAllowAgain(t *testing.T) {
	e, inv := reversalEnv(t)
	big := e.refund("firm", "-600")
	a600 := e.allow(inv, 600)
	e.refund("firm", "-100")
	e.allow(inv, 100)
	e.reverse("firm", "600", big)
	r, _, _ := e.refundOf("firm")
	if r.Beyond != 600 || len(r.ToVoid) != 1 || r.ToVoid[0].Number != a600.Number {
		t.Fatalf("%+v; want NT$600 beyond, the NT$600 allowance to void", r)
	}

	small := e.refund("firm", "-50")
	a50 := e.allow(inv, 50)
	e.reverse("firm", "50", small)
	r, _, _ = e.refundOf("firm")
	if r.Beyond != 650 || len(r.ToVoid) != 2 || r.ToVoid[0].Number != a600.Number || r.ToVoid[1].Number != a50.Number {
		t.Fatalf("%+v; want NT$650 beyond, the NT$600 allowance then the NT$50 one to void", r)
	}
	for _, v := range r.ToVoid {
		if _, err := e.svc.VoidAllowance(e.ctx, v.Number, "退款已撤銷"); err != nil {
			t.Fatal(err)
		}
	}
	// The NT$100 allowance is the NT$100 refund's: nothing is left to do.
	if r, printed, ok := e.refundOf("firm"); !ok || r.ToAllow != 0 || r.Beyond != 0 || r.Allowed != 100 || strings.Contains(printed, "to void") {
		t.Fatalf("after the voids: %+v\n%s; want the NT$100 refund allowed", r, printed)
	}
}
