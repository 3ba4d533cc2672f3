package projections

import (
	"context"
	"fmt"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

func TestRequestIndexKeepsTheMostRecentWithinItsCapacity(t *testing.T) {
	q := NewRequests()
	q.capacity = 2 * recChunk
	total := 3*recChunk + 17
	batch := make([]Event, 0, total)
	for i := range total {
		batch = append(batch, Event{RecordedEvent: eventstore.RecordedEvent{Position: eventstore.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}},
			Body: &domain.RequestCompleted{RequestID: fmt.Sprintf("r%d", i), AccountID: "a", Model: "m", Usage: domain.Usage{Output: int64(i)}}})
	}
	if err := q.Apply(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 2*recChunk {
		t.Fatalf("index holds %d, want its capacity %d", q.Len(), 2*recChunk)
	}
	if _, ok := q.Get("r0"); ok {
		t.Fatal("the oldest request should have been forgotten")
	}
	last := fmt.Sprintf("r%d", total-1)
	f, ok := q.Get(last)
	if !ok || f.Usage.Output != int64(total-1) {
		t.Fatalf("newest request: %+v %v", f, ok)
	}
	oldestKept := fmt.Sprintf("r%d", total-2*recChunk)
	if f, ok := q.Get(oldestKept); !ok || f.Usage.Output != int64(total-2*recChunk) {
		t.Fatalf("oldest kept request: %+v %v", f, ok)
	}
	if len(q.chunks) != 2 {
		t.Fatalf("%d chunks allocated, want 2", len(q.chunks))
	}
}
