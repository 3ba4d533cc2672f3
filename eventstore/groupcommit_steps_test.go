package eventstore

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The batching steps, driven one at a time on a committer without its
// writer goroutine: what is queued is all there is, so no step depends on
// timing.

func request(events int) *AppendRequest {
	r := &AppendRequest{Stream: "s", Expected: Any(), done: make(chan struct{})}
	for range events {
		r.Events = append(r.Events, event())
	}
	return r
}

func queue(g *GroupCommitter, rs ...*AppendRequest) {
	for _, r := range rs {
		g.in <- r
	}
}

// fired is an expiry that has already come: a step that waits on it
// returns at once once the queue is empty.
func fired() <-chan time.Time {
	c := make(chan time.Time, 1)
	c <- time.Time{}
	return c
}

func TestGroupCommitDefaults(t *testing.T) {
	for _, c := range []struct{ given, want int }{{0, 2000}, {-1, 2000}, {1, 1}, {5, 5}} {
		if g := newGroupCommitter(nil, c.given); g.maxBatch != c.want {
			t.Errorf("bound %d: %d events, want %d", c.given, g.maxBatch, c.want)
		}
	}
	if g := newGroupCommitter(nil, 0); g.Linger != 200*time.Microsecond {
		t.Errorf("default linger %v, want 200µs (the README's group commit figure)", g.Linger)
	}
}

// gather takes the queued requests while the batch is under its bound in
// events, and leaves the rest for the next batch.
func TestGroupCommitGatherStopsAtTheBound(t *testing.T) {
	g := newGroupCommitter(nil, 5)
	first := request(1)
	queue(g, request(2), request(2), request(2), request(2))
	batch, n := g.gather([]*AppendRequest{first}, 1)
	if len(batch) != 3 || n != 5 || len(g.in) != 2 {
		t.Fatalf("gathered %d requests, %d events, %d left queued; want 3, 5, 2", len(batch), n, len(g.in))
	}
	batch, n = g.gather([]*AppendRequest{request(5)}, 5)
	if len(batch) != 1 || n != 5 || len(g.in) != 2 {
		t.Fatalf("a full batch gathered %d requests, %d events; want 1, 5", len(batch), n)
	}
	batch, n = g.gather(batch[:0], 0)
	if len(batch) != 2 || n != 4 || len(g.in) != 0 {
		t.Fatalf("an empty batch gathered %d requests, %d events, %d left; want 2, 4, 0", len(batch), n, len(g.in))
	}
}

// A batch lingers only when it is smaller than the previous one, has room
// and lingering is on.
func TestGroupCommitLingersOnlyWhenSmallerWithRoom(t *testing.T) {
	g := newGroupCommitter(nil, 10)
	for _, c := range []struct {
		requests, events, last int
		linger                 time.Duration
		want                   bool
	}{
		{1, 1, 2, time.Millisecond, true},
		{2, 2, 2, time.Millisecond, false},  // as large as the previous batch
		{3, 3, 2, time.Millisecond, false},  // larger
		{1, 9, 2, time.Millisecond, true},   // one event of room
		{1, 10, 2, time.Millisecond, false}, // full
		{1, 11, 2, time.Millisecond, false}, // over (one large append)
		{1, 1, 2, 0, false},                 // lingering off
		{1, 1, 2, -time.Millisecond, false},
		{0, 0, 0, time.Millisecond, false},
	} {
		g.Linger = c.linger
		if got := g.lingers(c.requests, c.events, c.last); got != c.want {
			t.Errorf("%d requests, %d events after a batch of %d, linger %v: lingers %v, want %v",
				c.requests, c.events, c.last, c.linger, got, c.want)
		}
	}
}

