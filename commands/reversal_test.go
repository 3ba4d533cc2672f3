package commands

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/routefree/routefree/domain"
)

// Two operators reversing one mistaken adjustment at once record one
// reversal: the other is refused, as a conflict or as already reversed,
// never recorded beside it (the balance would be credited twice). The
// reversal sent again under its own key is the one recorded, not refused.
func TestOneAdjustmentIsReversedOnceUnderConcurrentReversals(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	if _, err := h.OpenAccount(ctx, domain.AccountOpened{AccountID: "acme", Organisation: "Acme", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	oops, _, err := h.AdjustOnceRecorded(ctx, domain.CreditsAdjusted{AccountID: "acme", Amount: dec("-20"), Reason: "typo"}, "")
	if err != nil {
		t.Fatal(err)
	}
	undo := domain.CreditsAdjusted{AccountID: "acme", Amount: dec("20"), Reason: "reverses the typo", Reverses: oops}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = h.Adjust(ctx, undo) })
	}
	wg.Wait()
	recorded := 0
	for _, err := range errs {
		switch {
		case err == nil:
			recorded++
		case errors.Is(err, ErrConflict), errors.Is(err, ErrInvalid):
		default:
			t.Fatalf("a concurrent reversal failed otherwise: %v", err)
		}
	}
	reversals := 0
	for _, e := range all(t, h) {
		if e.Type == domain.TypeCreditsAdjusted {
			b, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
			if err != nil {
				t.Fatal(err)
			}
			if b.(*domain.CreditsAdjusted).Reverses == oops {
				reversals++
			}
		}
	}
	if recorded != 1 || reversals != 1 {
		t.Fatalf("%d calls said recorded, %d reversals in the history; want one of each (errors %v)", recorded, reversals, errs)
	}

	// Under a key: the same reversal sent again records nothing more.
	h2 := newHandler(t)
	if _, err := h2.OpenAccount(ctx, domain.AccountOpened{AccountID: "acme", Organisation: "Acme", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	oops, _, err = h2.AdjustOnceRecorded(ctx, domain.CreditsAdjusted{AccountID: "acme", Amount: dec("-20"), Reason: "typo"}, "")
	if err != nil {
		t.Fatal(err)
	}
	undo.Reverses = oops
	for i, want := range []bool{true, false} {
		id, rec, err := h2.AdjustOnceRecorded(ctx, undo, "ticket-7")
		if err != nil || rec != want || id == uuid.Nil {
			t.Fatalf("send %d under its key: %v recorded %v, %v; want recorded %v", i+1, id, rec, err, want)
		}
	}
}

// A reversal recorded while another adjustment or a payment of the account
// lands from another process (finance crediting a refund, serve recording
// a card payment) is decided again on the newer history and recorded, not
// refused with a "wrong expected version" that names nothing to do.
func TestReversalBesideAnotherAdjustmentIsRecorded(t *testing.T) {
	for _, other := range []string{"adjustment", "top-up"} {
		t.Run(other, func(t *testing.T) {
			h := newHandler(t)
			ctx := context.Background()
			if _, err := h.OpenAccount(ctx, domain.AccountOpened{AccountID: "acme", Organisation: "Acme", Plan: domain.PlanStarter}); err != nil {
				t.Fatal(err)
			}
			oops, _, err := h.AdjustOnceRecorded(ctx, domain.CreditsAdjusted{AccountID: "acme", Amount: dec("-20"), Reason: "typo"}, "")
			if err != nil {
				t.Fatal(err)
			}
			finance := &Handler{Store: h.Store, Now: h.Now} // another process on the store
			racing := &racingStore{Store: h.Store, stream: domain.TopUpStream("acme"), other: func() {
				var err error
				if other == "adjustment" {
					err = finance.Adjust(ctx, domain.CreditsAdjusted{AccountID: "acme", Amount: dec("7"), Reason: "refund of a request"})
				} else {
					_, err = finance.TopUp(ctx, domain.CreditsToppedUp{AccountID: "acme", Amount: dec("100"), Method: domain.MethodBankTransfer, Reference: "TX-1"})
				}
				if err != nil {
					t.Error(err)
				}
			}}
			operator := &Handler{Store: racing, Now: h.Now}
			undo := domain.CreditsAdjusted{AccountID: "acme", Amount: dec("20"), Reason: "reverses the typo", Reverses: oops}
			if _, rec, err := operator.AdjustOnceRecorded(ctx, undo, ""); err != nil || !rec {
				t.Fatalf("a reversal beside another %s: recorded %v, %v", other, rec, err)
			}
			bal := dec("0")
			for _, e := range all(t, h) {
				b, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
				if err != nil {
					t.Fatal(err)
				}
				switch b := b.(type) {
				case *domain.CreditsAdjusted:
					bal = bal.Add(b.Amount)
				case *domain.CreditsToppedUp:
					bal = bal.Add(b.Amount)
				}
			}
			want := map[string]string{"adjustment": "7", "top-up": "100"}[other]
			if !bal.Equal(dec(want)) {
				t.Fatalf("balance %s after the typo, its reversal and another %s; want %s", bal, other, want)
			}
		})
	}
}
