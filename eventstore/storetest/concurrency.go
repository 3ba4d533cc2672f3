package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
)

// stall is how long a subscriber may go without an event before the suite
// calls it stuck. It guards against hangs; it is not a speed requirement.
const stall = 60 * time.Second

type seenEvent struct {
	id  uuid.UUID
	pos eventstore.Position
}

// drain reads sub until it has delivered n events, checking that positions
// strictly increase and no ID repeats. afterBatch, when set, sees the events
// so far after each batch.
func drain(sub *eventstore.Subscription, n int, afterBatch func(got []seenEvent)) ([]seenEvent, error) {
	got := make([]seenEvent, 0, n)
	ids := make(map[uuid.UUID]bool, n)
	timer := time.NewTimer(stall)
	defer timer.Stop()
	for len(got) < n {
		select {
		case evs, ok := <-sub.C:
			if !ok {
				return got, fmt.Errorf("subscription ended after %d of %d events: %v", len(got), n, sub.Err())
			}
			for _, e := range evs {
				if len(got) > 0 && !got[len(got)-1].pos.Less(e.Position) {
					return got, fmt.Errorf("position %v delivered after %v", e.Position, got[len(got)-1].pos)
				}
				if ids[e.ID] {
					return got, fmt.Errorf("event %s delivered twice", e.ID)
				}
				ids[e.ID] = true
				got = append(got, seenEvent{e.ID, e.Position})
			}
			if afterBatch != nil {
				afterBatch(got)
			}
			timer.Reset(stall)
		case <-timer.C:
			return got, fmt.Errorf("subscription stalled at %d of %d events", len(got), n)
		}
	}
	// Nothing more may arrive: a duplicate or a stray event would show here.
	select {
	case evs := <-sub.C:
		if len(evs) > 0 {
			return got, fmt.Errorf("%d events delivered beyond the %d appended", len(evs), n)
		}
	case <-time.After(50 * time.Millisecond):
	}
	return got, nil
}

func testSubscribeHistoryThenLive(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	c := ctx(t)
	in := events("E", 3)
	on(t, s).Append("sub", eventstore.Any(), in...)
	first := on(t, s).ReadAllAtLeast(eventstore.Start, 1, 1)
	if len(first) == 0 {
		t.Fatal("no event to read after three were appended")
	}
	sub := on(t, s).SubscribeAll(first[0].Position)
	defer sub.Close()
	live := events("E", 2)
	go func() {
		// Appended while the subscriber may still be reading history.
		_, err := s.Append(c, "sub", eventstore.Any(), live...)
		if err != nil {
			t.Error(err)
		}
	}()
	got, err := drain(sub, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(in[1:]), live...)
	for i := range want {
		if got[i].id != want[i].ID {
			t.Fatalf("event %d: got %s, want %s", i, got[i].id, want[i].ID)
		}
	}
}

