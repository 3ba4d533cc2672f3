package commands

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// busyStore is a store on which another writer keeps landing first: before
// each of the first `conflicts` appends to account's top-ups it appends an event of
// its own there, as another process's top-up to the same account would
// between a command's read and its append. It counts the reads of the
// history from its start.
type busyStore struct {
	eventstore.Store
	account   string
	conflicts int
	landed    int
	scans     atomic.Int32
}

func (b *busyStore) ReadAll(ctx context.Context, from eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	if from == eventstore.Start {
		b.scans.Add(1)
	}
	return b.Store.ReadAll(ctx, from, max)
}

func (b *busyStore) ReadEvent(ctx context.Context, id uuid.UUID) (eventstore.RecordedEvent, error) {
	return b.Store.(eventstore.EventReader).ReadEvent(ctx, id)
}

func (b *busyStore) Append(ctx context.Context, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	if stream == domain.TopUpStream(b.account) && b.landed < b.conflicts {
		b.landed++
		d, err := Event(uuid.New(), t0, &domain.CreditsToppedUp{AccountID: b.account,
			Amount: dec("1"), Method: domain.MethodAdjustment, Reference: fmt.Sprintf("GOODWILL-%d", b.landed)})
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		if _, err := b.Store.Append(ctx, stream, eventstore.Any(), d); err != nil {
			return eventstore.AppendResult{}, err
		}
	}
	return b.Store.Append(ctx, stream, exp, evs...)
}

// A top-up that loses its account's stream to other writers several times
// reads the whole history (which accounts hold its payment's reference)
// once, not once a try: on a long history each read takes seconds, and
// repeating it would only widen the gap in which the next writer lands.
// The payment is recorded once, after the others' events, and a reference
// held by another account is still refused.
func TestTopUpReadsHistoryOnceUnderConflicts(t *testing.T) {
	for _, k := range storeKinds() {
		t.Run(k.name, func(t *testing.T) {
			s, _ := k.open(t)
			ctx := context.Background()
			h := &Handler{Store: s, Now: func() time.Time { return t0 }}
			acct, holder := mustOpen(t, ctx, h, domain.PlanStarter), mustOpen(t, ctx, h, domain.PlanStarter)
			// A payment recorded before a reference was one account's,
			// under an event ID of its account's: found only in the history.
			earlier := &domain.CreditsToppedUp{AccountID: holder, Amount: dec("3000"), Method: domain.MethodBankTransfer, Reference: "BANK-77"}
			if _, err := h.append(ctx, domain.TopUpStream(holder), eventstore.Any(), domain.EventID(domain.TypeCreditsToppedUp, holder, "BANK-77"), earlier); err != nil {
				t.Fatal(err)
			}

			const conflicts = 3
			busy := &busyStore{Store: s, account: acct, conflicts: conflicts}
			hb := &Handler{Store: busy, Now: h.Now}
			pay := domain.CreditsToppedUp{AccountID: acct, Amount: dec("5000"), Method: domain.MethodBankTransfer, Reference: "TX-9001"}
			if dup, err := hb.TopUp(ctx, pay); dup || err != nil {
				t.Fatalf("top-up: %v %v", dup, err)
			}
			if busy.landed != conflicts {
				t.Fatalf("%d other writers landed first, want %d", busy.landed, conflicts)
			}
			if n := busy.scans.Load(); n != 1 {
				t.Fatalf("the history was read %d times for one top-up, want once", n)
			}
			evs, _, err := h.readStream(ctx, domain.TopUpStream(acct))
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != conflicts+1 || evs[conflicts].(*domain.CreditsToppedUp).Reference != "TX-9001" {
				t.Fatalf("the account's top-ups: %d, want the others' %d and the payment last", len(evs), conflicts)
			}
			if got := refTopUps(t, h, "TX-9001"); len(got) != 1 || got[acct] != 1 {
				t.Fatalf("the payment is recorded on %v", got)
			}

			// The same payment again is a duplicate that needs no history.
			busy.scans.Store(0)
			if dup, err := hb.TopUp(ctx, pay); !dup || err != nil {
				t.Fatalf("the payment again: %v %v", dup, err)
			}
			if n := busy.scans.Load(); n != 0 {
				t.Fatalf("a duplicate read the history %d times", n)
			}

			// The reference the other account holds is refused, naming it.
			busy.scans.Store(0)
			n := len(all(t, h))
			_, err = hb.TopUp(ctx, domain.CreditsToppedUp{AccountID: acct, Amount: dec("3000"), Method: domain.MethodBankTransfer, Reference: "bank-77"})
			wantRefused(t, h, n, err, ErrConflict, "account "+holder)
			if n := busy.scans.Load(); n != 1 {
				t.Fatalf("a refused payment read the history %d times, want once", n)
			}
		})
	}
}
