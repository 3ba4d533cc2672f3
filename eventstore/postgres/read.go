package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
)

const columns = `transaction_id, global_position, stream_id, stream_version, event_id,
  event_type, schema_version, occurred_at, data, prev_hash, hash`

// No fence is needed: appends commit in (transaction_id, global_position)
// order (see doc.go), so what a reader sees is always a prefix of it.
const readAll = `SELECT ` + columns + ` FROM events
WHERE (transaction_id, global_position) > ($1::xid8, $2)
ORDER BY transaction_id, global_position
LIMIT $3`

const readStream = `SELECT ` + columns + ` FROM events
WHERE stream_id = $1 AND stream_version >= $2
ORDER BY stream_version
LIMIT $3`

const readByID = `SELECT ` + columns + ` FROM events WHERE event_id = $1`

// ReadEvent returns the event with the given ID.
func (s *Store) ReadEvent(ctx context.Context, id uuid.UUID) (eventstore.RecordedEvent, error) {
	if s.isClosed() {
		return eventstore.RecordedEvent{}, eventstore.ErrClosed
	}
	evs, err := s.query(ctx, 1, readByID, id)
	if err != nil {
		return eventstore.RecordedEvent{}, err
	}
	if len(evs) == 0 {
		return eventstore.RecordedEvent{}, eventstore.ErrEventNotFound
	}
	return evs[0], nil
}

const readBackward = `SELECT ` + columns + ` FROM events
WHERE (transaction_id, global_position) < ($1::xid8, $2)
ORDER BY transaction_id DESC, global_position DESC
LIMIT $3`

// ReadAllBackward returns up to max events before before, newest first
// (eventstore.BackwardReader). Appends commit in the global order (see
// doc.go), so what it sees is a prefix of it, as ReadAll's is.
func (s *Store) ReadAllBackward(ctx context.Context, before eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	if s.isClosed() {
		return nil, eventstore.ErrClosed
	}
	if max <= 0 {
		return nil, nil
	}
	return s.query(ctx, max, readBackward, before.Commit, int64(before.Prepare), max)
}

// CountThrough is the number of events at or before through
// (eventstore.BackwardReader).
func (s *Store) CountThrough(ctx context.Context, through eventstore.Position) (int, error) {
	if s.isClosed() {
		return 0, eventstore.ErrClosed
	}
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE (transaction_id, global_position) <= ($1::xid8, $2)`,
		through.Commit, int64(through.Prepare)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres count: %w", err)
	}
	return int(n), nil
}

const readLast = `SELECT ` + columns + ` FROM events
ORDER BY transaction_id DESC, global_position DESC LIMIT 1`

// LastEvent returns the last committed event in the global order
// (eventstore.TailReader).
func (s *Store) LastEvent(ctx context.Context) (eventstore.RecordedEvent, error) {
	if s.isClosed() {
		return eventstore.RecordedEvent{}, eventstore.ErrClosed
	}
	evs, err := s.query(ctx, 1, readLast)
	if err != nil {
		return eventstore.RecordedEvent{}, err
	}
	if len(evs) == 0 {
		return eventstore.RecordedEvent{}, eventstore.ErrEventNotFound
	}
	return evs[0], nil
}

// ReadAll returns up to max events after from, in global order, never one
// that a still-running transaction could precede.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	if s.isClosed() {
		return nil, eventstore.ErrClosed
	}
	if max <= 0 {
		return nil, nil
	}
	return s.query(ctx, max, readAll, from.Commit, int64(from.Prepare), max)
}

// ReadStream returns up to max events of a stream from version from on.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error) {
	if s.isClosed() {
		return nil, eventstore.ErrClosed
	}
	if max <= 0 {
		max = 1 << 30
	}
	evs, err := s.query(ctx, max, readStream, stream, int64(from), max)
	if err != nil || len(evs) > 0 {
		return evs, err
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM events WHERE stream_id = $1)", stream).Scan(&exists); err != nil {
		return nil, fmt.Errorf("postgres read stream: %w", err)
	}
	if !exists {
		return nil, eventstore.ErrStreamNotFound
	}
	// Another writer created the stream between the two statements: read it
	// again, or a new stream would look empty rather than missing.
	return s.query(ctx, max, readStream, stream, int64(from), max)
}

func (s *Store) query(ctx context.Context, max int, sql string, args ...any) ([]eventstore.RecordedEvent, error) {
	rs, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres read: %w", err)
	}
	evs := make([]eventstore.RecordedEvent, 0, min(max, 1024))
	var e eventstore.RecordedEvent
	var pos, version, occurred int64
	var schema int32
	_, err = pgx.ForEachRow(rs, []any{&e.Position.Commit, &pos, &e.Stream, &version, &e.ID,
		&e.Type, &schema, &occurred, &e.Data, &e.PrevHash, &e.Hash}, func() error {
		e.Position.Prepare = uint64(pos)
		e.Version = uint64(version)
		e.SchemaVersion = int(schema)
		e.OccurredAt = time.Unix(0, occurred).UTC()
		evs = append(evs, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres read: %w", err)
	}
	return evs, nil
}

// LastPosition is the position of the last committed event
// (eventstore.HeadReader), from the global-order index.
func (s *Store) LastPosition(ctx context.Context) (eventstore.Position, error) {
	if s.isClosed() {
		return eventstore.Position{}, eventstore.ErrClosed
	}
	var (
		p   eventstore.Position
		pos int64
	)
	err := s.pool.QueryRow(ctx, `SELECT transaction_id, global_position FROM events
ORDER BY transaction_id DESC, global_position DESC LIMIT 1`).Scan(&p.Commit, &pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Position{}, nil
	}
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("postgres last position: %w", err)
	}
	p.Prepare = uint64(pos)
	return p, nil
}
