package kurrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
)

// headCacheSize bounds the per-stream revision cache; past it the cache is
// dropped and refilled from the server.
const headCacheSize = 100_000

// writer is the single writer of this process. Only the group committer's
// goroutine (and Open, before it starts) touches it.
type writer struct {
	db  *esdb.Client
	log *slog.Logger
	ns  string
	// tip is the hash of the last event of this store in $all and tipPos
	// its position. tipMark is the highest log position of that event and
	// of the reply that stored it: a fresh append lands past it, while an
	// idempotent reply names the original append's position, which does
	// not. tipOK is false when an append's outcome is unknown and the tip
	// must be read again.
	tip     []byte
	tipPos  eventstore.Position
	tipMark uint64
	tipOK   bool
	// heads caches the last revision of streams known to exist.
	heads map[string]uint64
	ids   *idWindow
	// empty is true when Open found no event of this store, and end is then
	// the end of $all: the store's history can only begin after it.
	empty bool
	end   eventstore.Position
}

// writeBatch is the store's eventstore.BatchWriter. Each request is its own
// AppendToStream call, in order, so each succeeds or fails alone; the batch
// itself never fails once something may have been written.
func (s *Store) writeBatch(ctx context.Context, batch []*eventstore.AppendRequest) error {
	wrote := false
	for _, r := range batch {
		if s.w.append(ctx, r) {
			wrote = true
		}
	}
	if wrote {
		s.notify.Notify()
	}
	return nil
}

// loadTip reads $all backwards to this store's last event, which is the
// chain tip, and on to fill the ID window: all the way at Open (since ==
// Start), or back to since when reloading after an unknown outcome.
func (w *writer) loadTip(ctx context.Context, since eventstore.Position) error {
	rs, err := w.db.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, math.MaxInt64)
	if err != nil {
		return readError(err, "$all")
	}
	defer rs.Close()
	found, first := false, true
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return readError(err, "$all")
		}
		e := ev.OriginalEvent()
		if e == nil {
			continue
		}
		if first {
			w.end, first = position(e.Position), false
		}
		if !ours(e, w.ns) {
			continue
		}
		p := position(e.Position)
		if since != eventstore.Start && !since.Less(p) {
			break
		}
		rec := fromRecorded(e, w.ns)
		if !found {
			w.tip, w.tipPos, w.tipMark, found = rec.Hash, p, mark(p), true
		}
		w.ids.add(rec.ID, storedAt{rec.Stream, rec.Version})
		if since == eventstore.Start && w.ids.full() {
			break
		}
	}
	if !found && since == eventstore.Start {
		w.tip, w.tipPos, w.tipMark, w.empty = nil, eventstore.Start, 0, true
	}
	w.tipOK = true
	return nil
}

// append writes one request and fills its Result or Err. It reports
// whether new events were stored.
func (w *writer) append(ctx context.Context, r *eventstore.AppendRequest) bool {
	if !w.tipOK {
		if err := w.loadTip(ctx, w.tipPos); err != nil {
			r.Err = fmt.Errorf("eventstore/kurrent: reload hash-chain tip: %w", err)
			return false
		}
	}
	fresh, dup, existing := w.fresh(r.Events)
	if len(fresh) == 0 {
		if len(existing) > 0 {
			// Every ID is stored already: a retry, or another writer's
			// append of the same events, answered as success.
			r.Result = eventstore.AppendResult{NextExpectedVersion: dup.version, Position: w.positionOf(ctx, dup.stream, dup.version, w.tipPos), Existing: existing}
		} else {
			r.Result, r.Err = w.check(ctx, r.Stream, r.Expected)
		}
		return false
	}
	first, err := w.firstVersion(ctx, r.Stream, r.Expected)
	if err != nil {
		r.Err = err
		return false
	}
	tip, evs, err := hashEvents(w.tip, r.Stream, first, fresh)
	if err != nil {
		r.Err = fmt.Errorf("eventstore/kurrent: encode events: %w", err)
		return false
	}
	res, err := w.db.AppendToStream(ctx, w.ns+r.Stream, esdb.AppendToStreamOptions{ExpectedRevision: expectedRevision(r.Expected)}, evs...)
	if err != nil {
		delete(w.heads, r.Stream)
		r.Err = appendError(err, r.Stream, r.Expected)
		if !errors.Is(r.Err, eventstore.ErrWrongExpectedVersion) {
			// The events may be stored or not: read the tip again first.
			w.tipOK = false
		}
		return false
	}
	// KurrentDB replies with one log position for the whole append.
	pos := position(esdb.Position{Commit: res.CommitPosition, Prepare: res.PreparePosition})
	if mark(pos) <= w.tipMark {
		// A fresh append lands past the tip. This one did not: KurrentDB
		// knew the event IDs and stored nothing (an idempotent retry).
		delete(w.heads, r.Stream)
		for i := range fresh {
			existing = append(existing, fresh[i].ID)
		}
		r.Result = eventstore.AppendResult{NextExpectedVersion: res.NextExpectedVersion, Position: w.positionOf(ctx, r.Stream, res.NextExpectedVersion, pos), Existing: existing}
		return false
	}
	if len(evs) > 1 {
		// The reply's position is the append's, not its last event's (which
		// has its own prepare position): read it back.
		pos = w.positionOf(ctx, r.Stream, res.NextExpectedVersion, pos)
	}
	w.tip, w.tipPos, w.tipMark = tip, pos, max(w.tipMark, mark(pos), res.CommitPosition, res.PreparePosition)
	last := first + uint64(len(evs)) - 1
	if res.NextExpectedVersion != last {
		w.log.Error("eventstore/kurrent: stream revision differs from the hashed one; the hash chain breaks here (another writer, or a deleted stream?)",
			"stream", r.Stream, "hashed", last, "stored", res.NextExpectedVersion)
	}
	for i := range fresh {
		w.ids.add(fresh[i].ID, storedAt{r.Stream, first + uint64(i)})
	}
	w.setHead(r.Stream, res.NextExpectedVersion)
	r.Result = eventstore.AppendResult{NextExpectedVersion: res.NextExpectedVersion, Position: pos, Existing: existing}
	return true
}

