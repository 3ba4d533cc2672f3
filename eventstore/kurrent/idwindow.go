package kurrent

import "github.com/google/uuid"

// storedAt is where a known event ID was stored.
type storedAt struct {
	stream  string // logical name, without the namespace
	version uint64
}

// idWindow remembers the stream and version of the most recent event IDs
// this writer stored or saw at Open. KurrentDB only deduplicates IDs within
// one stream; the window makes an ID stored once across streams too, as the
// other backends' UNIQUE column does, for as far back as it reaches.
type idWindow struct {
	at   map[uuid.UUID]storedAt
	ring []uuid.UUID // insertion order, for eviction
	next int
}

func newIDWindow(size int) *idWindow {
	if size <= 0 {
		return &idWindow{}
	}
	return &idWindow{at: make(map[uuid.UUID]storedAt, size), ring: make([]uuid.UUID, 0, size)}
}

func (w *idWindow) get(id uuid.UUID) (storedAt, bool) {
	s, ok := w.at[id]
	return s, ok
}

func (w *idWindow) full() bool { return len(w.ring) == cap(w.ring) }

// add records id, evicting the oldest entry when full.
func (w *idWindow) add(id uuid.UUID, s storedAt) {
	if cap(w.ring) == 0 {
		return
	}
	if _, ok := w.at[id]; ok {
		w.at[id] = s
		return
	}
	if !w.full() {
		w.ring = append(w.ring, id)
	} else {
		delete(w.at, w.ring[w.next])
		w.ring[w.next] = id
		w.next = (w.next + 1) % len(w.ring)
	}
	w.at[id] = s
}