func testOptimisticConcurrency(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	c := ctx(t)
	on(t, s).Append("contended", eventstore.NoStream(), event("E"))
	const n = 20
	var (
		start   = make(chan struct{})
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []uuid.UUID
		errs    []error
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := event("E")
			<-start
			_, err := s.Append(c, "contended", eventstore.Exact(0), e)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				winners = append(winners, e.ID)
			} else {
				errs = append(errs, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d appends with Exact(0) won, want exactly 1", len(winners))
	}
	for _, err := range errs {
		wantConflict(t, err, "contended", true, 1)
	}
	got := on(t, s).ReadStream("contended", 0, 100)
	if len(got) != 2 || got[1].ID != winners[0] {
		t.Fatalf("stream has %d events; want 2 ending with the winner", len(got))
	}
}

func testGroupCommit(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	c := ctx(t)
	n := 200
	if testing.Short() {
		n = 50
	}
	if f.SlowCommit != nil {
		f.SlowCommit(s, true) // a slow commit lets the next batch gather
	}
	versions := make([]uint64, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.Append(c, "gc", eventstore.Any(), event("E"))
			versions[i] = res.NextExpectedVersion
			errs <- err
		}()
	}
	wg.Wait()
	if f.SlowCommit != nil {
		f.SlowCommit(s, false)
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(versions)
	for i, v := range versions {
		if v != uint64(i) {
			t.Fatalf("appends got versions %v..., want each of 0..%d once", versions[:min(i+1, 10)], n-1)
		}
	}
	if got := on(t, s).ReadStream("gc", 0, n+10); len(got) != n {
		t.Fatalf("stream has %d events, want %d", len(got), n)
	}
	if f.MaxBatchRequests != nil {
		if m := f.MaxBatchRequests(s); m <= 1 {
			t.Fatalf("%s: at most %d append per transaction: no group commit", f.Name, m)
		}
	}
	verify(t, s)
}

// testConcurrentWriters is the central guarantee: under concurrent writers, a
// live subscriber sees every event exactly once in position order, and one
// started from a recorded position sees exactly the rest.
func testConcurrentWriters(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	s := open(t)
	c := ctx(t)
	writers, perWriter := 8, 10000
	if testing.Short() {
		writers, perWriter = 4, 1000
	}
	total := writers * perWriter

	sub1 := on(t, s).SubscribeAll(eventstore.Start)
	defer sub1.Close()

	appended := make([][]uuid.UUID, writers)
	writeErrs := make(chan error, writers)
	for w := range writers {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			ids := make([]uuid.UUID, 0, perWriter)
			for left := perWriter; left > 0; {
				k := min(1+rng.IntN(20), left)
				evs := events("RequestCompleted", k)
				stream := fmt.Sprintf("usage-%d", rng.IntN(5))
				if _, err := s.Append(c, stream, eventstore.Any(), evs...); err != nil {
					writeErrs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				for _, e := range evs {
					ids = append(ids, e.ID)
				}
				left -= k
			}
			appended[w] = ids
			writeErrs <- nil
		}()
	}

	// Midway, a second subscriber starts from the last position the first
	// one has seen.
	type second struct {
		got []seenEvent
		err error
	}
	var (
		split   = -1
		sub2Res = make(chan second, 1)
	)
	got1, err := drain(sub1, total, func(got []seenEvent) {
		if split >= 0 || len(got) < total/2 {
			return
		}
		split = len(got)
		sub2, err := s.SubscribeAll(c, got[split-1].pos)
		if err != nil {
			sub2Res <- second{err: err}
			return
		}
		go func() {
			defer sub2.Close()
			g, err := drain(sub2, total-split, nil)
			sub2Res <- second{g, err}
		}()
	})
	for range writers {
		if werr := <-writeErrs; werr != nil {
			t.Fatal(werr)
		}
	}
	if err != nil {
		t.Fatalf("first subscriber: %v", err)
	}

	want := make(map[uuid.UUID]bool, total)
	for _, ids := range appended {
		for _, id := range ids {
			want[id] = true
		}
	}
	if len(want) != total {
		t.Fatalf("writers appended %d distinct IDs, want %d", len(want), total)
	}
	for _, e := range got1 {
		if !want[e.id] {
			t.Fatalf("subscriber received %s, which no writer appended", e.id)
		}
	}

	r2 := <-sub2Res
	if r2.err != nil {
		t.Fatalf("second subscriber (from %v): %v", got1[split-1].pos, r2.err)
	}
	if !slices.Equal(r2.got, got1[split:]) {
		t.Fatalf("second subscriber did not receive exactly the suffix after %v", got1[split-1].pos)
	}

	all := readAllOf(t, s, total)
	if len(all) != total {
		t.Fatalf("ReadAll gave %d events, want %d", len(all), total)
	}
	for i, e := range all {
		if e.ID != got1[i].id || e.Position != got1[i].pos {
			t.Fatalf("ReadAll event %d differs from what the subscriber received", i)
		}
	}
	if res := verify(t, s); res.Events != uint64(total) {
		t.Fatalf("Verify checked %d events, want %d", res.Events, total)
	}
}

// testOutOfOrderCommits makes a later position commit first, across two
// store instances, and checks that no reader skips the earlier one.
func testOutOfOrderCommits(t *testing.T, open func(t *testing.T) eventstore.Store, f Features) {
	if f.Share == nil || f.SlowCommit == nil {
		t.Skipf("%s: one writer per history, so commits cannot overtake each other", f.Name)
	}
	a := open(t)
	b := f.Share(t, a)
	c := ctx(t)
	sub := on(t, b).SubscribeAll(eventstore.Start)
	defer sub.Close()

	f.SlowCommit(a, true)
	x, y := event("Slow"), event("Fast")
	slowDone := make(chan error, 1)
	go func() {
		_, err := a.Append(c, "ooo-a", eventstore.Any(), x)
		slowDone <- err
	}()
	time.Sleep(200 * time.Millisecond) // let a take its position; sequencing only
	if _, err := b.Append(c, "ooo-b", eventstore.Any(), y); err != nil {
		f.SlowCommit(a, false)
		t.Fatal(err)
	}
	early := on(t, b).ReadAll(eventstore.Start, 10)
	f.SlowCommit(a, false)
	if err := <-slowDone; err != nil {
		t.Fatal(err)
	}
	got, err := drain(sub, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	late := readAllOf(t, b, 2)
	if len(late) != 2 || late[0].ID != got[0].id || late[1].ID != got[1].id {
		t.Fatalf("ReadAll and the subscriber disagree on the order of the two events")
	}
	for i, e := range early {
		if e.ID != late[i].ID || e.Position != late[i].Position {
			t.Fatalf("a reader saw %s at %v before the slow commit: history later put %s there", e.ID, e.Position, late[i].ID)
		}
	}
	verify(t, b)
}
