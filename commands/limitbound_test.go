package commands

import (
	"context"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A spending or credit limit past what the admission ledgers hold exactly
// would make every request of the key or account fail its credit check:
// such a limit is refused before anything is written, and the bound itself
// is accepted.
func TestLimitsAreBounded(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	prepaid := mustOpen(t, ctx, h, domain.PlanStarter)
	postpaid := mustOpen(t, ctx, h, domain.PlanBusiness)
	for _, huge := range []string{"1000000000.01", "10000000000000", "1e400"} {
		n := len(all(t, h))
		_, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: prepaid, Name: "k", SpendLimit: dec(huge)})
		wantRefused(t, h, n, err, ErrInvalid, "at most")

		id, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: prepaid, Name: "k", SpendLimit: dec("5")})
		if err != nil {
			t.Fatal(err)
		}
		n = len(all(t, h))
		err = h.ChangeKey(ctx, domain.KeyChanged{KeyID: id, Name: "k", SpendLimit: dec(huge)}, nil)
		wantRefused(t, h, n, err, ErrInvalid, "at most")

		err = h.SetCreditLimit(ctx, postpaid, dec(huge))
		wantRefused(t, h, n, err, ErrInvalid, "at most")
		err = h.ChangePlan(ctx, domain.PlanChanged{AccountID: postpaid, Plan: domain.PlanBusiness, CreditLimit: dec(huge)})
		wantRefused(t, h, n, err, ErrInvalid, "at most")
		_, err = h.OpenAccount(ctx, domain.AccountOpened{Organisation: "Big", Plan: domain.PlanBusiness, CreditLimit: dec(huge)})
		wantRefused(t, h, n, err, ErrInvalid, "at most")
	}
	if _, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: prepaid, Name: "k", SpendLimit: MaxLimit}); err != nil {
		t.Fatalf("a key limit of exactly the bound: %v", err)
	}
	if err := h.SetCreditLimit(ctx, postpaid, MaxLimit); err != nil {
		t.Fatalf("a credit limit of exactly the bound: %v", err)
	}
}

// A 統一編號 with a digit left out is refused as not 8 digits, not as a
// checksum failure, which would send the clerk looking for a mistyped digit.
func TestOpenAccountNamesAShortTaxID(t *testing.T) {
	h := newHandler(t)
	n := len(all(t, h))
	_, err := h.OpenAccount(context.Background(), domain.AccountOpened{Organisation: "範例", TaxID: "0459525", Plan: domain.PlanBusiness})
	wantRefused(t, h, n, err, ErrInvalid, `統一編號 "0459525" is not 8 digits`)
}

// Limits are amounts of money, in cents at most: a limit of NT$0.001 would
// be shown as NT$0.00 everywhere it is read. More places are refused,
// naming the limit, before anything is written; trailing zeros are fine.
func TestLimitsAreWholeCents(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	prepaid := mustOpen(t, ctx, h, domain.PlanStarter)
	postpaid := mustOpen(t, ctx, h, domain.PlanBusiness)
	id, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: prepaid, Name: "k", SpendLimit: dec("5")})
	if err != nil {
		t.Fatal(err)
	}
	for _, odd := range []string{"0.001", "5.125", "12.3456789"} {
		n := len(all(t, h))
		_, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: prepaid, Name: "k", SpendLimit: dec(odd)})
		wantRefused(t, h, n, err, ErrInvalid, "a spending limit has at most two decimal places")
		err = h.ChangeKey(ctx, domain.KeyChanged{KeyID: id, Name: "k", SpendLimit: dec(odd)}, nil)
		wantRefused(t, h, n, err, ErrInvalid, "a spending limit has at most two decimal places")
		err = h.SetCreditLimit(ctx, postpaid, dec(odd))
		wantRefused(t, h, n, err, ErrInvalid, "a credit limit has at most two decimal places")
		err = h.ChangePlan(ctx, domain.PlanChanged{AccountID: postpaid, Plan: domain.PlanBusiness, CreditLimit: dec(odd)})
		wantRefused(t, h, n, err, ErrInvalid, "a credit limit has at most two decimal places")
		_, err = h.OpenAccount(ctx, domain.AccountOpened{Organisation: "Odd", Plan: domain.PlanBusiness, CreditLimit: dec(odd)})
		wantRefused(t, h, n, err, ErrInvalid, "a credit limit has at most two decimal places")
	}
	for _, ok := range []string{"0.01", "5.1", "5.100", "7"} {
		if _, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: prepaid, Name: "k", SpendLimit: dec(ok)}); err != nil {
			t.Errorf("spending limit %s: %v", ok, err)
		}
		if err := h.SetCreditLimit(ctx, postpaid, dec(ok)); err != nil {
			t.Errorf("credit limit %s: %v", ok, err)
		}
	}
}
