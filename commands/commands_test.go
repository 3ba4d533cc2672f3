package commands

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

var t0 = time.Date(2026, 11, 2, 3, 4, 5, 0, time.UTC)

func newHandler(t *testing.T) *Handler {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &Handler{Store: s, Now: func() time.Time { return t0 }}
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// all reads the whole history.
func all(t *testing.T, h *Handler) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	pos := eventstore.Start
	for {
		evs, err := h.Store.ReadAll(context.Background(), pos, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return out
		}
		out = append(out, evs...)
		pos = evs[len(evs)-1].Position
	}
}

func mustOpen(t testing.TB, ctx context.Context, h *Handler, plan domain.Plan) string {
	t.Helper()
	id, err := h.OpenAccount(ctx, domain.AccountOpened{Organisation: "Org", Plan: plan})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// wantRefused checks err is the kind expected, its message says why, and
// nothing was appended.
func wantRefused(t *testing.T, h *Handler, before int, err, kind error, says string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
	if !strings.Contains(err.Error(), says) {
		t.Fatalf("err %q does not say %q", err, says)
	}
	if n := len(all(t, h)); n != before {
		t.Fatalf("a refused command appended %d events", n-before)
	}
}

// Every command records who caused it.
func TestEveryCommandRecordsItsActor(t *testing.T) {
	h := newHandler(t)
	clerk := domain.Actor{Kind: domain.ActorStaff, ID: "stf_finance1", Role: "finance"}
	ctx := WithActor(context.Background(), clerk)
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	steps := []func() error{
		func() error {
			return h.ChangePlan(ctx, domain.PlanChanged{AccountID: acct, Plan: domain.PlanBusiness, CreditLimit: dec("100")})
		},
		func() error { return h.SetCreditLimit(ctx, acct, dec("200")) },
		func() error { return h.SuspendAccount(ctx, acct, "unpaid") },
		func() error { return h.ResumeAccount(ctx, acct, "paid") },
		func() error {
			id, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "k"})
			if err != nil {
				return err
			}
			return h.RevokeKey(ctx, id)
		},
		func() error {
			_, err := h.TopUp(ctx, domain.CreditsToppedUp{AccountID: acct, Amount: dec("500"), Method: domain.MethodBankTransfer, Reference: "TX-1"})
			return err
		},
		func() error {
			return h.Adjust(ctx, domain.CreditsAdjusted{AccountID: acct, Amount: dec("-12.5"), Reason: "refund"})
		},
		func() error {
			_, err := h.PublishPriceList(ctx, PriceList{Prices: map[string]domain.ModelPrice{"a/b": {Input: dec("1"), Output: dec("2")}}})
			return err
		},
		func() error {
			if _, _, err := h.IssueStaffToken(ctx, "admin", "one"); err != nil {
				return err
			}
			id, _, err := h.IssueStaffToken(ctx, "admin", "two")
			if err != nil {
				return err
			}
			return h.RevokeStaffToken(ctx, id)
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	types := map[string]bool{}
	for _, e := range all(t, h) {
		ev, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			t.Fatal(err)
		}
		at, ok := ev.(domain.Attributed)
		if !ok {
			t.Fatalf("%s is a command event without an actor", e.Type)
		}
		if *at.ActedBy() != clerk {
			t.Errorf("%s: actor %+v, want %+v", e.Type, *at.ActedBy(), clerk)
		}
		types[e.Type] = true
	}
	for _, typ := range []string{domain.TypeAccountOpened, domain.TypePlanChanged, domain.TypeAccountSuspended, domain.TypeAccountResumed,
		domain.TypeKeyIssued, domain.TypeKeyRevoked, domain.TypeCreditsToppedUp, domain.TypeCreditsAdjusted,
		domain.TypePriceListPublished, domain.TypeStaffTokenIssued, domain.TypeStaffTokenRevoked} {
		if !types[typ] {
			t.Errorf("no %s event was checked", typ)
		}
	}
}

