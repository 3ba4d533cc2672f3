package eventstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// fencedReader holds back its events for the first reads after they were
// appended, as PostgreSQL's read fence does while a transaction elsewhere
// on the server is still open.
type fencedReader struct {
	mu     sync.Mutex
	events []RecordedEvent
	hidden int // reads that still see nothing
	reads  int
}

func (r *fencedReader) ReadAll(_ context.Context, from Position, max int) ([]RecordedEvent, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads++
	if r.hidden > 0 {
		r.hidden--
		return nil, nil
	}
	var out []RecordedEvent
	for _, e := range r.events {
		if from.Less(e.Position) && len(out) < max {
			out = append(out, e)
		}
	}
	return out, nil
}

// A wake-up whose read finds nothing yet (the commit is behind a fence) is
// followed by prompt reads, not by the full poll interval.
func TestPollRetriesAWakeUpThatReadsNothing(t *testing.T) {
	r := &fencedReader{}
	wake := NewNotifier()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := Poll(ctx, r, Start, PollOptions{Interval: time.Hour, Wake: wake, Coalesce: -1})
	defer sub.Close()

	time.Sleep(20 * time.Millisecond) // the first read has found nothing and waits
	id := uuid.New()
	r.mu.Lock()
	r.events = append(r.events, RecordedEvent{EventData: EventData{ID: id}, Position: Position{Commit: 1, Prepare: 1}})
	r.hidden = 5
	r.mu.Unlock()
	wake.Notify()

	select {
	case got := <-sub.C:
		if len(got) != 1 || got[0].ID != id {
			t.Fatalf("got %v", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the event behind the fence never arrived: the subscription waits for its hour-long poll")
	}
}

// waitForRead waits until the subscription's first read has found nothing,
// so that what is appended next arrives after a wake-up.
func (r *fencedReader) waitForRead(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		r.mu.Lock()
		n := r.reads
		r.mu.Unlock()
		if n > 0 {
			return
		}
	}
	t.Fatal("the subscription never read")
}

// coalescing starts a subscription whose wake-ups wait an hour before they
// read, and returns once its first read has found nothing.
func coalescing(t *testing.T) (*fencedReader, *Notifier, *Subscription) {
	t.Helper()
	r := &fencedReader{}
	wake := NewNotifier()
	sub := Poll(context.Background(), r, Start, PollOptions{Interval: time.Hour, Wake: wake, Coalesce: time.Hour})
	r.waitForRead(t)
	return r, wake, sub
}

// appendOne adds the next event to a fencedReader, visible at once, and
// returns its ID.
func (r *fencedReader) appendOne() uuid.UUID {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := uuid.New()
	n := uint64(len(r.events)) + 1
	r.events = append(r.events, RecordedEvent{EventData: EventData{ID: id}, Position: Position{Commit: n, Prepare: n}})
	return id
}

// A commit is read once the coalescing wait ends, or as soon as a reader
// that waits on it hurries the subscription.
func TestHurryEndsTheCoalescingWait(t *testing.T) {
	r, wake, sub := coalescing(t)
	defer sub.Close()
	id := r.appendOne()
	wake.Notify()
	select {
	case got := <-sub.C:
		t.Fatalf("read %v before the coalescing wait ended or was hurried", got)
	case <-time.After(50 * time.Millisecond):
	}
	sub.Hurry()
	select {
	case got := <-sub.C:
		if len(got) != 1 || got[0].ID != id {
			t.Fatalf("got %v", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Hurry did not end the hour-long coalescing wait")
	}
}

// Close ends a subscription in the middle of its coalescing wait.
func TestCloseEndsTheCoalescingWait(t *testing.T) {
	r, wake, sub := coalescing(t)
	r.appendOne()
	wake.Notify()
	time.Sleep(20 * time.Millisecond) // in the wait by now, most likely; Close must end it either way
	closed := make(chan struct{})
	go func() { sub.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close waited for the hour-long coalescing wait")
	}
}

// Commits made within the coalescing wait are read together, in one batch.
func TestCoalescedCommitsAreReadTogether(t *testing.T) {
	r, wake, sub := coalescing(t)
	defer sub.Close()
	for range 10 {
		r.appendOne()
		wake.Notify()
	}
	sub.Hurry()
	select {
	case got := <-sub.C:
		if len(got) != 10 {
			t.Fatalf("the first read took %d of the 10 commits", len(got))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("nothing read")
	}
}
