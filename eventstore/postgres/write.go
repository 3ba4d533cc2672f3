package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/routefree/routefree/eventstore"
)

// storedEvent is where an event ID already lives, to answer a repeated append.
type storedEvent struct {
	version uint64
	pos     eventstore.Position
}

type streamState struct {
	last   uint64
	exists bool
}

// rows are the columns of a batch's INSERT, one slice per column for unnest.
type rows struct {
	pos      []int64
	stream   []string
	version  []int64
	id       [][16]byte
	typ      []string
	schema   []int32
	occurred []int64
	data     [][]byte
	prev     [][]byte
	hash     [][]byte
}

func (r *rows) len() int { return len(r.pos) }

const insertRows = `INSERT INTO events (transaction_id, global_position, stream_id, stream_version, event_id,
  event_type, schema_version, occurred_at, data, prev_hash, hash)
SELECT $11::xid8, * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::uuid[],
  $5::text[], $6::int[], $7::bigint[], $8::bytea[], $9::bytea[], $10::bytea[])`

// lastVersions gives each stream's last version, NULL for a new stream: one
// backward index probe per stream, where max() would read whole streams.
const lastVersions = `SELECT s, (SELECT stream_version FROM events WHERE stream_id = s
  ORDER BY stream_version DESC LIMIT 1) FROM unnest($1::text[]) AS s`

// storedIDs finds the batch's event IDs already stored: one unique-index
// probe per ID (a LATERAL lookup). A plain join, or "= ANY($1)", may be
// planned as a hash join over a sequential scan of the whole table, whose
// cost then grows with the history.
const storedIDs = `SELECT e.event_id, e.stream_version, e.transaction_id, e.global_position
  FROM unnest($1::uuid[]) AS i(id)
  CROSS JOIN LATERAL (SELECT event_id, stream_version, transaction_id, global_position
    FROM events WHERE event_id = i.id) e`

// ErrNoAnswer is an append that PostgreSQL did not answer within
// Options.WriteTimeout. It is the store's failure, not the caller's: it
// does not match context.DeadlineExceeded.
var ErrNoAnswer = errors.New("postgres did not answer")

// writeBatch is the group committer's BatchWriter: one transaction for the
// whole batch, under the chain's advisory lock, within WriteTimeout.
func (s *Store) writeBatch(ctx context.Context, batch []*eventstore.AppendRequest) error {
	wctx, cancel := context.WithTimeout(ctx, s.opts.WriteTimeout)
	defer cancel()
	err := s.writeBatchBy(wctx, batch)
	for try := 1; err != nil && try < lostSessionTries && sessionLost(err) && wctx.Err() == nil; try++ {
		// The session was ended under the batch (pg_terminate_backend, a
		// restart, a failover): its siblings in the pool most likely were
		// too. Start afresh on new sessions rather than fail requests whose
		// answers may already be with their clients. A COMMIT that went
		// through before the cut is found again by its event IDs.
		s.pool.Reset()
		for _, r := range batch {
			r.Result, r.Err = eventstore.AppendResult{}, nil
		}
		err = s.writeBatchBy(wctx, batch)
	}
	if err != nil && ctx.Err() == nil && errors.Is(wctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("postgres append: %w within %s", ErrNoAnswer, s.opts.WriteTimeout)
	}
	return err
}

// lostSessionTries bounds the attempts of a batch whose sessions keep
// being ended.
const lostSessionTries = 3

// sessionLost tells an error of the connection (the server ended the
// session, or the socket broke) from one of the statements: only the first
// kind is worth a second attempt.
func sessionLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; class 57: operator intervention
		// (admin or crash shutdown, cannot connect now).
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || pgconn.SafeToRetry(err)
}

