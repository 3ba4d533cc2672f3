package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
)

// testSharedWriters: two stores on one history (two gateways, or a gateway
// and a CLI command) append concurrently to the same streams, with exact
// expectations on some. Every append succeeds or fails on its own
// expectation; versions stay contiguous; each store's subscriber receives
// every event of both, in the one global order both stores read; the chain
// verifies from either side.
func testSharedWriters(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	if f.Share == nil {
		t.Skipf("%s: one writer per history", f.Name)
	}
	a := open(t)
	b := f.Share(t, a)
	c := ctx(t)
	stores := []eventstore.Store{a, b}
	writers, perWriter := 6, 250
	if testing.Short() {
		perWriter = 100
	}
	subs := []*eventstore.Subscription{on(t, a).SubscribeAll(eventstore.Start), on(t, b).SubscribeAll(eventstore.Start)}
	defer subs[0].Close()
	defer subs[1].Close()

	var (
		mu  sync.Mutex
		ids = map[uuid.UUID]bool{}
		wg  sync.WaitGroup
	)
	errs := make(chan error, writers)
	for w := range writers {
		s := stores[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 15))
			for i := 0; i < perWriter; {
				evs := events("Shared", 1+rng.IntN(3))
				stream := fmt.Sprintf("shared-%d", rng.IntN(4))
				exp := eventstore.Any()
				if i%5 == 0 {
					// Decide on what the stream holds now, as a command does:
					// the other store may append first, which is a conflict.
					cur, err := s.ReadStream(c, stream, 0, 0)
					switch {
					case err == nil:
						exp = eventstore.Exact(cur[len(cur)-1].Version)
					default:
						exp = eventstore.NoStream()
					}
				}
				_, err := s.Append(c, stream, exp, evs...)
				if exp.Kind != eventstore.ExpectAny && errors.Is(err, eventstore.ErrWrongExpectedVersion) {
					continue // its own reason: try again on the new head
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d (%s): %w", w, exp, err)
					return
				}
				mu.Lock()
				for _, e := range evs {
					ids[e.ID] = true
				}
				mu.Unlock()
				i++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	var orders [2][]eventstore.RecordedEvent
	for k, s := range stores {
		// A store may learn of the other's last commits a moment later (the
		// SQLite store polls for them), never out of order.
		for deadline := time.Now().Add(stall); ; time.Sleep(10 * time.Millisecond) {
			orders[k] = readAll(t, s)
			if len(orders[k]) == len(ids) {
				break
			}
			if len(orders[k]) > len(ids) || time.Now().After(deadline) {
				t.Fatalf("store %d reads %d events, %d were appended", k, len(orders[k]), len(ids))
			}
		}
		if res := verify(t, s); res.Events != uint64(len(ids)) {
			t.Fatalf("store %d verified %d events, want %d", k, res.Events, len(ids))
		}
	}
	for i := range orders[0] {
		x, y := orders[0][i], orders[1][i]
		if x.ID != y.ID || x.Position != y.Position || x.Stream != y.Stream || x.Version != y.Version {
			t.Fatalf("event %d: store 0 reads %s %s@%d at %v, store 1 reads %s %s@%d at %v", i, x.ID, x.Stream, x.Version, x.Position, y.ID, y.Stream, y.Version, y.Position)
		}
		if !ids[x.ID] {
			t.Fatalf("event %s was never appended", x.ID)
		}
	}
	next := map[string]uint64{}
	for _, e := range orders[0] {
		if e.Version != next[e.Stream] {
			t.Fatalf("%s: version %d follows %d events", e.Stream, e.Version, next[e.Stream])
		}
		next[e.Stream]++
	}
	for k, sub := range subs {
		got, err := drain(sub, len(ids), nil)
		if err != nil {
			t.Fatalf("subscriber of store %d: %v", k, err)
		}
		if !slices.EqualFunc(got, orders[0], func(g seenEvent, e eventstore.RecordedEvent) bool {
			return g.id == e.ID && g.pos == e.Position
		}) {
			t.Fatalf("subscriber of store %d received another order than ReadAll", k)
		}
	}
}

// testStreamBornElsewhere: while another store creates streams, reading one
// of them answers either "no such stream" or its events, never an empty
// stream without an error. A command deciding on such an empty answer would
// expect a version that does not exist.
func testStreamBornElsewhere(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	if f.Share == nil {
		t.Skipf("%s: one writer per history", f.Name)
	}
	a := open(t)
	b := f.Share(t, a)
	c := ctx(t)
	rounds := 300
	if testing.Short() {
		rounds = 100
	}
	prefix := uuid.NewString()
	for i := range rounds {
		stream := fmt.Sprintf("born-%s-%d", prefix, i)
		done := make(chan error, 1)
		go func() {
			_, err := b.Append(c, stream, eventstore.NoStream(), events("Born", 1)...)
			done <- err
		}()
		for {
			evs, err := a.ReadStream(c, stream, 0, 0)
			if err == nil && len(evs) == 0 {
				t.Fatalf("round %d: ReadStream gave an empty stream and no error", i)
			}
			if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
				t.Fatalf("round %d: %v", i, err)
			}
			if err == nil {
				break
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