// fresh drops the events whose IDs are stored already or repeat earlier in
// the request. existing are the stored ones' IDs, each once, and dup is
// where the last of them is.
func (w *writer) fresh(events []eventstore.EventData) (out []eventstore.EventData, dup storedAt, existing []uuid.UUID) {
	var seen map[uuid.UUID]bool
	for i := range events {
		id := events[i].ID
		if at, ok := w.ids.get(id); ok {
			dup = at
			if !slices.Contains(existing, id) {
				existing = append(existing, id)
			}
			continue
		}
		if seen[id] {
			continue
		}
		if seen == nil {
			seen = make(map[uuid.UUID]bool, len(events))
		}
		seen[id] = true
		out = append(out, events[i])
	}
	return out, dup, existing
}

// mark is the highest log position a position names.
func mark(p eventstore.Position) uint64 { return max(p.Commit, p.Prepare) }

// hashEvents chains events after prev, numbering them from first, and
// encodes them. It returns the new tip.
func hashEvents(prev []byte, stream string, first uint64, events []eventstore.EventData) ([]byte, []esdb.EventData, error) {
	out := make([]esdb.EventData, len(events))
	for i := range events {
		rec := eventstore.RecordedEvent{EventData: events[i], Stream: stream, Version: first + uint64(i), PrevHash: prev}
		rec.OccurredAt = rec.OccurredAt.UTC()
		rec.Hash = eventstore.ChainHash(prev, &rec)
		var err error
		if out[i], err = toEventData(&rec); err != nil {
			return nil, nil, err
		}
		prev = rec.Hash
	}
	return prev, out, nil
}

// firstVersion is the revision the first appended event will get if the
// expectation holds.
func (w *writer) firstVersion(ctx context.Context, stream string, expected eventstore.ExpectedVersion) (uint64, error) {
	switch expected.Kind {
	case eventstore.ExpectNoStream:
		return 0, nil
	case eventstore.ExpectExact:
		return expected.Version + 1, nil
	}
	last, exists, err := w.head(ctx, stream)
	if err != nil || !exists {
		return 0, err
	}
	return last + 1, nil
}

// check answers an append of no events: the expectation alone.
func (w *writer) check(ctx context.Context, stream string, expected eventstore.ExpectedVersion) (eventstore.AppendResult, error) {
	last, exists, err := w.head(ctx, stream)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if !expected.Check(last, exists) {
		return eventstore.AppendResult{}, &eventstore.WrongVersionError{Stream: stream, Expected: expected, Actual: last, Exists: exists}
	}
	return eventstore.AppendResult{NextExpectedVersion: last, Position: w.tipPos}, nil
}

// head is a stream's last revision, from the cache or the server.
func (w *writer) head(ctx context.Context, stream string) (last uint64, exists bool, err error) {
	if v, ok := w.heads[stream]; ok {
		return v, true, nil
	}
	rs, err := w.db.ReadStream(ctx, w.ns+stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil {
		return 0, false, headError(err, stream)
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if errors.Is(err, io.EOF) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, headError(err, stream)
	}
	last = ev.OriginalEvent().EventNumber
	w.setHead(stream, last)
	return last, true, nil
}

// headError maps a failed head read: a missing stream is an answer, not an
// error.
func headError(err error, stream string) error {
	if err = readError(err, stream); errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil
	}
	return err
}

func (w *writer) setHead(stream string, last uint64) {
	if _, ok := w.heads[stream]; !ok && len(w.heads) >= headCacheSize {
		clear(w.heads)
	}
	w.heads[stream] = last
}

// positionOf finds where the event at revision rev of stream is stored;
// fallback when it cannot.
func (w *writer) positionOf(ctx context.Context, stream string, rev uint64, fallback eventstore.Position) eventstore.Position {
	rs, err := w.db.ReadStream(ctx, w.ns+stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(rev)}, 1)
	if err != nil {
		return fallback
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if err != nil || ev.OriginalEvent() == nil {
		return fallback
	}
	return position(ev.OriginalEvent().Position)
}