func (s *Store) writeBatchBy(ctx context.Context, batch []*eventstore.AppendRequest) error {
	var streams []string
	var ids [][16]byte
	seen := map[string]bool{}
	n := 0
	for _, r := range batch {
		if !seen[r.Stream] {
			seen[r.Stream] = true
			streams = append(streams, r.Stream)
		}
		for _, e := range r.Events {
			ids = append(ids, e.ID)
		}
		n += len(r.Events)
	}

	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres append: %w", err)
	}
	defer func() {
		if conn.Conn().PgConn().TxStatus() != 'I' {
			// Failed half-way: roll back. Should that fail too, Release
			// destroys a connection that is not idle.
			_, _ = conn.Exec(context.Background(), "ROLLBACK")
		}
		conn.Release()
	}()

	// Round trip one: the lock right after BEGIN, so that everything after
	// it (the xid, the positions, the tip) is decided while no other writer
	// of this history runs.
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED") // whatever the server's default: see migrations/postgres/00002
	// Every read below is an index probe. A prepared statement's cached plan
	// made while the table was small may be a sequential scan, whose cost
	// then grows with the history; inside this transaction, forbid it.
	b.Queue("SET LOCAL enable_seqscan = off")
	b.Queue("SELECT pg_advisory_xact_lock($1)", s.lockKey)
	b.Queue("SELECT events_commit_id()") // the transaction id and the store's offset (migrations/postgres/00003)
	b.Queue("SELECT hash FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1")
	b.Queue(lastVersions, streams)
	b.Queue(storedIDs, ids)
	b.Queue("SELECT nextval('events_global_position_seq') FROM generate_series(1, $1::int)", n)
	br := conn.SendBatch(ctx, b)
	xid, tip, state, stored, positions, err := readPrelude(br, n)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("postgres append: %w", err)
	}

	var out rows
	prev := tip
	for _, r := range batch {
		prev = s.plan(r, xid, prev, state, stored, positions, &out)
	}
	// Round trip two: the rows, the notification and COMMIT.
	b = &pgx.Batch{}
	if out.len() > 0 {
		b.Queue(insertRows, out.pos, out.stream, out.version, out.id, out.typ, out.schema, out.occurred, out.data, out.prev, out.hash, xid)
		b.Queue("SELECT pg_notify($1, $2)", s.channel, s.instance)
	}
	if s.opts.BeforeCommit != nil {
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("postgres append: %w", err)
		}
		s.opts.BeforeCommit()
		b = &pgx.Batch{}
	}
	b.Queue("COMMIT")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		// The commit's outcome may be unknown: callers may retry with the
		// same event IDs, which are stored once.
		return fmt.Errorf("postgres append: %w", err)
	}
	if conn.Conn().PgConn().TxStatus() != 'I' {
		return fmt.Errorf("postgres append: transaction still open after COMMIT")
	}
	s.countBatch(len(batch), out.len())
	if out.len() > 0 {
		s.notifier.Notify()
	}
	return nil
}

