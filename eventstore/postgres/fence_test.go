package postgres

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/routefree/routefree/eventstore"
)

// insertRaw appends a row the way a writer outside the store would: a
// plain INSERT, without taking the chain's lock first.
func insertRaw(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `INSERT INTO events (stream_id, stream_version, event_id, event_type,
		schema_version, occurred_at, data, prev_hash, hash)
		VALUES ('raw', 0, $1, 'Raw', 1, 0, '{}', '', '')`, uuid.New())
	return err
}

// Readers need no fence because every INSERT, the store's or anyone
// else's, is held to the append order: a writer outside the store takes the
// chain's lock with its INSERT (so the store's appends wait for it), a
// transaction whose id predates a committed append is refused, and so is
// one that is not READ COMMITTED.
func TestWriterOutsideTheStoreKeepsTheAppendOrder(t *testing.T) {
	s, url := openFresh(t, Options{})
	ctx := testCtx(t)
	early, err := s.Append(ctx, "early", eventstore.Any(), ev("Early"))
	if err != nil {
		t.Fatal(err)
	}
	conn := func() *pgx.Conn {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}

	// An outside INSERT holds the lock until its transaction ends.
	outside, err := conn().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := insertRaw(ctx, outside); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, "after", eventstore.Any(), ev("After"))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the store appended while an outside INSERT held the chain (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := outside.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	evs, err := s.ReadAll(ctx, eventstore.Start, 10)
	if err != nil || len(evs) != 2 || evs[0].Position != early.Position || evs[1].Type != "After" {
		t.Fatalf("read %d events (%v)", len(evs), err)
	}

	// A transaction id taken before an append that committed since.
	stale, err := conn().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stale.Rollback(context.Background()) //nolint:errcheck
	if _, err := stale.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "later", eventstore.Any(), ev("Later")); err != nil {
		t.Fatal(err)
	}
	if err := insertRaw(ctx, stale); !isSQLState(err, "40001") {
		t.Fatalf("an INSERT from a transaction older than the last append: %v", err)
	}

	// REPEATABLE READ would check against an old snapshot.
	rr, err := conn().BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Rollback(context.Background()) //nolint:errcheck
	if err := insertRaw(ctx, rr); !isSQLState(err, "40001") {
		t.Fatalf("an INSERT under REPEATABLE READ: %v", err)
	}
	verifyChain(t, s, 3)
}

func isSQLState(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
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

// A long transaction that has nothing to do with the event store (an
// operator's session left open after a write, another application on the
// same server) does not hold readers back: appends are read while it runs.
func TestUnrelatedOpenTransactionDoesNotHoldReadersBack(t *testing.T) {
	s, url := openFresh(t, Options{})
	ctx := testCtx(t)
	raw, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(context.Background())
	other, err := raw.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback(context.Background()) //nolint:errcheck
	var xid uint64
	if err := other.QueryRow(ctx, "SELECT pg_current_xact_id()::text::bigint").Scan(&xid); err != nil {
		t.Fatal(err) // the open transaction now has an id, as after any write
	}
	res, err := s.Append(ctx, "usage-a", eventstore.Any(), ev("Usage"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		evs, err := s.ReadAll(ctx, eventstore.Start, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 1 && evs[0].Position == res.Position {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the append (transaction %d) is not read while transaction %d runs: %d events", res.Position.Commit, xid, len(evs))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
