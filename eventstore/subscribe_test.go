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
}

func (r *fencedReader) ReadAll(_ context.Context, from Position, max int) ([]RecordedEvent, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
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