func TestTopUpMustBePositiveWholeAndBounded(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	topUp := func(amount, ref string) error {
		_, err := h.TopUp(ctx, domain.CreditsToppedUp{AccountID: acct, Amount: dec(amount), Method: domain.MethodBankTransfer, Reference: ref})
		return err
	}
	n := len(all(t, h))
	wantRefused(t, h, n, topUp("1000000000000000000", "huge"), ErrInvalid, "at most NT$1000000")
	wantRefused(t, h, n, topUp("1000001", "over"), ErrInvalid, "at most NT$1000000")
	wantRefused(t, h, n, topUp("0.001", "tiny"), ErrInvalid, "whole number of New Taiwan dollars")
	wantRefused(t, h, n, topUp("100.50", "cents"), ErrInvalid, "whole number")
	wantRefused(t, h, n, topUp("0", "zero"), ErrInvalid, "must be positive")
	wantRefused(t, h, n, topUp("-1", "neg"), ErrInvalid, "must be positive")
	if err := topUp("1000000", "max"); err != nil {
		t.Fatalf("the bound itself is allowed: %v", err)
	}
	if err := topUp("1", "one"); err != nil {
		t.Fatalf("NT$1: %v", err)
	}
	// The bound is configurable.
	h.MaxTopUp = dec("5000")
	n = len(all(t, h))
	wantRefused(t, h, n, topUp("5001", "cfg"), ErrInvalid, "at most NT$5000")
	if err := topUp("5000", "cfg2"); err != nil {
		t.Fatal(err)
	}
}

// A reference is credited once: the same reference and amount again is a
// duplicate, with another amount a conflict; CheckTopUp answers the same
// without recording anything, and an unknown account is refused.
func TestTopUpReferenceCreditedOnceAndChecked(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	top := func(amount, ref string) domain.CreditsToppedUp {
		return domain.CreditsToppedUp{AccountID: acct, Amount: dec(amount), Method: domain.MethodBankTransfer, Reference: ref}
	}
	n := len(all(t, h))
	if dup, err := h.CheckTopUp(ctx, top("500", "TX-1")); dup || err != nil {
		t.Fatalf("check of a new reference: %v %v", dup, err)
	}
	wantRefused(t, h, n, func() error { _, err := h.CheckTopUp(ctx, top("0.5", "TX-1")); return err }(), ErrInvalid, "whole number")
	if dup, err := h.TopUp(ctx, top("500", " TX-1 ")); dup || err != nil {
		t.Fatalf("first top-up: %v %v", dup, err)
	}
	n = len(all(t, h))
	for _, check := range []bool{true, false} {
		var dup bool
		var err error
		if check {
			dup, err = h.CheckTopUp(ctx, top("500", "TX-1"))
		} else {
			dup, err = h.TopUp(ctx, top("500", "TX-1"))
		}
		if !dup || err != nil || len(all(t, h)) != n {
			t.Fatalf("the same reference again (check %v): %v %v, %d events", check, dup, err, len(all(t, h)))
		}
	}
	wantRefused(t, h, n, func() error { _, err := h.CheckTopUp(ctx, top("600", "TX-1")); return err }(), ErrConflict, "already recorded")
	wantRefused(t, h, n, func() error { _, err := h.TopUp(ctx, top("600", "TX-1")); return err }(), ErrConflict, "already recorded")
	ghost := domain.CreditsToppedUp{AccountID: "acct_nobody", Amount: dec("5"), Method: domain.MethodBankTransfer, Reference: "TX-2"}
	wantRefused(t, h, n, func() error { _, err := h.TopUp(ctx, ghost); return err }(), ErrNotFound, "acct_nobody")
	wantRefused(t, h, n, func() error { _, err := h.CheckTopUp(ctx, ghost); return err }(), ErrNotFound, "acct_nobody")
}