// lingerFor takes queued requests until the batch is as large as the
// previous one or full, and stops at the expiry when nothing more comes.
func TestGroupCommitLingerForStopsAtThePreviousSizeOrTheBound(t *testing.T) {
	g := newGroupCommitter(nil, 10)
	queue(g, request(1), request(1), request(1))
	batch, n := g.lingerFor([]*AppendRequest{request(1)}, 1, 3, fired())
	if len(batch) != 3 || n != 3 || len(g.in) != 1 {
		t.Fatalf("grew to %d requests, %d events, %d left; want 3, 3, 1 (the previous size)", len(batch), n, len(g.in))
	}
	<-g.in

	g = newGroupCommitter(nil, 3)
	queue(g, request(1), request(1), request(1))
	batch, n = g.lingerFor([]*AppendRequest{request(1)}, 1, 8, fired())
	if len(batch) != 3 || n != 3 || len(g.in) != 1 {
		t.Fatalf("grew to %d requests, %d events, %d left; want 3, 3, 1 (the bound)", len(batch), n, len(g.in))
	}
	<-g.in

	// Nothing queued: the expiry ends the wait with the batch as it was.
	batch, n = g.lingerFor([]*AppendRequest{request(1)}, 1, 8, fired())
	if len(batch) != 1 || n != 1 {
		t.Fatalf("an expired linger grew the batch to %d requests, %d events", len(batch), n)
	}
	// Queued requests go before an expiry that already came.
	queue(g, request(1))
	batch, _ = g.lingerFor([]*AppendRequest{request(1)}, 1, 2, fired())
	if len(batch) != 2 || len(g.in) != 0 {
		t.Fatalf("a queued request was left behind an expired linger: %d requests, %d queued", len(batch), len(g.in))
	}
}

// appendWithoutWriter runs one Append on a committer without its writer
// goroutine and says whether the caller wrote it itself; an append that
// queued instead (behind queuedBefore others) is written as the writer
// goroutine would, in order, and its caller released.
func appendWithoutWriter(t *testing.T, g *GroupCommitter, rec *recorder, queuedBefore int) (wroteItself bool) {
	t.Helper()
	e := event()
	done := make(chan error, 1)
	go func() {
		_, err := g.Append(context.Background(), "s", Any(), e)
		done <- err
	}()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if rec.events[e.ID] != 1 {
				t.Fatalf("the append returned but its event was written %d times", rec.events[e.ID])
			}
			return true
		default:
		}
		if len(g.in) > queuedBefore {
			for len(g.in) > 0 {
				r := <-g.in
				g.wmu.Lock()
				g.flush([]*AppendRequest{r})
				g.wmu.Unlock()
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			return false
		}
		runtime.Gosched()
	}
}

// After a batch of one append, the next caller writes its own when nobody
// is queued; after a larger batch, or behind a queued append, it queues.
func TestGroupCommitLoneCallerWritesItsOwnAppend(t *testing.T) {
	rec := &recorder{events: map[uuid.UUID]int{}}
	g := newGroupCommitter(rec.write, 0)
	flush := func(rs ...*AppendRequest) {
		g.wmu.Lock()
		g.flush(rs)
		g.wmu.Unlock()
	}
	if appendWithoutWriter(t, g, rec, 0) {
		t.Fatal("the first append (no batch yet) was written by its caller")
	}
	if !appendWithoutWriter(t, g, rec, 0) {
		t.Fatal("after a batch of one append, a lone caller queued its append")
	}
	if !appendWithoutWriter(t, g, rec, 0) {
		t.Fatal("a lone caller's own write left it no longer lone")
	}
	flush(request(1), request(1))
	if appendWithoutWriter(t, g, rec, 0) {
		t.Fatal("after a batch of two appends, the caller wrote its own")
	}
	flush(request(1))
	first := request(1)
	queue(g, first)
	if appendWithoutWriter(t, g, rec, 1) {
		t.Fatal("a lone caller overtook an append queued before it")
	}
	if rec.events[first.Events[0].ID] != 1 {
		t.Fatal("the append queued first was not written")
	}
}
