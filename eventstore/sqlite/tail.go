package sqlite

import (
	"sync"
	"time"

	"github.com/routefree/routefree/eventstore"
)

// tailSize is how many of the latest committed events the store keeps in
// memory. Live subscribers read right behind the writer, so nearly every
// ReadAll after startup is served from here instead of the file.
const tailSize = 4096

// tail is a ring of the latest committed events, in position order. Only the
// writer adds to it, after COMMIT; positions in SQLite are contiguous, so
// the event at position p sits at a computable slot. The ring holds a
// contiguous run of this store's own events: when another process's events
// come between two of its batches, the ring starts over after them.
type tail struct {
	mu    sync.RWMutex
	ring  []eventstore.RecordedEvent
	first uint64 // position of the oldest event held (0: empty)
	last  uint64 // position of the newest
}

func newTail() *tail { return &tail{ring: make([]eventstore.RecordedEvent, tailSize)} }

// add appends committed events; their positions follow t.last.
func (t *tail) add(evs []eventstore.RecordedEvent) {
	if len(evs) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range evs {
		e := evs[i]
		p := e.Position.Commit
		if t.first == 0 || p != t.last+1 {
			t.first = p // first event, or after another process's events: start over
		}
		t.last = p
		if t.last-t.first >= uint64(len(t.ring)) {
			t.first = t.last - uint64(len(t.ring)) + 1
		}
		t.ring[p%uint64(len(t.ring))] = e
	}
}

// read returns up to max events after from, and false when the caller must
// read the file: from lies before what the ring holds, or the read reaches
// the ring's last event while the file is known to hold later ones (known:
// appended by another process, which memory never sees).
func (t *tail) read(from uint64, max int, known uint64) ([]eventstore.RecordedEvent, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.first == 0 || from+1 < t.first {
		return nil, false
	}
	if from >= t.last {
		if known > from && known > t.last {
			return nil, false
		}
		return nil, true
	}
	n := t.last - from
	if max > 0 && n > uint64(max) {
		n = uint64(max)
	} else if known > t.last {
		return nil, false
	}
	out := make([]eventstore.RecordedEvent, n)
	for i := range out {
		out[i] = t.ring[(from+1+uint64(i))%uint64(len(t.ring))]
	}
	return out, true
}

// cached is an event as ReadAll would scan it back from the file: its own
// copy of the body (the appender may reuse its buffer), the time in UTC at
// nanosecond precision without a monotonic reading.
func cached(e eventstore.RecordedEvent) eventstore.RecordedEvent {
	e.Data = append([]byte{}, e.Data...)
	e.OccurredAt = time.Unix(0, e.OccurredAt.UTC().UnixNano()).UTC()
	return e
}
