package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/routefree/routefree/eventstore"
)

// Statements bind at most this many rows or IDs, well under SQLite's limit
// of 32766 variables.
const (
	insertChunk = 100
	lookupChunk = 500
	// headCacheSize bounds the stream-head cache; past it the cache restarts.
	headCacheSize = 1 << 16
)

type head struct {
	version uint64
	exists  bool
}

// stored is where an already-stored event ID lives.
type stored struct {
	stream   string
	version  uint64
	position uint64
}

// writer owns the store's write connection and the state only it changes:
// the hash-chain tip, the last position and the stream heads. Only the
// group committer's goroutine (or a lone caller holding its lock) calls it,
// so it needs no lock of its own.
//
// That state is a cache of the file, right as long as no other connection
// has committed since this one's last transaction. The pager's data version
// tells: SQLite changes it when a transaction starts on a file that another
// connection has changed since, and at this connection's own commits. Read
// after BEGIN IMMEDIATE (which starts the transaction under the write lock)
// and compared with its value after the last own commit, it decides whether
// the cache can be used or must be read again. It is the counter behind
// PRAGMA data_version, read through sqlite3_file_control
// (SQLITE_FCNTL_DATA_VERSION): no statement to step, so the single-process
// hot path pays nothing measurable for it.
type writer struct {
	conn     *sql.Conn
	headStmt *sql.Stmt
	// The data version after this connection's last commit, or when its
	// cache was last reloaded; -1 when unknown (the next batch reloads).
	version int64
	// The data version read under the open write transaction's lock.
	begun    uint32
	lastStmt *sql.Stmt
	// Transaction control, prepared once: every batch runs them, and
	// parsing them each time showed in profiles.
	begin, commit, rollback *sql.Stmt
	inserts                 map[int]*sql.Stmt // by row count
	lookups                 map[int]*sql.Stmt // by ID count

	tip   []byte
	last  uint64
	heads map[string]uint64 // committed heads of existing streams

	// Scratch reused by every batch.
	pending map[string]head
	seen    map[uuid.UUID]stored
	args    []any // values of the rows waiting to be inserted
	rows    int
	ids     []any                      // IDs waiting to be looked up
	added   []eventstore.RecordedEvent // this batch's events, for the tail
}

func newWriter(ctx context.Context, db *sql.DB) (*writer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	w := &writer{
		conn: conn, version: -1, inserts: map[int]*sql.Stmt{}, lookups: map[int]*sql.Stmt{},
		heads: map[string]uint64{}, pending: map[string]head{}, seen: map[uuid.UUID]stored{},
		args: make([]any, 0, insertChunk*columnCount), ids: make([]any, 0, lookupChunk),
	}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{{&w.headStmt, `SELECT max(version) FROM events WHERE stream = ?`}, {&w.begin, "BEGIN IMMEDIATE"}, {&w.commit, "COMMIT"}, {&w.rollback, "ROLLBACK"},
		{&w.lastStmt, `SELECT position, hash FROM events ORDER BY position DESC LIMIT 1`}} {
		if *p.st, err = conn.PrepareContext(ctx, p.sql); err != nil {
			conn.Close()
			return nil, err
		}
	}
	if err := w.loadLast(ctx); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// loadLast reads the chain tip and the last position from the file.
func (w *writer) loadLast(ctx context.Context) error {
	var last sql.NullInt64
	var tip []byte
	err := w.lastStmt.QueryRowContext(ctx).Scan(&last, &tip)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	w.last, w.tip = uint64(last.Int64), tip
	return nil
}

// dataVersion is the pager's data version of the main database.
func (w *writer) dataVersion(ctx context.Context) (int64, error) {
	var v uint32
	err := w.conn.Raw(func(dc any) error {
		fc, ok := dc.(sqlitedrv.FileControl)
		if !ok {
			return errors.New("eventstore/sqlite: the driver has no file control")
		}
		var err error
		v, err = fc.FileControlDataVersion("main")
		return err
	})
	return int64(v), err
}

// sync makes the cached state right for the open write transaction: when
// another connection has committed since this one's last transaction, the
// tip and last position are read again and the cached stream heads
// dropped. It reports whether it reloaded.
func (w *writer) sync(ctx context.Context) (bool, error) {
	v, err := w.dataVersion(ctx)
	if err != nil {
		return false, err
	}
	w.begun = uint32(v)
	if v == w.version {
		return false, nil
	}
	if err := w.loadLast(ctx); err != nil {
		return false, err
	}
	clear(w.heads)
	w.version = v
	return true, nil
}

// committed notes the data version this connection's own commit left, so
// that the next transaction can tell whether anyone else wrote since. A
// commit moves the pager's counter on by exactly one
// (sqlite3PagerCommitPhaseTwo), and no other connection can commit while
// this one holds the write lock, so it is known without asking SQLite
// again, a C string and a file-control call fewer on every commit
// (TestOwnCommitMovesTheDataVersionByOne holds SQLite to it).
func (w *writer) committed() {
	w.version = int64(w.begun + 1) // uint32, as SQLite's counter wraps
}

func (w *writer) close() error {
	var errs []error
	for _, m := range []map[int]*sql.Stmt{w.inserts, w.lookups} {
		for _, s := range m {
			errs = append(errs, s.Close())
		}
	}
	for _, s := range []*sql.Stmt{w.headStmt, w.begin, w.commit, w.rollback, w.lastStmt} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	errs = append(errs, w.conn.Close())
	return errors.Join(errs...)
}

// writeBatch is the store's eventstore.BatchWriter: one transaction for the
// whole batch, each request checked and deduplicated on its own.
//
// Event IDs are nearly always new, so the first attempt lets the UNIQUE
// index find duplicates instead of looking every ID up; only when it
// objects is the batch rolled back and redone with the lookup.
func (s *Store) writeBatch(ctx context.Context, batch []*eventstore.AppendRequest) error {
	err := s.tryBatch(ctx, batch, false)
	var se *sqlitedrv.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		for _, r := range batch {
			r.Result, r.Err = eventstore.AppendResult{}, nil
		}
		err = s.tryBatch(ctx, batch, true)
	}
	if err != nil {
		return fmt.Errorf("eventstore/sqlite: write batch: %w", err)
	}
	return nil
}