// plan checks one request against the stream state so far in this batch and
// adds its new events to out, chained from prev. It returns the new tip.
func (s *Store) plan(r *eventstore.AppendRequest, xid uint64, prev []byte, state map[string]streamState,
	stored map[[16]byte]storedEvent, positions []int64, out *rows) []byte {
	st := state[r.Stream]
	fresh := make([]eventstore.EventData, 0, len(r.Events))
	var existing []uuid.UUID
	for _, e := range r.Events {
		if _, dup := stored[e.ID]; !dup {
			fresh = append(fresh, e)
			stored[e.ID] = storedEvent{} // filled below; marks duplicates within the request
		} else if !eventstore.HasID(fresh, e.ID) && !slices.Contains(existing, e.ID) {
			existing = append(existing, e.ID) // stored before this request
		}
	}
	if len(r.Events) > 0 && len(fresh) == 0 {
		// Every event is already stored: a retry of an append that
		// succeeded, or another writer's append of the same events.
		last := stored[r.Events[len(r.Events)-1].ID]
		r.Result = eventstore.AppendResult{NextExpectedVersion: last.version, Position: last.pos, Existing: existing}
		return prev
	}
	if !r.Expected.Check(st.last, st.exists) {
		for _, e := range fresh {
			delete(stored, e.ID)
		}
		r.Err = &eventstore.WrongVersionError{Stream: r.Stream, Expected: r.Expected, Actual: st.last, Exists: st.exists}
		return prev
	}
	r.Result = eventstore.AppendResult{NextExpectedVersion: st.last}
	for _, e := range fresh {
		if st.exists {
			st.last++
		}
		st.exists = true
		rec := eventstore.RecordedEvent{EventData: e, Stream: r.Stream, Version: st.last}
		rec.OccurredAt = e.OccurredAt.UTC()
		rec.Position = eventstore.Position{Commit: xid, Prepare: uint64(positions[out.len()])}
		h := eventstore.ChainHash(prev, &rec)
		out.pos = append(out.pos, int64(rec.Position.Prepare))
		out.stream = append(out.stream, r.Stream)
		out.version = append(out.version, int64(st.last))
		out.id = append(out.id, e.ID)
		out.typ = append(out.typ, e.Type)
		out.schema = append(out.schema, int32(e.SchemaVersion))
		out.occurred = append(out.occurred, rec.OccurredAt.UnixNano())
		out.data = append(out.data, nonNil(e.Data))
		out.prev = append(out.prev, nonNil(prev))
		out.hash = append(out.hash, h)
		stored[e.ID] = storedEvent{version: st.last, pos: rec.Position}
		prev = h
		r.Result = eventstore.AppendResult{NextExpectedVersion: st.last, Position: rec.Position}
	}
	r.Result.Existing = existing
	state[r.Stream] = st
	return prev
}

// readPrelude reads the answers of the first batch, in queue order.
func readPrelude(br pgx.BatchResults, n int) (xid uint64, tip []byte, state map[string]streamState,
	stored map[[16]byte]storedEvent, positions []int64, err error) {
	for range 3 { // BEGIN, SET LOCAL, the lock
		if _, err = br.Exec(); err != nil {
			return
		}
	}
	if err = br.QueryRow().Scan(&xid); err != nil {
		return
	}
	if err = br.QueryRow().Scan(&tip); err == pgx.ErrNoRows {
		tip, err = nil, nil
	}
	if err != nil {
		return
	}
	state = map[string]streamState{}
	rs, err := br.Query()
	if err != nil {
		return
	}
	var stream string
	var last *int64
	_, err = pgx.ForEachRow(rs, []any{&stream, &last}, func() error {
		if last != nil {
			state[stream] = streamState{last: uint64(*last), exists: true}
		}
		return nil
	})
	if err != nil {
		return
	}
	stored = map[[16]byte]storedEvent{}
	if rs, err = br.Query(); err != nil {
		return
	}
	var id uuid.UUID
	var version, pos int64
	var txid uint64
	_, err = pgx.ForEachRow(rs, []any{&id, &version, &txid, &pos}, func() error {
		stored[id] = storedEvent{version: uint64(version), pos: eventstore.Position{Commit: txid, Prepare: uint64(pos)}}
		return nil
	})
	if err != nil {
		return
	}
	if rs, err = br.Query(); err != nil {
		return
	}
	positions = make([]int64, 0, n)
	var p int64
	_, err = pgx.ForEachRow(rs, []any{&p}, func() error {
		positions = append(positions, p)
		return nil
	})
	return
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// CheckWrite tests an append's write path without appending: an INSERT of
// no rows into the events, rolled back. It still needs the INSERT
// privilege and a server that takes writes, and fires the append trigger
// (the chain's lock and its checks), so it fails where appends would.
func (s *Store) CheckWrite(ctx context.Context) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("postgres write check: %w", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, "INSERT INTO events SELECT * FROM events WHERE false"); err != nil {
		return fmt.Errorf("postgres write check: %w", err)
	}
	return nil
}
