package postgres

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/routefree/routefree/eventstore"
)

// eventually retries cond until it holds. Unrelated transactions elsewhere
// in the cluster can hold the xid fence back for a moment, so what a reader
// may see is awaited, never assumed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A writer that bypasses the store's lock (a slow transaction) takes a
// position before the store's next appends but commits after them. ReadAll
// must hold back everything from that transaction on, and a reader that
// advanced its cursor must still receive the late row once it commits.
func TestFenceHoldsBackLateCommit(t *testing.T) {
	s, url := openFresh(t, Options{})
	ctx := testCtx(t)
	early, err := s.Append(ctx, "early", eventstore.Any(), ev("Early"))
	if err != nil {
		t.Fatal(err)
	}

	raw, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(context.Background())
	slow, err := raw.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback(context.Background()) //nolint:errcheck
	lateID := uuid.New()
	var lateXid uint64
	var latePos int64
	err = slow.QueryRow(ctx, `INSERT INTO events (stream_id, stream_version, event_id, event_type,
		schema_version, occurred_at, data, prev_hash, hash)
		VALUES ('late', 0, $1, 'Late', 1, 0, '{}', '', '') RETURNING transaction_id, global_position`,
		lateID).Scan(&lateXid, &latePos)
	if err != nil {
		t.Fatal(err)
	}

	after, err := s.Append(ctx, "after", eventstore.Any(), ev("After1"), ev("After2"), ev("After3"))
	if err != nil {
		t.Fatal(err)
	}
	// The hazard is real: the late row's serial position is below the
	// committed ones, so a reader by position alone would skip it.
	if !(uint64(latePos) < after.Position.Prepare && lateXid < after.Position.Commit) {
		t.Fatalf("scenario not set up: late %d/%d, after %v", lateXid, latePos, after.Position)
	}

	var cursor eventstore.Position
	eventually(t, "the early event", func() bool {
		evs, err := s.ReadAll(ctx, eventstore.Start, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Position.Commit >= lateXid {
				t.Fatalf("ReadAll returned %v (%s) while transaction %d is open", e.Position, e.Type, lateXid)
			}
		}
		if len(evs) == 1 && evs[0].Position == early.Position {
			cursor = evs[0].Position
			return true
		}
		return false
	})
	// Still held back however often it is asked.
	for range 5 {
		if evs, err := s.ReadAll(ctx, cursor, 100); err != nil || len(evs) != 0 {
			t.Fatalf("read past an open transaction: %d events, %v", len(evs), err)
		}
	}

	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var got []eventstore.RecordedEvent
	eventually(t, "the late row and what followed", func() bool {
		evs, err := s.ReadAll(ctx, cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		got = evs
		return len(evs) == 4
	})
	if got[0].ID != lateID {
		t.Fatalf("first after the cursor is %s, want the late row", got[0].Type)
	}
	for i, typ := range []string{"Late", "After1", "After2", "After3"} {
		if got[i].Type != typ {
			t.Fatalf("event %d is %s, want %s", i, got[i].Type, typ)
		}
	}
}

// Several instances on one history, each commit slowed by a random pause
// while holding the chain's lock: live subscribers on both instances receive
// every event exactly once and in one order, and the chain verifies.
func TestSlowInterleavedTransactions(t *testing.T) {
	slow := func() { time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond) }
	a, url := openFresh(t, Options{BeforeCommit: slow, PollInterval: time.Hour})
	b := openAt(t, url, Options{BeforeCommit: slow, PollInterval: time.Hour})
	ctx := testCtx(t)

	const writers, appends = 8, 40
	subs := map[string]*eventstore.Subscription{}
	for name, s := range map[string]*Store{"a": a, "b": b} {
		sub, err := s.SubscribeAll(ctx, eventstore.Start)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sub.Close)
		subs[name] = sub
	}

	var mu sync.Mutex
	want := map[uuid.UUID]bool{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if w%2 == 1 {
				s = b
			}
			for i := range appends {
				evs := []eventstore.EventData{ev("Usage")}
				if i%3 == 0 {
					evs = append(evs, ev("Usage"))
				}
				if _, err := s.Append(ctx, "writer-"+string(rune('a'+w)), eventstore.Any(), evs...); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, e := range evs {
					want[e.ID] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	// With PollInterval an hour, b's subscriber sees a's appends only through
	// LISTEN/NOTIFY, and a's through its in-process wake-ups.
	total := len(want)
	for name, sub := range subs {
		seen := map[uuid.UUID]bool{}
		var last eventstore.Position
		timeout := time.After(30 * time.Second)
		for len(seen) < total {
			select {
			case batch, ok := <-sub.C:
				if !ok {
					t.Fatalf("%s: subscription ended: %v", name, sub.Err())
				}
				for _, e := range batch {
					if !last.Less(e.Position) {
						t.Fatalf("%s: position %v after %v", name, e.Position, last)
					}
					last = e.Position
					if seen[e.ID] || !want[e.ID] {
						t.Fatalf("%s: event %s delivered twice or never appended", name, e.ID)
					}
					seen[e.ID] = true
				}
			case <-timeout:
				t.Fatalf("%s: received %d of %d events", name, len(seen), total)
			}
		}
	}
	verifyChain(t, a, uint64(total))
}

// Another instance's appends reach this instance's subscribers through
// LISTEN/NOTIFY, without waiting for a poll.
func TestNotifyWakesOtherInstances(t *testing.T) {
	a, url := openFresh(t, Options{})
	b := openAt(t, url, Options{PollInterval: time.Hour})
	ctx := testCtx(t)
	select {
	case <-b.listening:
	case <-time.After(30 * time.Second):
		t.Fatal("listener did not start")
	}
	sub, err := b.SubscribeAll(ctx, eventstore.Start)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for i := range 3 {
		e := ev("Usage")
		if _, err := a.Append(ctx, "x", eventstore.Any(), e); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-sub.C:
			if len(got) != 1 || got[0].ID != e.ID {
				t.Fatalf("round %d: got %d events", i, len(got))
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: no wake-up from the other instance", i)
		}
	}
}
