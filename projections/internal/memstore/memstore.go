// Package memstore is an in-memory eventstore.Store for the projections'
// tests: expected versions, ID deduplication, a gap-free global order, the
// hash chain and catch-up subscriptions, all under one mutex.
package memstore

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
)

// Store keeps every event in a slice; event i has position i+1.
type Store struct {
	mu      sync.RWMutex
	all     []eventstore.RecordedEvent
	streams map[string][]int // stream → indexes into all
	ids     map[uuid.UUID]int
	closed  bool
	notify  *eventstore.Notifier

	// Coalesce is its subscriptions' eventstore.PollOptions.Coalesce; set
	// it before subscribing.
	Coalesce time.Duration
}

var _ eventstore.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{streams: map[string][]int{}, ids: map[uuid.UUID]int{}, notify: eventstore.NewNotifier()}
}

// Append adds events to one stream atomically.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	idx := s.streams[stream]
	last, exists := uint64(0), len(idx) > 0
	if exists {
		last = uint64(len(idx) - 1)
	}
	if !expected.Check(last, exists) {
		return eventstore.AppendResult{}, &eventstore.WrongVersionError{Stream: stream, Expected: expected, Actual: last, Exists: exists}
	}
	var res eventstore.AppendResult
	first := eventstore.Position{Commit: uint64(len(s.all) + 1), Prepare: uint64(len(s.all) + 1)} // this append's first
	for _, e := range events {
		if i, dup := s.ids[e.ID]; dup { // stored once: report where it is
			res.Position = s.all[i].Position
			if s.all[i].Position.Less(first) && !slices.Contains(res.Existing, e.ID) {
				res.Existing = append(res.Existing, e.ID) // stored before this append
			}
			continue
		}
		var prev []byte
		if n := len(s.all); n > 0 {
			prev = s.all[n-1].Hash
		}
		seq := uint64(len(s.all) + 1)
		r := eventstore.RecordedEvent{
			EventData: e,
			Stream:    stream,
			Version:   uint64(len(s.streams[stream])),
			Position:  eventstore.Position{Commit: seq, Prepare: seq},
			PrevHash:  prev,
		}
		r.OccurredAt = r.OccurredAt.UTC()
		r.Hash = eventstore.ChainHash(prev, &r)
		s.ids[e.ID] = len(s.all)
		s.streams[stream] = append(s.streams[stream], len(s.all))
		s.all = append(s.all, r)
		res.Position = r.Position
	}
	if n := len(s.streams[stream]); n > 0 {
		res.NextExpectedVersion = uint64(n - 1)
	}
	s.notify.Notify()
	return res, nil
}

// ReadStream returns up to max events of a stream from version from on.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	idx, ok := s.streams[stream]
	if !ok {
		return nil, eventstore.ErrStreamNotFound
	}
	var out []eventstore.RecordedEvent
	for v := from; v < uint64(len(idx)) && (max <= 0 || len(out) < max); v++ {
		out = append(out, s.all[idx[v]])
	}
	return out, nil
}

// ReadAll returns up to max events after position from.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	start := int(from.Commit) // positions are index+1, so this is the next index
	if start >= len(s.all) {
		return nil, nil
	}
	end := len(s.all)
	if max > 0 && start+max < end {
		end = start + max
	}
	return append([]eventstore.RecordedEvent(nil), s.all[start:end]...), nil
}

// SubscribeAll delivers every event after from, history first, then live.
func (s *Store) SubscribeAll(ctx context.Context, from eventstore.Position) (*eventstore.Subscription, error) {
	return eventstore.Poll(ctx, s, from, eventstore.PollOptions{Interval: time.Second, Wake: s.notify, Coalesce: s.Coalesce}), nil
}

// Tamper overwrites the body of the event at index i without fixing the
// chain, so tests can check that replay reports the break.
func (s *Store) Tamper(i int, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all[i].Data = data
}

// Close refuses further appends.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
