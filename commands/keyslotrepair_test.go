package commands

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/projections"
)

// refuseKeyOnce is a store that refuses the next append of a key.issued
// once, as a store refusing it or a process dying after the key's slot was
// taken would leave it: the slot taken, the key never recorded.
type refuseKeyOnce struct {
	eventstore.Store
	armed bool
}

func (s *refuseKeyOnce) Append(ctx context.Context, stream string, exp eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if s.armed && len(events) > 0 && events[0].Type == domain.TypeKeyIssued {
		s.armed = false
		return eventstore.AppendResult{}, errors.New("the store refused the append")
	}
	return s.Store.Append(ctx, stream, exp, events...)
}

// keyModel is the key read model over a store, brought up to date only
// when catchUp is called.
type keyModel struct {
	keys *projections.Keys
	pos  eventstore.Position
}

func (m *keyModel) catchUp(t *testing.T, s eventstore.Store) {
	t.Helper()
	for {
		evs, err := s.ReadAll(context.Background(), m.pos, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return
		}
		batch := make([]projections.Event, len(evs))
		for i, e := range evs {
			d, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
			batch[i] = projections.Event{RecordedEvent: e, Body: d, Err: err}
		}
		if err := m.keys.Apply(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		m.pos = evs[len(evs)-1].Position
	}
}

// A slot taken for a key that was never recorded holds the account's
// place only while its issue could still be under way: a decision on the
// account's slots a minute later frees it, saying why, in the same append
// as its own, and the account gets its keys up to the cap again. Slots of
// keys that were recorded stay taken, whether the key read model lists
// them, lags behind them, or is not there at all (the keys' own streams).
func TestASlotWhoseKeyWasNeverRecordedIsFreed(t *testing.T) {
	for _, mode := range []string{"own streams", "read model", "read model behind"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			base := newHandler(t)
			store := &refuseKeyOnce{Store: base.Store}
			now := t0
			h := &Handler{Store: store, Now: func() time.Time { return now }, MaxKeysPerAccount: 3}
			model := &keyModel{keys: projections.NewKeys()}
			switch mode {
			case "read model":
				h.LiveKeys = func(acct string) []string { model.catchUp(t, store); return liveOf(model.keys, acct) }
			case "read model behind":
				h.LiveKeys = func(acct string) []string { return liveOf(model.keys, acct) }
			}
			acct := mustOpen(t, ctx, h, domain.PlanStarter)
			model.catchUp(t, store) // the lagging model never sees a key
			first, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "first"})
			if err != nil {
				t.Fatal(err)
			}
			store.armed = true
			if _, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "lost"}); err == nil {
				t.Fatal("the refused key was issued")
			}
			if _, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "second"}); err != nil {
				t.Fatal(err)
			}
			// Within the grace the lost key's issue may still be under way:
			// its slot counts.
			now = t0.Add(30 * time.Second)
			_, _, err = h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "too soon"})
			if !errors.Is(err, ErrKeyCap) {
				t.Fatalf("a third key while the lost one's slot may be in use: %v, want the cap's refusal", err)
			}
			now = t0.Add(2 * time.Minute)
			if err := h.CheckIssue(ctx, domain.KeyIssued{AccountID: acct}); err != nil {
				t.Fatalf("checking a third key, two live: %v", err)
			}
			third, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "third"})
			if err != nil {
				t.Fatalf("a third key with %d live keys of 3: %v", liveKeys(t, h, acct), err)
			}
			_, _, err = h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "fourth"})
			if !errors.Is(err, ErrKeyCap) {
				t.Fatalf("a fourth key: %v, want the cap's refusal", err)
			}
			if n := liveKeys(t, h, acct); n != 3 {
				t.Fatalf("%d live keys, want 3", n)
			}

			// The history says which slot was freed and why, just before
			// the slot taken in its place, and frees no recorded key's.
			evs, err := store.ReadStream(ctx, domain.KeySlotsStream(acct), 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var freed []domain.KeySlotFreed
			var freedAt int
			for i, e := range evs {
				if e.Type == domain.TypeKeySlotFreed {
					d, _ := domain.Decode(e.Type, e.SchemaVersion, e.Data)
					freed = append(freed, *d.(*domain.KeySlotFreed))
					freedAt = i
				}
			}
			if len(freed) != 1 || freed[0].KeyID == first || freed[0].Reason == "" {
				t.Fatalf("slots freed: %+v, want the lost key's alone, with a reason", freed)
			}
			if _, err := h.Key(ctx, freed[0].KeyID); !errors.Is(err, ErrNotFound) {
				t.Fatalf("the freed slot's key %s: %v, want one never recorded", freed[0].KeyID, err)
			}
			next := evs[freedAt+1]
			d, _ := domain.Decode(next.Type, next.SchemaVersion, next.Data)
			if taken, ok := d.(*domain.KeySlotTaken); !ok || taken.KeyID != third || !next.OccurredAt.Equal(evs[freedAt].OccurredAt) {
				t.Fatalf("after the freed slot: %s %+v, want the third key's slot taken with it", next.Type, d)
			}
		})
	}
}

// Processes issuing keys at once for an account holding a slot whose
// issue stopped, on one store, free it once between them and still never
// pass the cap together: SQLite and PostgreSQL.
func TestASlotLeftByAStoppedIssueIsFreedOnceAcrossProcesses(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			ctx := context.Background()
			s, reopen := kind.open(t)
			setup := &Handler{Store: s, Now: func() time.Time { return t0 }}
			acct := mustOpen(t, ctx, setup, domain.PlanStarter)
			const limit, procs, each = 4, 4, 3
			if _, _, err := setup.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "before"}); err != nil {
				t.Fatal(err)
			}
			// As a process that died after taking a slot leaves it.
			lost := &domain.KeySlotTaken{AccountID: acct, KeyID: NewKeyID()}
			if _, err := setup.append(ctx, domain.KeySlotsStream(acct), eventstore.Exact(0), domain.EventID(domain.TypeKeySlotTaken, lost.KeyID), lost); err != nil {
				t.Fatal(err)
			}
			later := func() time.Time { return t0.Add(2 * time.Minute) }
			issued, refused := issueAtOnce(t, reopen, later, limit, acct, procs, each)
			if n := liveKeys(t, &Handler{Store: reopen()}, acct); issued != limit-1 || n != limit || refused != procs*each-issued {
				t.Fatalf("%d issued, %d refused, %d live keys; want %d issued, %d live", issued, refused, n, limit-1, limit)
			}
			evs, err := s.ReadStream(ctx, domain.KeySlotsStream(acct), 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			freed := 0
			for _, e := range evs {
				if e.Type == domain.TypeKeySlotFreed {
					freed++
				}
			}
			if freed != 1 {
				t.Fatalf("the stopped issue's slot freed %d times, want once", freed)
			}
		})
	}
}

func liveOf(keys *projections.Keys, acct string) []string {
	var ids []string
	for _, k := range keys.ByAccount(acct) {
		if !k.Revoked {
			ids = append(ids, k.KeyID)
		}
	}
	return ids
}
