package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// Two *Store opened on one file in this test process behave as two
// processes would: each has its own write connection, read pool and
// in-memory state, and only the file (and SQLite's locks) joins them.
func openShared(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// TestAppendAfterAnotherWriter is the gateway beside a CLI command: each
// store appends after the other has, and every append continues the
// position and the chain the other left.
func TestAppendAfterAnotherWriter(t *testing.T) {
	a, path := openTemp(t, sqlite.Options{})
	b := openShared(t, path)
	ctx := context.Background()
	for i := range 6 {
		s := a
		if i%2 == 1 {
			s = b
		}
		for j := range 3 { // the second and third ride the cached heads
			if _, err := s.Append(ctx, fmt.Sprintf("account-%d", j), eventstore.Any(), usage(i)); err != nil {
				t.Fatalf("append %d.%d (store %c): %v", i, j, "ab"[i%2], err)
			}
		}
	}
	for _, s := range []*sqlite.Store{a, b} {
		res, err := eventstore.Verify(ctx, s, nil)
		if err != nil || res.Break != nil || res.Events != 18 {
			t.Fatalf("verify: %+v %v", res, err)
		}
		evs, err := s.ReadStream(ctx, "account-1", 0, 0)
		if err != nil || len(evs) != 6 || evs[5].Version != 5 {
			t.Fatalf("account-1 after both wrote: %d events, %v", len(evs), err)
		}
	}
}

// TestExpectedVersionAcrossWriters: a stream head cached by one store is
// not trusted once the other has appended to the stream.
func TestExpectedVersionAcrossWriters(t *testing.T) {
	a, path := openTemp(t, sqlite.Options{})
	b := openShared(t, path)
	ctx := context.Background()
	if _, err := a.Append(ctx, "account-x", eventstore.NoStream(), usage(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, "account-x", eventstore.Exact(0), usage(1)); err != nil {
		t.Fatal(err)
	}
	// a cached version 0 for account-x; the stream is at 1 now.
	_, err := a.Append(ctx, "account-x", eventstore.Exact(0), usage(2))
	var wv *eventstore.WrongVersionError
	if !errors.As(err, &wv) || wv.Actual != 1 {
		t.Fatalf("append expecting version 0 of a stream at 1: %v", err)
	}
	if _, err := a.Append(ctx, "account-x", eventstore.Exact(1), usage(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, "account-x", eventstore.NoStream(), usage(4)); !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("NoStream on an existing stream: %v", err)
	}
}

// TestSubscriberSeesOtherWriter: a live subscription and ReadAll on one
// store see what the other store appended, within a second, even when the
// subscriber's store has just appended itself (its memory of the latest
// events must not hide the other's).
func TestSubscriberSeesOtherWriter(t *testing.T) {
	a, path := openTemp(t, sqlite.Options{})
	b := openShared(t, path)
	ctx := context.Background()
	if _, err := a.Append(ctx, "mine", eventstore.Any(), usage(0)); err != nil {
		t.Fatal(err)
	}
	sub, err := a.SubscribeAll(ctx, eventstore.Start)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	next := func(want uuid.UUID) {
		t.Helper()
		deadline := time.After(time.Second)
		for {
			select {
			case evs := <-sub.C:
				for _, e := range evs {
					if e.ID == want {
						return
					}
				}
			case <-deadline:
				t.Fatalf("event %s not delivered within a second", want)
			}
		}
	}
	mine := usage(0)
	if _, err := a.Append(ctx, "mine", eventstore.Any(), mine); err != nil {
		t.Fatal(err)
	}
	next(mine.ID)
	theirs := usage(1)
	if _, err := b.Append(ctx, "theirs", eventstore.Any(), theirs); err != nil {
		t.Fatal(err)
	}
	next(theirs.ID)
	// ReadAll from a's head position also shows it.
	evs, err := a.ReadAll(ctx, eventstore.Position{Commit: 2, Prepare: 2}, 10)
	if err != nil || len(evs) != 1 || evs[0].ID != theirs.ID {
		t.Fatalf("ReadAll after 2 on the other store: %d events, %v", len(evs), err)
	}
}

func next(from, head uint64) uint64 {
	if from+300 >= head {
		return from + 1
	}
	return from + 97
}

// TestMemoryReadsBesideAnotherWriter: when two stores' batches interleave,
// each store's reads from memory still equal the file's, at every starting
// point: the other's events are never skipped nor invented.
func TestMemoryReadsBesideAnotherWriter(t *testing.T) {
	a, path := openTemp(t, sqlite.Options{})
	b := openShared(t, path)
	ctx := context.Background()
	total := 0
	for i := 0; total < 3000; i++ {
		s := []*sqlite.Store{a, b}[(i/3)%2] // runs of three batches each
		evs := make([]eventstore.EventData, 1+(i*7)%50)
		for j := range evs {
			evs[j] = usage(total + j)
		}
		if _, err := s.Append(ctx, fmt.Sprintf("account-%d", i%3), eventstore.Any(), evs...); err != nil {
			t.Fatal(err)
		}
		total += len(evs)
	}
	head := uint64(total)
	for k, s := range []*sqlite.Store{a, b} {
		// Wait (bounded) until the store has noticed the other's last events.
		deadline := time.Now().Add(10 * time.Second)
		for {
			evs, err := s.ReadAll(ctx, eventstore.Position{Commit: head - 1, Prepare: head - 1}, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("store %d does not see position %d", k, head)
			}
			time.Sleep(10 * time.Millisecond)
		}
		// Every start near the head (where memory serves), a few before.
		for from := uint64(0); from <= head; from = next(from, head) {
			for _, max := range []int{1, 64, 1000} {
				p := eventstore.Position{Commit: from, Prepare: from}
				got, err := s.ReadAll(ctx, p, max)
				if err != nil {
					t.Fatal(err)
				}
				want, err := s.ReadAllStored(ctx, p, max)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("store %d from %d max %d: %d events, the file has %d", k, from, max, len(got), len(want))
				}
				for i := range got {
					if got[i].ID != want[i].ID || got[i].Position != want[i].Position || !bytes.Equal(got[i].Hash, want[i].Hash) {
						t.Fatalf("store %d from %d max %d, event %d: memory %s at %v, file %s at %v", k, from, max, i, got[i].ID, got[i].Position, want[i].ID, want[i].Position)
					}
				}
			}
		}
	}
	if s := a.Stats(); s.MemoryReads == 0 {
		t.Fatal("no read came from memory")
	}
}
