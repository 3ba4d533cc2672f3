package console

import (
	"context"
	"sync"

	"github.com/routefree/routefree/eventstore"
)

// logStride is how many events lie between two marks of the log index.
var logStride = 1024

// logIndex is a sparse index of the history for the console's event log:
// the position before every logStride-th event. With it a page can be read
// from near its first event, by number, on any backend (reads only go
// forward from a position). Each use extends it over the events appended
// since the last, so only the first use in a process reads the whole
// history; it takes 16 bytes for every logStride events.
type logIndex struct {
	mu    sync.Mutex
	marks []eventstore.Position // marks[i]: the position before event i*logStride
	count int                   // events indexed
	head  eventstore.Position   // the last indexed event's position
}

// refresh indexes the events appended since the last call and returns how
// many events the history holds.
func (x *logIndex) refresh(ctx context.Context, store eventstore.Store) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for {
		evs, err := store.ReadAll(ctx, x.head, 2000)
		if err != nil {
			return 0, err
		}
		if len(evs) == 0 {
			return x.count, nil
		}
		for i := range evs {
			if x.count%logStride == 0 {
				x.marks = append(x.marks, x.head)
			}
			x.head = evs[i].Position
			x.count++
		}
	}
}

// at returns the mark at or before event number n (0-based, oldest first):
// the position before an event, and that event's number.
func (x *logIndex) at(n int) (eventstore.Position, int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	i := min(n/logStride, len(x.marks)-1)
	if i < 0 {
		return eventstore.Start, 0
	}
	return x.marks[i], i * logStride
}