// AdjustOnce records once per key; CheckAdjust refuses what Adjust would.
func TestAdjustOncePerKey(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	adj := domain.CreditsAdjusted{AccountID: acct, Amount: dec("-40"), Reason: "refund"}
	count := func() int {
		c := 0
		for _, e := range all(t, h) {
			if e.Type == domain.TypeCreditsAdjusted {
				c++
			}
		}
		return c
	}
	for i := 0; i < 2; i++ {
		if err := h.AdjustOnce(ctx, adj, "form-1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := count(); got != 1 {
		t.Fatalf("the same key twice recorded %d adjustments, want 1", got)
	}
	if err := h.AdjustOnce(ctx, adj, "form-2"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := h.AdjustOnce(ctx, adj, " "); err != nil {
			t.Fatal(err)
		}
	}
	if got := count(); got != 4 {
		t.Fatalf("another key and two keyless calls: %d adjustments, want 4", got)
	}
	n := len(all(t, h))
	if err := h.CheckAdjust(ctx, adj); err != nil {
		t.Fatalf("check of a valid adjustment: %v", err)
	}
	wantRefused(t, h, n, h.CheckAdjust(ctx, domain.CreditsAdjusted{AccountID: acct, Amount: dec("5"), Reason: ""}), ErrInvalid, "a reason")
	wantRefused(t, h, n, h.CheckAdjust(ctx, domain.CreditsAdjusted{AccountID: "acct_nobody", Amount: dec("5"), Reason: "x"}), ErrNotFound, "acct_nobody")
	if len(all(t, h)) != n {
		t.Fatal("a check recorded something")
	}
}

func TestAdjustmentsGoBothWaysWithAReason(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	for _, amt := range []string{"250", "-99.5"} {
		if err := h.Adjust(ctx, domain.CreditsAdjusted{AccountID: acct, Amount: dec(amt), Reason: "correction " + amt}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, e := range all(t, h) {
		if e.Type == domain.TypeCreditsAdjusted {
			ev, _ := domain.Decode(e.Type, e.SchemaVersion, e.Data)
			a := ev.(*domain.CreditsAdjusted)
			got = append(got, a.Amount.String()+" "+a.Reason)
		}
	}
	if strings.Join(got, "|") != "250 correction 250|-99.5 correction -99.5" {
		t.Fatalf("adjustments recorded: %q", got)
	}
	n := len(all(t, h))
	wantRefused(t, h, n, h.Adjust(ctx, domain.CreditsAdjusted{AccountID: acct, Amount: dec("10"), Reason: "  "}), ErrInvalid, "a reason")
	wantRefused(t, h, n, h.Adjust(ctx, domain.CreditsAdjusted{AccountID: acct, Amount: dec("0"), Reason: "x"}), ErrInvalid, "non-zero")
	wantRefused(t, h, n, h.Adjust(ctx, domain.CreditsAdjusted{AccountID: acct, Amount: dec("-2000000"), Reason: "x"}), ErrInvalid, "at most")
	wantRefused(t, h, n, h.Adjust(ctx, domain.CreditsAdjusted{AccountID: acct, Amount: dec("0.005"), Reason: "x"}), ErrInvalid, "two decimal places")
	wantRefused(t, h, n, h.Adjust(ctx, domain.CreditsAdjusted{AccountID: "acct_nobody", Amount: dec("1"), Reason: "x"}), ErrNotFound, "acct_nobody")
}

func TestVolumeDiscountMustBeBelowOne(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	plan := func(d string) error {
		return h.ChangePlan(ctx, domain.PlanChanged{AccountID: acct, Plan: domain.PlanEnterprise, VolumeDiscount: dec(d)})
	}
	n := len(all(t, h))
	wantRefused(t, h, n, plan("1"), ErrInvalid, "discount must be below 1")
	wantRefused(t, h, n, plan("1.5"), ErrInvalid, "discount must be below 1")
	wantRefused(t, h, n, plan("-0.1"), ErrInvalid, "must not be negative")
	wantRefused(t, h, n, plan("0.00001"), ErrInvalid, "four decimal places")
	if err := plan("0.1234"); err != nil {
		t.Fatalf("a discount of 12.34 %% is allowed: %v", err)
	}
	if err := plan("0.99"); err != nil {
		t.Fatalf("a 99 %% discount is allowed: %v", err)
	}
}

// A suspension needs a reason, as its resumption does: the auditor reads
// why a customer was cut off beside who did it.
func TestSuspendNeedsAReason(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	n := len(all(t, h))
	wantRefused(t, h, n, h.SuspendAccount(ctx, acct, ""), ErrInvalid, "suspending an account needs a reason")
	wantRefused(t, h, n, h.SuspendAccount(ctx, acct, " \t"), ErrInvalid, "suspending an account needs a reason")
	if s, _ := h.AccountState(ctx, acct); s.Suspended {
		t.Fatal("suspended without a reason")
	}
	if err := h.SuspendAccount(ctx, acct, " unpaid invoice AB-12345678 "); err != nil {
		t.Fatal(err)
	}
	evs := all(t, h)
	last := evs[len(evs)-1]
	ev, err := domain.Decode(last.Type, last.SchemaVersion, last.Data)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := ev.(*domain.AccountSuspended); !ok || s.Reason != "unpaid invoice AB-12345678" {
		t.Fatalf("last event %s %s, want account.suspended with its reason", last.Type, last.Data)
	}
}

func TestResumeLiftsASuspension(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	n := len(all(t, h))
	wantRefused(t, h, n, h.ResumeAccount(ctx, acct, "why not"), ErrConflict, "is not suspended")
	if err := h.SuspendAccount(ctx, acct, "chargeback"); err != nil {
		t.Fatal(err)
	}
	n = len(all(t, h))
	wantRefused(t, h, n, h.ResumeAccount(ctx, acct, ""), ErrInvalid, "needs a reason")
	wantRefused(t, h, n, h.ResumeAccount(ctx, "acct_nobody", "x"), ErrNotFound, "acct_nobody")
	if err := h.ResumeAccount(ctx, acct, "chargeback withdrawn"); err != nil {
		t.Fatal(err)
	}
	s, err := h.AccountState(ctx, acct)
	if err != nil || s.Suspended {
		t.Fatalf("after resume: suspended %v, %v", s.Suspended, err)
	}
	// It can be suspended again.
	if err := h.SuspendAccount(ctx, acct, "again"); err != nil {
		t.Fatal(err)
	}
	if s, _ := h.AccountState(ctx, acct); !s.Suspended {
		t.Fatal("a resumed account could not be suspended again")
	}
}

func price(in, out string) domain.ModelPrice {
	return domain.ModelPrice{Input: dec(in), Output: dec(out)}
}

func lastList(t *testing.T, h *Handler) *domain.PriceListPublished {
	t.Helper()
	var pl *domain.PriceListPublished
	for _, e := range all(t, h) {
		if e.Type == domain.TypePriceListPublished {
			ev, _ := domain.Decode(e.Type, e.SchemaVersion, e.Data)
			pl = ev.(*domain.PriceListPublished)
		}
	}
	return pl
}

func TestPricePublicationAmendsUnlessItReplaces(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	if _, err := h.PublishPriceList(ctx, PriceList{Prices: map[string]domain.ModelPrice{"a/one": price("1", "2"), "a/two": price("3", "4")}}); err != nil {
		t.Fatal(err)
	}
	// One model's price: the other keeps its own.
	p, err := h.PublishPriceList(ctx, PriceList{Prices: map[string]domain.ModelPrice{"a/one": price("5", "6")}})
	if err != nil {
		t.Fatal(err)
	}
	pl := lastList(t, h)
	if p.Version != 2 || pl.Replace || len(pl.Prices) != 2 || !pl.Prices["a/one"].Input.Equal(dec("5")) || !pl.Prices["a/two"].Input.Equal(dec("3")) {
		t.Fatalf("amend: %+v, list %+v", p, pl)
	}
	// Replace: exactly the list given; what it drops is reported.
	p, err = h.PublishPriceList(ctx, PriceList{Prices: map[string]domain.ModelPrice{"a/three": price("7", "8")}, Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	pl = lastList(t, h)
	if !pl.Replace || len(pl.Prices) != 1 || strings.Join(p.Removed, ",") != "a/one,a/two" || p.Models != 1 {
		t.Fatalf("replace: %+v, list %+v", p, pl)
	}
}

func TestPriceListsCannotTakeEffectInThePast(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	one := map[string]domain.ModelPrice{"a/one": price("1", "2")}
	n := len(all(t, h))
	_, err := h.PublishPriceList(ctx, PriceList{Prices: one, EffectiveAt: t0.Add(-time.Hour)})
	wantRefused(t, h, n, err, ErrInvalid, "is in the past")
	// Within the clock skew: now.
	p, err := h.PublishPriceList(ctx, PriceList{Prices: one, EffectiveAt: t0.Add(-10 * time.Second)})
	if err != nil || !p.EffectiveAt.Equal(t0) {
		t.Fatalf("skewed: %+v, %v", p, err)
	}
	// The future: as given; an amendment at that time builds on the list
	// then in force.
	later := t0.Add(24 * time.Hour)
	if _, err := h.PublishPriceList(ctx, PriceList{Prices: map[string]domain.ModelPrice{"a/two": price("3", "4")}, EffectiveAt: later}); err != nil {
		t.Fatal(err)
	}
	if pl := lastList(t, h); !pl.EffectiveAt.Equal(later) || len(pl.Prices) != 2 {
		t.Fatalf("future amendment: %+v", pl)
	}
}

func TestTheLastAdminCannotBeRevoked(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	first, _, err := h.IssueStaffToken(ctx, "admin", "first")
	if err != nil {
		t.Fatal(err)
	}
	fin, _, err := h.IssueStaffToken(ctx, "finance", "clerk")
	if err != nil {
		t.Fatal(err)
	}
	n := len(all(t, h))
	wantRefused(t, h, n, h.RevokeStaffToken(ctx, first), ErrConflict, "last admin token")
	// Other roles go freely.
	if err := h.RevokeStaffToken(ctx, fin); err != nil {
		t.Fatal(err)
	}
	second, _, err := h.IssueStaffToken(ctx, "admin", "second")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.RevokeStaffToken(ctx, first); err != nil {
		t.Fatalf("with a second admin: %v", err)
	}
	n = len(all(t, h))
	wantRefused(t, h, n, h.RevokeStaffToken(ctx, second), ErrConflict, "last admin token")
	tokens, err := h.ListStaffTokens(ctx)
	if err != nil || len(tokens) != 3 || !tokens[0].Revoked || !tokens[1].Revoked || tokens[2].Revoked {
		t.Fatalf("tokens: %+v, %v", tokens, err)
	}
}

// A credit limit is set on its own: the plan, limits and discount stay;
// prepaid accounts, negative limits and unknown accounts are refused.
func TestSetCreditLimitKeepsThePlan(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanEnterprise)
	if err := h.ChangePlan(ctx, domain.PlanChanged{AccountID: acct, Plan: domain.PlanEnterprise, RPM: 700, TPM: 90000, VolumeDiscount: dec("0.1")}); err != nil {
		t.Fatal(err)
	}
	if err := h.SetCreditLimit(ctx, acct, dec("25000")); err != nil {
		t.Fatal(err)
	}
	s, err := h.AccountState(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if !s.CreditLimit.Equal(dec("25000")) || s.Plan != domain.PlanEnterprise || s.RPM != 700 || s.TPM != 90000 || !s.VolumeDiscount.Equal(dec("0.1")) {
		t.Fatalf("after the credit limit: %+v", s)
	}
	n := len(all(t, h))
	wantRefused(t, h, n, h.SetCreditLimit(ctx, acct, dec("-1")), ErrInvalid, "must not be negative")
	prepaid := mustOpen(t, ctx, h, domain.PlanStarter)
	n = len(all(t, h))
	wantRefused(t, h, n, h.SetCreditLimit(ctx, prepaid, dec("100")), ErrInvalid, "prepaid")
	if err := h.SetCreditLimit(ctx, "acct_none", dec("100")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
}

// A stream longer than one page of reads is folded whole.
func TestAccountStateReadsPastOnePage(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanEnterprise)
	var evs []eventstore.EventData
	for i := 1; i <= 1001; i++ {
		d, err := Event(domain.EventID("rpm", acct, strings.Repeat("x", i)), t0, &domain.PlanChanged{AccountID: acct, Plan: domain.PlanEnterprise, RPM: int64(i)})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, d)
	}
	if _, err := h.Store.Append(ctx, domain.AccountStream(acct), eventstore.Exact(0), evs...); err != nil {
		t.Fatal(err)
	}
	s, err := h.AccountState(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if s.RPM != 1001 || s.Version != 1001 {
		t.Fatalf("after 1,002 events: RPM %d, version %d", s.RPM, s.Version)
	}
}

// An account opens on the plan and under the ID asked for; without them,
// on starter under a fresh ID.
func TestOpenAccountPlanAndID(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	id, err := h.OpenAccount(ctx, domain.AccountOpened{AccountID: "acct_given", Organisation: "Org", Plan: domain.PlanBusiness, CreditLimit: dec("5000")})
	if err != nil || id != "acct_given" {
		t.Fatalf("open with an ID: %q %v", id, err)
	}
	a, _, err := h.Account(ctx, id)
	if err != nil || a.Plan != domain.PlanBusiness || !a.CreditLimit.Equal(dec("5000")) {
		t.Fatalf("opened business account: %+v %v", a, err)
	}
	id2, err := h.OpenAccount(ctx, domain.AccountOpened{Organisation: "Org"})
	if err != nil || !strings.HasPrefix(id2, "acct_") || len(id2) <= len("acct_") || id2 == id {
		t.Fatalf("open without an ID: %q %v", id2, err)
	}
	if a, _, err := h.Account(ctx, id2); err != nil || a.Plan != domain.PlanStarter {
		t.Fatalf("account without a plan: %+v %v", a, err)
	}
}

// A key with a spending limit and no period gets a monthly one; a period
// given is kept. The key's shown prefix is its first six random characters.
func TestIssueKeyPeriodAndPrefix(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	issued := func(k domain.KeyIssued) (domain.KeyIssued, string) {
		t.Helper()
		id, secret, err := h.IssueKey(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range all(t, h) {
			if e.Stream == domain.KeyStream(id) {
				ev, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
				if err != nil {
					t.Fatal(err)
				}
				return *ev.(*domain.KeyIssued), secret
			}
		}
		t.Fatalf("key %s not stored", id)
		return domain.KeyIssued{}, ""
	}
	k, secret := issued(domain.KeyIssued{AccountID: acct, Name: "a", SpendLimit: dec("100")})
	if k.SpendPeriod != "monthly" {
		t.Errorf("limit without a period: %q", k.SpendPeriod)
	}
	if want := secret[:len(KeyPrefix)+6] + "…"; k.Prefix != want || !strings.HasPrefix(secret, KeyPrefix) {
		t.Errorf("prefix %q of %q…, want %q", k.Prefix, secret[:10], want)
	}
	if k, _ := issued(domain.KeyIssued{AccountID: acct, Name: "b", SpendLimit: dec("100"), SpendPeriod: "daily"}); k.SpendPeriod != "daily" {
		t.Errorf("daily limit: %q", k.SpendPeriod)
	}
	if k, _ := issued(domain.KeyIssued{AccountID: acct, Name: "c"}); k.SpendPeriod != "" {
		t.Errorf("no limit: %q", k.SpendPeriod)
	}
}

// Key secrets and IDs are uniform over their alphabet: a bias would cost
// a key entropy. Over 620,000 characters each of the 62 expects 10,000; a
// 6 % band is six standard deviations, while a byte mapped to the wrong
// side of the rejection bound skews some characters by a quarter.
func TestRandomIDIsUniform(t *testing.T) {
	const n = 620_000
	counts := map[rune]int{}
	for _, c := range randomID(n) {
		counts[c]++
	}
	if len(counts) != len(idAlphabet) {
		t.Fatalf("%d distinct characters, want %d", len(counts), len(idAlphabet))
	}
	for _, c := range idAlphabet {
		if got := counts[c]; got < 9400 || got > 10600 {
			t.Errorf("%q drawn %d times, want 10,000 ± 6 %%", c, got)
		}
	}
}

// Staff tokens: the three roles and nothing else; a chosen token of 24
// characters is the shortest accepted.
func TestStaffTokenRolesAndLength(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	for _, role := range []string{"admin", "finance", "auditor"} {
		if _, _, err := h.IssueStaffToken(ctx, role, role); err != nil {
			t.Errorf("role %s: %v", role, err)
		}
	}
	n := len(all(t, h))
	_, _, err := h.IssueStaffToken(ctx, "root", "x")
	wantRefused(t, h, n, err, ErrInvalid, "role must be")
	_, err = h.RegisterStaffToken(ctx, "admin", "short", strings.Repeat("s", 23))
	wantRefused(t, h, n, err, ErrInvalid, "at least 24")
	if _, err := h.RegisterStaffToken(ctx, "admin", "exact", strings.Repeat("s", 24)); err != nil {
		t.Fatalf("a 24-character token: %v", err)
	}
}

// Disabling and enabling write one event each, none when the key is
// already so, and a revoked key can be neither.
func TestSetKeyDisabled(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	if _, err := h.OpenAccount(ctx, domain.AccountOpened{AccountID: "acct_d", Organisation: "D", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	id, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: "acct_d", Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SetKeyDisabled(ctx, "key_none", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	types := func() []string {
		evs, err := h.Store.ReadStream(ctx, domain.KeyStream(id), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, e.Type)
		}
		return out
	}
	for _, d := range []bool{false, true, true, false, false, true} {
		if err := h.SetKeyDisabled(ctx, id, d); err != nil {
			t.Fatal(err)
		}
		if st, err := h.Key(ctx, id); err != nil || st.Disabled != d || st.Revoked {
			t.Fatalf("after SetKeyDisabled(%v): %+v %v", d, st, err)
		}
	}
	want := []string{domain.TypeKeyIssued, domain.TypeKeyDisabled, domain.TypeKeyEnabled, domain.TypeKeyDisabled}
	if got := types(); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	d, err := h.Store.ReadStream(ctx, domain.KeyStream(id), 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := domain.Decode(d[0].Type, d[0].SchemaVersion, d[0].Data); err != nil || ev.(*domain.KeyDisabled).AccountID != "acct_d" || ev.(*domain.KeyDisabled).KeyID != id {
		t.Fatalf("disable event %#v %v", ev, err)
	}
	if err := h.RevokeKey(ctx, id); err != nil {
		t.Fatal(err)
	}
	for _, d := range []bool{false, true} {
		if err := h.SetKeyDisabled(ctx, id, d); !errors.Is(err, ErrConflict) {
			t.Fatalf("SetKeyDisabled(%v) on a revoked key: %v", d, err)
		}
	}
}

// A year typed wrong (9999, 2207) would schedule a list that every later
// publication carries forward and no one meant: more than a year ahead is
// refused, nothing recorded.
func TestPriceListsFarAheadAreRefused(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	one := map[string]domain.ModelPrice{"a/one": price("1", "2")}
	n := len(all(t, h))
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := h.PublishPriceList(ctx, PriceList{Prices: one, EffectiveAt: far})
	wantRefused(t, h, n, err, ErrInvalid, "more than a year ahead")
	_, err = h.PublishPriceList(ctx, PriceList{Prices: one, EffectiveAt: t0.Add(MaxPriceLead + time.Second)})
	wantRefused(t, h, n, err, ErrInvalid, "more than a year ahead")
	if _, err := h.PublishPriceList(ctx, PriceList{Prices: one, EffectiveAt: t0.Add(MaxPriceLead)}); err != nil {
		t.Fatalf("a year ahead: %v", err)
	}
}
