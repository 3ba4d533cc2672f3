package commands

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/internal/testenv"
)

// storeKind opens an event store of one kind, a new one per call, and
// reopens it (a restart) with reopen.
type storeKind struct {
	name string
	open func(t *testing.T) (s eventstore.Store, reopen func() eventstore.Store)
}

func storeKinds() []storeKind {
	return []storeKind{
		{"sqlite", func(t *testing.T) (eventstore.Store, func() eventstore.Store) {
			path := filepath.Join(t.TempDir(), "events.db")
			open := func() eventstore.Store {
				s, err := sqlite.Open(path, sqlite.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
			return open(), open
		}},
		{"postgres", func(t *testing.T) (eventstore.Store, func() eventstore.Store) {
			url := testenv.PostgresURL(t)
			open := func() eventstore.Store {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				s, err := postgres.Open(ctx, url, postgres.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
			return open(), open
		}},
	}
}

// refTopUps lists the top-ups of every account recorded under ref (in any
// capitals or width), by account.
func refTopUps(t *testing.T, h *Handler, ref string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, e := range all(t, h) {
		if e.Type != domain.TypeCreditsToppedUp {
			continue
		}
		b, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			t.Fatal(err)
		}
		if tu := b.(*domain.CreditsToppedUp); sameReference(tu.Reference, ref) {
			out[tu.AccountID]++
		}
	}
	return out
}

// A payment's reference (a bank transfer's, a card charge's) is one
// account's: recorded on another account, in any capitals or width, it is
// refused naming the account that holds it, and nothing is recorded; the
// same holds after a restart, with no memory of the first process. Credit
// given (method adjustment) has references of staff's own, which several
// accounts may share.
func TestPaymentReferenceHeldByAnotherAccountIsRefused(t *testing.T) {
	for _, k := range storeKinds() {
		t.Run(k.name, func(t *testing.T) {
			s, reopen := k.open(t)
			h := &Handler{Store: s, Now: func() time.Time { return t0 }}
			ctx := context.Background()
			holder, other := mustOpen(t, ctx, h, domain.PlanStarter), mustOpen(t, ctx, h, domain.PlanStarter)
			pay := func(acct, amount, method, ref string) domain.CreditsToppedUp {
				return domain.CreditsToppedUp{AccountID: acct, Amount: dec(amount), Method: method, Reference: ref}
			}
			if dup, err := h.TopUp(ctx, pay(holder, "5000", domain.MethodBankTransfer, "TX-20261128-001")); dup || err != nil {
				t.Fatalf("first transfer: %v %v", dup, err)
			}
			n := len(all(t, h))
			for _, tu := range []domain.CreditsToppedUp{
				pay(other, "5000", domain.MethodBankTransfer, "TX-20261128-001"),
				pay(other, "700", domain.MethodBankTransfer, "tx-20261128-001"),
				pay(other, "5000", domain.MethodCard, "ＴＸ－２０２６１１２８－００１"),
			} {
				_, err := h.CheckTopUp(ctx, tu)
				wantRefused(t, h, n, err, ErrConflict, "account "+holder)
				_, err = h.TopUp(ctx, tu)
				wantRefused(t, h, n, err, ErrConflict, "account "+holder)
			}
			// The holder's own again is still a duplicate.
			if dup, err := h.TopUp(ctx, pay(holder, "5000", domain.MethodBankTransfer, "tx-20261128-001")); !dup || err != nil {
				t.Fatalf("the holder's transfer again: %v %v", dup, err)
			}
			for _, acct := range []string{holder, other} {
				if dup, err := h.TopUp(ctx, pay(acct, "100", domain.MethodAdjustment, "WELCOME-2026")); dup || err != nil {
					t.Fatalf("credit given to %s under a shared note: %v %v", acct, dup, err)
				}
			}

			// After a restart: a new process, its own handler, the same history.
			s.Close()
			h2 := &Handler{Store: reopen(), Now: func() time.Time { return t0 }}
			n = len(all(t, h2))
			_, err := h2.TopUp(ctx, pay(other, "5000", domain.MethodBankTransfer, "Tx-20261128-001"))
			wantRefused(t, h2, n, err, ErrConflict, "account "+holder)
			if got := refTopUps(t, h2, "TX-20261128-001"); len(got) != 1 || got[holder] != 1 {
				t.Fatalf("the reference is recorded on %v", got)
			}
		})
	}
}

// A payment recorded before references were made one account's (its
// event's ID is its account's and its reference's) is found all the same,
// in the store's history and in a read model fed with it.
func TestPaymentReferenceRecordedEarlierIsHeld(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	holder, other := mustOpen(t, ctx, h, domain.PlanStarter), mustOpen(t, ctx, h, domain.PlanStarter)
	earlier := &domain.CreditsToppedUp{AccountID: holder, Amount: dec("3000"), Method: domain.MethodBankTransfer, Reference: "BANK-77"}
	if _, err := h.append(ctx, domain.TopUpStream(holder), eventstore.NoStream(), domain.EventID(domain.TypeCreditsToppedUp, holder, "BANK-77"), earlier); err != nil {
		t.Fatal(err)
	}
	refs := NewPaymentReferences()
	for _, e := range all(t, h) {
		if e.Type == domain.TypeCreditsToppedUp {
			b, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
			if err != nil {
				t.Fatal(err)
			}
			refs.Add(e.ID, b.(*domain.CreditsToppedUp))
		}
	}
	for name, hi := range map[string]*Handler{
		"history":    {Store: h.Store, Now: h.Now},
		"read model": {Store: h.Store, Now: h.Now, PaymentReferences: refs},
	} {
		n := len(all(t, h))
		_, err := hi.TopUp(ctx, domain.CreditsToppedUp{AccountID: other, Amount: dec("3000"), Method: domain.MethodBankTransfer, Reference: "bank-77"})
		if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "account "+holder) || !strings.Contains(err.Error(), `"BANK-77"`) {
			t.Fatalf("%s: %v, want a conflict naming %s and the reference as recorded", name, err, holder)
		}
		wantRefused(t, h, n, err, ErrConflict, "account "+holder)
	}
}

// Recordings of one reference on several accounts at once, each with a
// handler of its own (as each console request and each process has):
// exactly one is recorded, and every other is refused naming its account.
func TestConcurrentPaymentReferenceOnTwoAccountsRecordsOne(t *testing.T) {
	for _, k := range storeKinds() {
		t.Run(k.name, func(t *testing.T) {
			s, _ := k.open(t)
			h := &Handler{Store: s, Now: func() time.Time { return t0 }}
			ctx := context.Background()
			for round := range 5 {
				ref := fmt.Sprintf("TX-RACE-%d", round)
				accts := make([]string, 4)
				for i := range accts {
					accts[i] = mustOpen(t, ctx, h, domain.PlanStarter)
				}
				errs := make([]error, len(accts))
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i, acct := range accts {
					wg.Add(1)
					go func() {
						defer wg.Done()
						hi := &Handler{Store: s, Now: h.Now}
						<-start
						_, errs[i] = hi.TopUp(ctx, domain.CreditsToppedUp{AccountID: acct, Amount: dec("1200"), Method: domain.MethodBankTransfer, Reference: ref})
					}()
				}
				close(start)
				wg.Wait()
				got := refTopUps(t, h, ref)
				if len(got) != 1 {
					t.Fatalf("round %d: the reference is recorded on %v, want one account", round, got)
				}
				var winner string
				for acct, n := range got {
					if winner = acct; n != 1 {
						t.Fatalf("round %d: %s has it %d times", round, acct, n)
					}
				}
				for i, acct := range accts {
					switch {
					case acct == winner && errs[i] != nil:
						t.Fatalf("round %d: the recorded one answered %v", round, errs[i])
					case acct != winner && (!errors.Is(errs[i], ErrConflict) || !strings.Contains(errs[i].Error(), "account "+winner)):
						t.Fatalf("round %d: %s answered %v, want a conflict naming %s", round, acct, errs[i], winner)
					}
				}
			}
		})
	}
}

// A read model beside a store that reads events by ID keeps only the
// payments recorded under an ID of their account's (before a reference
// was one account's): a payment stored under its reference's ID is found
// by that ID, so the index stops growing, and a handler with it still
// refuses the reference on another account either way.
func TestPaymentReferencesFoundByIDKeepOnlyEarlierPayments(t *testing.T) {
	for _, k := range storeKinds() {
		t.Run(k.name, func(t *testing.T) {
			s, _ := k.open(t)
			h := &Handler{Store: s, Now: func() time.Time { return t0 }}
			ctx := context.Background()
			holder, other := mustOpen(t, ctx, h, domain.PlanStarter), mustOpen(t, ctx, h, domain.PlanStarter)
			if _, err := h.TopUp(ctx, domain.CreditsToppedUp{AccountID: holder, Amount: dec("500"), Method: domain.MethodBankTransfer, Reference: "NEW-1"}); err != nil {
				t.Fatal(err)
			}
			earlier := &domain.CreditsToppedUp{AccountID: holder, Amount: dec("700"), Method: domain.MethodCard, Reference: "OLD-1"}
			if _, err := h.append(ctx, domain.TopUpStream(holder), eventstore.Any(), domain.EventID(domain.TypeCreditsToppedUp, holder, "OLD-1"), earlier); err != nil {
				t.Fatal(err)
			}
			refs := NewPaymentReferences()
			refs.FoundByID()
			for _, e := range all(t, h) {
				if e.Type == domain.TypeCreditsToppedUp {
					b, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
					if err != nil {
						t.Fatal(err)
					}
					refs.Add(e.ID, b.(*domain.CreditsToppedUp))
				}
			}
			if got := refs.Holders("NEW-1"); len(got) != 0 {
				t.Errorf("the index keeps %v for a payment stored under its reference's ID", got)
			}
			if got := refs.Holders("old-1"); len(got) != 1 || got[0] != holder {
				t.Errorf("the index has %v for an earlier payment, want [%s]", got, holder)
			}
			hi := &Handler{Store: s, Now: h.Now, PaymentReferences: refs}
			for _, ref := range []string{"new-1", "OLD-1"} {
				n := len(all(t, h))
				_, err := hi.TopUp(ctx, domain.CreditsToppedUp{AccountID: other, Amount: dec("500"), Method: domain.MethodBankTransfer, Reference: ref})
				wantRefused(t, h, n, err, ErrConflict, "account "+holder)
			}
		})
	}
}