func (s *Store) tryBatch(ctx context.Context, batch []*eventstore.AppendRequest, lookup bool) error {
	if err := s.stillAtPath(); err != nil {
		return err
	}
	w := s.wr
	clear(w.pending)
	clear(w.seen)
	if lookup {
		if err := w.loadStored(ctx, batch); err != nil {
			return err
		}
	}
	if _, err := w.begin.ExecContext(ctx); err != nil {
		return err
	}
	reloaded, err := w.sync(ctx)
	if reloaded {
		// Other processes' events: readers must look for them in the file.
		if s.raiseKnown(w.last) {
			s.notify.Notify()
		}
	}
	var (
		tip      []byte
		last     uint64
		inserted int
	)
	if err == nil {
		tip, last, inserted, err = w.apply(ctx, batch, lookup)
	}
	if err == nil {
		if f := s.slow.Load(); f != nil {
			(*f)()
		}
		if s.opts.BeforeCommit != nil {
			s.opts.BeforeCommit()
		}
		_, err = w.commit.ExecContext(ctx)
	}
	if err != nil {
		// A failed COMMIT may already have rolled back; the error of a second
		// rollback says nothing new.
		_, _ = w.rollback.ExecContext(ctx)
		return err
	}
	// Committed: only now does the in-memory state move on.
	w.committed()
	w.tip, w.last = tip, last
	if len(w.heads)+len(w.pending) > headCacheSize {
		clear(w.heads)
	}
	for stream, h := range w.pending {
		if h.exists {
			w.heads[stream] = h.version
		}
	}
	s.tail.add(w.added)
	s.raiseKnown(last)
	s.batches.Add(1)
	s.events.Add(uint64(inserted))
	if n := int64(len(batch)); n > s.maxRequests.Load() {
		s.maxRequests.Store(n) // only this goroutine writes it
	}
	s.notify.Notify()
	return nil
}

