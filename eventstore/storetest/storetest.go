// Package storetest is the contract every event-store backend must pass, in
// the style of watermill's pubsub/tests: a backend's test calls Run with a
// function that opens a fresh, empty store, and every case runs as a subtest.
package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
)

// Features tells the suite what a backend can do beyond the interface.
type Features struct {
	// Name labels the backend in failure messages.
	Name string
	// SlowCommit, when set, makes s's write transactions pause after their
	// positions are taken and before COMMIT while on is true. The group-commit
	// case uses it to let appends gather; with Share it forces out-of-order
	// commits.
	SlowCommit func(s eventstore.Store, on bool)
	// MaxBatchRequests, when set, reports the most appends s has committed in
	// one transaction; the group-commit case then requires more than one.
	MaxBatchRequests func(s eventstore.Store) int
	// Share, when set, opens a second Store on s's history, as a second
	// gateway instance (or a CLI command) would. The out-of-order commit
	// case needs it and SlowCommit; the shared-writers case needs it.
	Share func(t *testing.T, s eventstore.Store) eventstore.Store
}

// Run runs every case. open must return a new, empty store and arrange its
// Close with t.Cleanup (Close must be safe to call twice).
func Run(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	cases := []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) eventstore.Store, f Features)
	}{
		{"AppendAndReadStream", testAppendAndReadStream},
		{"RoundTripExact", testRoundTrip},
		{"ExpectedVersion", testExpectedVersion},
		{"ReadStreamMissing", testReadStreamMissing},
		{"ReadStreamRange", testReadStreamRange},
		{"IdempotentIDs", testIdempotent},
		{"ReadAllRange", testReadAllRange},
		{"Head", testHead},
		{"HashChain", testHashChain},
		{"KnownHashes", testKnownHashes},
		{"SubscribeHistoryThenLive", testSubscribeHistoryThenLive},
		{"OptimisticConcurrency", testOptimisticConcurrency},
		{"GroupCommit", testGroupCommit},
		{"ConcurrentWritersLiveSubscribers", testConcurrentWriters},
		{"OutOfOrderCommits", testOutOfOrderCommits},
		{"SharedWriters", testSharedWriters},
		{"StreamBornElsewhere", testStreamBornElsewhere},
		{"Close", testClose},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, open, f) })
	}
}

// seq makes every test event's OccurredAt distinct and nanosecond-precise,
// so a backend that rounds times fails the round-trip checks.
var seq atomic.Int64

func event(typ string) eventstore.EventData {
	n := seq.Add(1)
	return eventstore.EventData{
		ID:            uuid.New(),
		Type:          typ,
		SchemaVersion: 1,
		OccurredAt:    time.Date(2025, 7, 1, 8, 0, 0, 123456789, time.UTC).Add(time.Duration(n)*time.Second + time.Duration(n)),
		Data:          fmt.Appendf(nil, `{"n":%d, "note":"臺北 usage"}`, n),
	}
}

func events(typ string, n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = event(typ)
	}
	return out
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return c
}

func must[T any](t *testing.T, v T, err error) T {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// readAll reads the whole history in pages of 1000.
func readAll(t *testing.T, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var all []eventstore.RecordedEvent
	pos := eventstore.Start
	for {
		evs := on(t, s).ReadAll(pos, 1000)
		if len(evs) == 0 {
			return all
		}
		if !pos.Less(evs[0].Position) {
			t.Fatalf("ReadAll after %v returned an event at %v: the start is not exclusive", pos, evs[0].Position)
		}
		all = append(all, evs...)
		pos = evs[len(evs)-1].Position
	}
}

// readAllOf reads the whole history once at least want events show: a
// fencing store (see ReadAllAtLeast) may show the last commits a moment
// after Append returns, never out of order.
func readAllOf(t *testing.T, s eventstore.Store, want int) []eventstore.RecordedEvent {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		all := readAll(t, s)
		if len(all) >= want || time.Now().After(deadline) {
			return all
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// tstore wraps a store for a test: every call fails the test on error.
type tstore struct {
	t *testing.T
	s eventstore.Store
}

func on(t *testing.T, s eventstore.Store) tstore { return tstore{t, s} }

// ReadAllAtLeast reads like ReadAll until at least want events are there.
// A store that fences readers (PostgreSQL holds back what follows a
// transaction still open anywhere in the cluster, such as another test's)
// may show a commit a moment after Append returns; it never skips it.
func (h tstore) ReadAllAtLeast(from eventstore.Position, max, want int) []eventstore.RecordedEvent {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs := h.ReadAll(from, max)
		if len(evs) >= want || time.Now().After(deadline) {
			return evs
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h tstore) Append(stream string, exp eventstore.ExpectedVersion, evs ...eventstore.EventData) eventstore.AppendResult {
	h.t.Helper()
	v, err := h.s.Append(ctx(h.t), stream, exp, evs...)
	return must(h.t, v, err)
}

func (h tstore) ReadStream(stream string, from uint64, max int) []eventstore.RecordedEvent {
	h.t.Helper()
	v, err := h.s.ReadStream(ctx(h.t), stream, from, max)
	return must(h.t, v, err)
}

func (h tstore) ReadAll(from eventstore.Position, max int) []eventstore.RecordedEvent {
	h.t.Helper()
	v, err := h.s.ReadAll(ctx(h.t), from, max)
	return must(h.t, v, err)
}

func (h tstore) SubscribeAll(from eventstore.Position) *eventstore.Subscription {
	h.t.Helper()
	v, err := h.s.SubscribeAll(ctx(h.t), from)
	return must(h.t, v, err)
}
