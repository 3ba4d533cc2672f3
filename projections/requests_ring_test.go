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

// TestRequestIndexForms keeps IDs of every form apart: the gateway's, a
// dashed UUID, and anything else, including the same digits in upper case.
func TestRequestIndexForms(t *testing.T) {
	ids := []string{
		"gen-019a2244b072e73b5b90f7a37ad2075f", "gen-019a2244-b072-e73b-5b90-f7a37ad2075f",
		"gen-019A2244B072E73B5B90F7A37AD2075F", "gen-019a2244-b072-e73b-5b90-f7a37ad2075", "req-1", "",
	}
	q := NewRequests()
	q.capacity = recChunk
	var batch []Event
	for i, id := range ids {
		batch = append(batch, Event{RecordedEvent: eventstore.RecordedEvent{Position: eventstore.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}},
			Body: &domain.RequestCompleted{RequestID: id, Usage: domain.Usage{Output: int64(i)}}})
	}
	if err := q.Apply(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if f, ok := q.Get(id); !ok || f.RequestID != id || f.Usage.Output != int64(i) {
			t.Errorf("%q: %+v %v", id, f, ok)
		}
	}
	if _, ok := q.Get("gen-019a2244b072e73b5b90f7a37ad20750"); ok {
		t.Error("an unknown ID was found")
	}
	// Fill the ring: every ID of the first batch is forgotten, whatever its form.
	batch = batch[:0]
	for i := range recChunk {
		p := uint64(len(ids) + i + 1)
		batch = append(batch, Event{RecordedEvent: eventstore.RecordedEvent{Position: eventstore.Position{Commit: p, Prepare: p}},
			Body: &domain.RequestCompleted{RequestID: fmt.Sprintf("gen-%032x", i)}})
	}
	if err := q.Apply(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, ok := q.Get(id); ok {
			t.Errorf("%q still indexed", id)
		}
	}
	if q.Len() != recChunk || len(q.others) != 0 || len(q.otherIDs) != 0 {
		t.Errorf("len %d, others %d/%d", q.Len(), len(q.others), len(q.otherIDs))
	}
}