// loadStored finds which of the batch's event IDs are already stored.
func (w *writer) loadStored(ctx context.Context, batch []*eventstore.AppendRequest) error {
	args := w.ids[:0]
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		err := w.lookup(ctx, args)
		args = args[:0]
		return err
	}
	for _, r := range batch {
		for i := range r.Events {
			args = append(args, r.Events[i].ID[:])
			if len(args) == lookupChunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

func (w *writer) lookup(ctx context.Context, ids []any) error {
	stmt, err := w.stmt(ctx, w.lookups, len(ids), func(n int) string {
		return `SELECT event_id, stream, version, position FROM events WHERE event_id IN (` + placeholders(n, 1) + `)`
	})
	if err != nil {
		return err
	}
	rows, err := stmt.QueryContext(ctx, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		id  []byte
		st  stored
		v   int64
		pos int64
	)
	for rows.Next() {
		if err := rows.Scan(&id, &st.stream, &v, &pos); err != nil {
			return err
		}
		st.version, st.position = uint64(v), uint64(pos)
		w.seen[uuid.UUID(id)] = st
	}
	return rows.Err()
}

// apply checks and inserts every request of the batch inside the open
// transaction, and returns the chain tip and last position it would leave.
func (w *writer) apply(ctx context.Context, batch []*eventstore.AppendRequest, looked bool) (tip []byte, last uint64, inserted int, err error) {
	tip, last = w.tip, w.last
	w.args, w.rows = w.args[:0], 0
	clear(w.added)
	w.added = w.added[:0]
	for _, r := range batch {
		h, err := w.head(ctx, r.Stream)
		if err != nil {
			return nil, 0, 0, err
		}
		fresh, dupPos := w.fresh(r)
		if !r.Expected.Check(h.version, h.exists) && !looked {
			// Perhaps a retry of a stored append: look its IDs up (rare).
			if err := w.loadStored(ctx, []*eventstore.AppendRequest{r}); err != nil {
				return nil, 0, 0, err
			}
			fresh, dupPos = w.fresh(r)
		}
		var existing []uuid.UUID
		if fresh < len(r.Events) {
			existing = w.existing(r)
		}
		if fresh == 0 && len(r.Events) > 0 {
			// Every event is already stored: a retry, or another writer's
			// append of the same events, answered as success.
			r.Result = eventstore.AppendResult{NextExpectedVersion: h.version, Position: pos(dupPos), Existing: existing}
			continue
		}
		if !r.Expected.Check(h.version, h.exists) {
			r.Err = &eventstore.WrongVersionError{Stream: r.Stream, Expected: r.Expected, Actual: h.version, Exists: h.exists}
			continue
		}
		for i := range r.Events {
			e := &r.Events[i]
			if _, ok := w.seen[e.ID]; ok {
				continue // stored before, or earlier in this batch
			}
			if h.exists {
				h.version++
			}
			h.exists = true
			last++
			rec := eventstore.RecordedEvent{EventData: *e, Stream: r.Stream, Version: h.version, Position: pos(last), PrevHash: tip}
			rec.Hash = eventstore.ChainHash(tip, &rec)
			if err := w.addRow(ctx, last, &rec); err != nil {
				return nil, 0, 0, err
			}
			w.added = append(w.added, cached(rec))
			w.seen[e.ID] = stored{stream: r.Stream, version: h.version, position: last}
			tip = rec.Hash
			inserted++
		}
		w.pending[r.Stream] = h
		r.Result = eventstore.AppendResult{NextExpectedVersion: h.version, Position: pos(last), Existing: existing}
	}
	return tip, last, inserted, w.flushRows(ctx)
}

// existing lists r's events stored before it (earlier in history or in
// this batch), each once: r does not write them.
func (w *writer) existing(r *eventstore.AppendRequest) []uuid.UUID {
	var out []uuid.UUID
	for i := range r.Events {
		id := r.Events[i].ID
		if _, ok := w.seen[id]; ok && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// fresh counts r's events not known to be stored, and gives the position
// of the last one that is.
func (w *writer) fresh(r *eventstore.AppendRequest) (n int, dupPos uint64) {
	for i := range r.Events {
		if st, ok := w.seen[r.Events[i].ID]; ok {
			dupPos = st.position
		} else {
			n++
		}
	}
	return n, dupPos
}

func pos(p uint64) eventstore.Position { return eventstore.Position{Commit: p, Prepare: p} }

// head is a stream's last version as this batch would leave it.
func (w *writer) head(ctx context.Context, stream string) (head, error) {
	if h, ok := w.pending[stream]; ok {
		return h, nil
	}
	if v, ok := w.heads[stream]; ok {
		return head{version: v, exists: true}, nil
	}
	var v sql.NullInt64
	if err := w.headStmt.QueryRowContext(ctx, stream).Scan(&v); err != nil {
		return head{}, err
	}
	h := head{version: uint64(v.Int64), exists: v.Valid}
	w.pending[stream] = h
	return h, nil
}

func (w *writer) addRow(ctx context.Context, position uint64, e *eventstore.RecordedEvent) error {
	data := e.Data
	if data == nil {
		data = []byte{} // NOT NULL: an empty body is still a body
	}
	prev := e.PrevHash
	if prev == nil {
		prev = []byte{}
	}
	w.args = append(w.args, int64(position), e.ID[:], e.Stream, int64(e.Version), e.Type,
		int64(e.SchemaVersion), e.OccurredAt.UTC().UnixNano(), data, prev, e.Hash)
	w.rows++
	if w.rows == insertChunk {
		return w.flushRows(ctx)
	}
	return nil
}

func (w *writer) flushRows(ctx context.Context) error {
	if w.rows == 0 {
		return nil
	}
	stmt, err := w.stmt(ctx, w.inserts, w.rows, func(n int) string {
		return `INSERT INTO events (` + eventColumns + `) VALUES ` + placeholders(n, columnCount)
	})
	if err == nil {
		_, err = stmt.ExecContext(ctx, w.args...)
	}
	w.args, w.rows = w.args[:0], 0
	return err
}

// stmt returns the statement for n rows or IDs, preparing it on first use.
func (w *writer) stmt(ctx context.Context, cache map[int]*sql.Stmt, n int, query func(n int) string) (*sql.Stmt, error) {
	if st, ok := cache[n]; ok {
		return st, nil
	}
	st, err := w.conn.PrepareContext(ctx, query(n))
	if err != nil {
		return nil, err
	}
	cache[n] = st
	return st, nil
}

// placeholders gives "?,?" for n=2, width=1, or "(?,?),(?,?)" for width 2.
func placeholders(n, width int) string {
	var b strings.Builder
	tuple := strings.TrimSuffix(strings.Repeat("?,", width), ",")
	if width > 1 {
		tuple = "(" + tuple + ")"
	}
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(tuple)
	}
	return b.String()
}
