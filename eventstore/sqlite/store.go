// Package sqlite is the embedded event store, RouteFree's default: one SQLite
// file in WAL mode with synchronous=FULL, written through one connection per
// store and read through a separate pool.
//
// Every write transaction is BEGIN IMMEDIATE, which takes SQLite's single
// write lock before anything is read, so an event's rowid is allocated and
// committed before any later one: a reader that reads "position > cursor" can
// never skip an event that commits late.
//
// Any number of processes may append to the same file (the gateway, CLI
// commands, a second gateway). Each keeps the hash-chain tip, the last
// position and the stream heads in memory for speed, and trusts them only
// while SQLite's data version (the counter behind PRAGMA data_version), read
// inside the write transaction, says no other connection has committed since
// its own last transaction; otherwise it reads them again from the file
// under the lock. A watcher polls PRAGMA data_version so that subscribers
// see other processes' events promptly.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	sqlitedrv "modernc.org/sqlite" // also registers the "sqlite" driver

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/internal/inherit"
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// MaxBatch caps the events written by one group commit (default 2000).
	MaxBatch int
	// ReadConns is the size of the read pool (default 4).
	ReadConns int
	// PollInterval is how often subscriptions look for new events when no
	// in-process wake-up comes, and how often the store checks whether
	// another process has appended (default 100ms).
	PollInterval time.Duration
	// Coalesce is how long a subscription waits after a commit before it
	// reads (0: eventstore.DefaultCoalesce; negative: no wait).
	Coalesce time.Duration
	// BeforeCommit, a test hook, runs inside every write transaction just
	// before COMMIT (after positions are taken).
	BeforeCommit func()
}

// Stats counts group commits since Open.
type Stats struct {
	Batches          uint64 // committed transactions
	Events           uint64 // events inserted
	MaxBatchRequests int    // most appends that shared one transaction
	MemoryReads      uint64 // ReadAll calls served from the latest events in memory
}

// Store is the SQLite event store. It implements eventstore.Store.
type Store struct {
	w      *sql.DB // exactly one connection: the writer
	r      *sql.DB // the read pool
	gc     *eventstore.GroupCommitter
	notify *eventstore.Notifier
	wr     *writer
	tail   *tail // the latest committed events, for live readers
	opts   Options
	// known is the highest position known to be committed in the file, by
	// this store or another process. Past the tail's last event, ReadAll
	// must read the file.
	known atomic.Uint64
	watch *sql.DB // one connection: the watcher's data_version and CheckWrite
	// path and file are the store's file as opened (file nil where it
	// could not be told): appends stop once path names another file.
	path string
	file os.FileInfo
	quit chan struct{}
	wg   sync.WaitGroup
	slow atomic.Pointer[func()]

	closeOnce sync.Once
	closeErr  error

	batches, events, memoryReads atomic.Uint64
	maxRequests                  atomic.Int64

	// Prepared once: projections poll ReadAll after every commit, and
	// parsing the SQL each time was a measurable share of the CPU.
	readAll, readStream, readByID *sql.Stmt
}

var (
	_ eventstore.Store          = (*Store)(nil)
	_ eventstore.StoredReader   = (*Store)(nil)
	_ eventstore.TailReader     = (*Store)(nil)
	_ eventstore.BackwardReader = (*Store)(nil)
)

// Open opens (creating if needed) the event store in the file at path.
func Open(path string, opts Options) (*Store, error) {
	if opts.ReadConns <= 0 {
		opts.ReadConns = 4
	}
	// Commit with fdatasync(2), as SQLite's own Linux builds do: the data and
	// the file size reach the disk exactly as with fsync, without the
	// timestamp update that costs a journal write on ext4 (about half of a
	// commit's wait). Process-wide; unavailable (and fsync kept) on macOS
	// and Windows.
	_, _ = sqlitedrv.Fdatasync(true)
	if err := writable(path); err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: %w: the store's directory and files must be writable by the user that runs routefree", err)
	}
	const common = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	w, err := sql.Open("sqlite", URI(path, common+"&_pragma=synchronous(FULL)&_txlock=immediate"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	ctx := context.Background()
	if _, err := w.ExecContext(ctx, schema); err != nil {
		w.Close()
		return nil, fmt.Errorf("eventstore/sqlite: create schema in %s: %w", path, err)
	}
	// Readers keep 512 KiB of pages each rather than SQLite's 2 MB: their
	// big reads scan the history once (the OS caches the file), and the
	// cache is memory outside the Go heap's limit.
	r, err := sql.Open("sqlite", URI(path, common+"&_pragma=query_only(1)&_pragma=cache_size(-512)"))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)
	if opts.PollInterval <= 0 {
		opts.PollInterval = 100 * time.Millisecond
	}
	s := &Store{w: w, r: r, notify: eventstore.NewNotifier(), tail: newTail(), opts: opts, quit: make(chan struct{}), path: path}
	s.file, _ = os.Stat(path) // after the writer opened (or made) it
	s.wr, err = newWriter(ctx, w)
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("eventstore/sqlite: open %s: %w", path, err)
	}
	s.known.Store(s.wr.last)
	// The watcher's connection waits at most a second for the write lock:
	// CheckWrite answers a readiness probe, which must not hang.
	if s.watch, err = sql.Open("sqlite", URI(path, "_pragma=busy_timeout(1000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")); err != nil {
		s.wr.close()
		r.Close()
		w.Close()
		return nil, err
	}
	s.watch.SetMaxOpenConns(1)
	s.watch.SetMaxIdleConns(1)
	s.watch.SetConnMaxLifetime(0)
	s.watch.SetConnMaxIdleTime(0)
	if s.readAll, err = r.PrepareContext(ctx, selectEvents+`WHERE position > ? ORDER BY position LIMIT ?`); err == nil {
		s.readStream, err = r.PrepareContext(ctx, selectEvents+`WHERE stream = ? AND version >= ? ORDER BY version LIMIT ?`)
	}
	if err == nil {
		s.readByID, err = r.PrepareContext(ctx, selectEvents+`WHERE event_id = ?`)
	}
	if err != nil {
		s.wr.close()
		s.watch.Close()
		r.Close()
		w.Close()
		return nil, fmt.Errorf("eventstore/sqlite: prepare reads: %w", err)
	}
	s.gc = eventstore.NewGroupCommitter(s.writeBatch, opts.MaxBatch)
	s.wg.Add(1)
	go s.watchOthers()
	return s, nil
}

// MakePrivate makes the database file at path, if missing, readable by its
// owner alone: SQLite would make it 0644 (less the umask), and its WAL and
// shared-memory files take its mode. The history is the business's, and a
// data directory that others may enter (an image's /data, made 0755) would
// otherwise show it to every local user. Made as root, it is the folder
// owner's (inherit). An existing file is left as it is.
func MakePrivate(path string) error {
	f, err := inherit.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// writable makes the database file at path if missing (MakePrivate) and
// says, naming the file or directory, what this process may not write:
// SQLite says only "unable to open database file" of a store made by
// another user (serve run once as root, then as the service's user) or
// on a read-only volume. The directory must take SQLite's WAL and
// shared-memory files when they are missing.
func writable(path string) error {
	if err := MakePrivate(path); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	f.Close()
	for _, side := range []string{path + "-wal", path + "-shm"} {
		if f, err := os.OpenFile(side, os.O_RDWR, 0); err == nil {
			f.Close()
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		probe, err := os.CreateTemp(filepath.Dir(path), ".write-check-*")
		if err != nil {
			return err
		}
		probe.Close()
		return os.Remove(probe.Name())
	}
	return nil
}

// stillAtPath refuses a store whose path names another file than the one
// this process opened, or none: moved aside and replaced (a backup restored
// while the process ran) or deleted. Its connections still write the file
// they opened, which no process opening the path reads again, so what they
// appended would be lost to every reader.
func (s *Store) stillAtPath() error {
	if s.file == nil {
		return nil
	}
	fi, err := os.Stat(s.path)
	switch {
	case err == nil && os.SameFile(fi, s.file):
		return nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil // not told either way: the write itself will say
	}
	return fmt.Errorf("eventstore/sqlite: %s is no longer the file this process opened (moved, deleted, or replaced as by a restore while it ran): "+
		"appends are refused, as no reader of the store would see them; restart the process to open the store now there", s.path)
}

// Replaced says why the store's path no longer names the file this
// process opened (moved, deleted or replaced), or nil while it does.
func (s *Store) Replaced() error { return s.stillAtPath() }

// DB is the read pool, for callers that query the file directly (the CLI).
// It is read-only: writes go through Append.
func (s *Store) DB() *sql.DB { return s.r }

// Stats reports the group commits since Open.
func (s *Store) Stats() Stats {
	return Stats{Batches: s.batches.Load(), Events: s.events.Load(), MaxBatchRequests: int(s.maxRequests.Load()), MemoryReads: s.memoryReads.Load()}
}

// SetCommitDelay makes every write transaction wait d before COMMIT (0 turns
// it off). It is for tests that need batches to gather.
func (s *Store) SetCommitDelay(d time.Duration) {
	if d <= 0 {
		s.slow.Store(nil)
		return
	}
	f := func() { time.Sleep(d) }
	s.slow.Store(&f)
}

// Append adds events to a stream; concurrent appends share one transaction.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	return s.gc.Append(ctx, stream, expected, events...)
}

// Close writes queued appends, then closes the database. Later appends get
// eventstore.ErrClosed; closing again does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.gc.Close()
		close(s.quit)
		s.wg.Wait()
		s.closeErr = errors.Join(s.wr.close(), s.readAll.Close(), s.readStream.Close(), s.readByID.Close(), s.watch.Close(), s.r.Close(), s.w.Close())
	})
	return s.closeErr
}

// SubscribeAll delivers every event after from: history, then live.
func (s *Store) SubscribeAll(ctx context.Context, from eventstore.Position) (*eventstore.Subscription, error) {
	return eventstore.Poll(ctx, s, from, eventstore.PollOptions{Interval: s.opts.PollInterval, Wake: s.notify, Coalesce: s.opts.Coalesce}), nil
}

const selectEvents = `SELECT ` + eventColumns + ` FROM events `

// ReadAll returns up to max events after from in global order (max <= 0:
// all). Every row it can see is committed, and rows commit in position
// order, so nothing can later appear before the last one returned. Reads
// close behind the writer come from memory, unless another process has
// appended past what memory holds. Another process's events show from the
// moment this store learns of them: at its next append, its next
// LastPosition or the watcher's next poll (Options.PollInterval), whichever
// comes first.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	if evs, ok := s.tail.read(from.Commit, max, s.known.Load()); ok {
		s.memoryReads.Add(1)
		return evs, nil
	}
	return s.ReadAllStored(ctx, from, max)
}

// ReadAllStored is ReadAll from the file alone (eventstore.StoredReader).
func (s *Store) ReadAllStored(ctx context.Context, from eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	rows, err := s.readAll.QueryContext(ctx, int64(from.Commit), limit(max))
	if err != nil {
		return nil, err
	}
	return scanEvents(rows, max)
}

// ReadEvent returns the event with the given ID.
func (s *Store) ReadEvent(ctx context.Context, id uuid.UUID) (eventstore.RecordedEvent, error) {
	return oneEvent(s.readByID.QueryContext(ctx, id[:]))
}

// oneEvent is the event of a query for at most one, or ErrEventNotFound.
func oneEvent(rows *sql.Rows, err error) (eventstore.RecordedEvent, error) {
	if err != nil {
		return eventstore.RecordedEvent{}, err
	}
	evs, err := scanEvents(rows, 1)
	if err != nil {
		return eventstore.RecordedEvent{}, err
	}
	if len(evs) == 0 {
		return eventstore.RecordedEvent{}, eventstore.ErrEventNotFound
	}
	return evs[0], nil
}

// ReadAllBackward returns up to max events before before, newest first
// (eventstore.BackwardReader).
func (s *Store) ReadAllBackward(ctx context.Context, before eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	if max <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, selectEvents+`WHERE position < ? ORDER BY position DESC LIMIT ?`, int64(before.Commit), max)
	if err != nil {
		return nil, err
	}
	return scanEvents(rows, max)
}

// CountThrough is the number of events at or before through
// (eventstore.BackwardReader): all of them, counted on the smallest index
// (event IDs), less the few after through. Counting those before through
// would read the table itself, bodies and all.
func (s *Store) CountThrough(ctx context.Context, through eventstore.Position) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM events) - (SELECT count(*) FROM events WHERE position > ?)`,
		int64(through.Commit)).Scan(&n)
	return n, err
}

// LastEvent returns the event of the largest position
// (eventstore.TailReader).
func (s *Store) LastEvent(ctx context.Context) (eventstore.RecordedEvent, error) {
	return oneEvent(s.r.QueryContext(ctx, selectEvents+`ORDER BY position DESC LIMIT 1`))
}

// ReadStream returns up to max events of stream from version from on.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error) {
	return readStream(ctx, s.r, s.readStream, stream, from, max)
}

// readStream reads a stream through st (selectEvents by stream and
// version) on db, telling a stream with no event, ErrStreamNotFound, from
// one with none from from on.
func readStream(ctx context.Context, db *sql.DB, st *sql.Stmt, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error) {
	rows, err := st.QueryContext(ctx, stream, int64(from), limit(max))
	if err != nil {
		return nil, err
	}
	evs, err := scanEvents(rows, max)
	if err != nil || len(evs) > 0 {
		return evs, err
	}
	var one int
	err = db.QueryRowContext(ctx, `SELECT 1 FROM events WHERE stream = ? LIMIT 1`, stream).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", eventstore.ErrStreamNotFound, stream)
	}
	if err != nil {
		return nil, err
	}
	// Another process created the stream between the two statements: read it
	// again, or a new stream would look empty rather than missing.
	if rows, err = st.QueryContext(ctx, stream, int64(from), limit(max)); err != nil {
		return nil, err
	}
	return scanEvents(rows, max)
}

func limit(max int) int64 {
	if max <= 0 {
		return -1 // SQLite: no limit
	}
	return int64(max)
}

func scanEvents(rows *sql.Rows, max int) ([]eventstore.RecordedEvent, error) {
	defer rows.Close()
	n := max
	if n <= 0 || n > 1024 {
		n = 64
	}
	evs := make([]eventstore.RecordedEvent, 0, n)
	var (
		pos, version, schemaVersion, occurred int64
		id                                    []byte
	)
	for rows.Next() {
		var e eventstore.RecordedEvent
		if err := rows.Scan(&pos, &id, &e.Stream, &version, &e.Type, &schemaVersion, &occurred, &e.Data, &e.PrevHash, &e.Hash); err != nil {
			if bad := unreadable(rows); bad != nil {
				return evs, bad
			}
			return nil, err
		}
		var err error
		if e.ID, err = uuid.FromBytes(id); err != nil {
			return evs, &eventstore.UnreadableEventError{Position: eventstore.Position{Commit: uint64(pos), Prepare: uint64(pos)},
				Stream: e.Stream, Version: uint64(version), Problem: fmt.Sprintf("event_id holds %d bytes, not a UUID's 16", len(id))}
		}
		e.Version = uint64(version)
		e.SchemaVersion = int(schemaVersion)
		e.OccurredAt = time.Unix(0, occurred).UTC()
		e.Position = eventstore.Position{Commit: uint64(pos), Prepare: uint64(pos)}
		evs = append(evs, e)
	}
	return evs, rows.Err()
}

// integerColumns are the columns of eventColumns that hold integers, by
// index; SQLite keeps whatever a cell is given, so an edit may leave text.
var integerColumns = map[int]string{0: "position", 3: "version", 5: "schema_version", 6: "occurred_at"}

// unreadable reads the row rows is on again, cell by cell, after its scan
// failed, and names the event whose integer cell holds something else:
// nil when the cells are not the cause (or the position itself is lost).
func unreadable(rows *sql.Rows) *eventstore.UnreadableEventError {
	cells := make([]any, columnCount)
	ptrs := make([]any, columnCount)
	for i := range cells {
		ptrs[i] = &cells[i]
	}
	if rows.Scan(ptrs...) != nil {
		return nil
	}
	pos, ok := cells[0].(int64)
	if !ok {
		return nil
	}
	bad := &eventstore.UnreadableEventError{Position: eventstore.Position{Commit: uint64(pos), Prepare: uint64(pos)}}
	bad.Stream, _ = asText(cells[2])
	if v, ok := cells[3].(int64); ok {
		bad.Version = uint64(v)
	}
	for i := 1; i < columnCount; i++ {
		if name, isInt := integerColumns[i]; isInt {
			if _, ok := cells[i].(int64); !ok {
				bad.Problem = fmt.Sprintf("%s holds %s, not an integer", name, describeCell(cells[i]))
				return bad
			}
		}
	}
	return nil
}

// asText is a text or blob cell's contents.
func asText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	}
	return "", false
}

// describeCell says what a cell holds, shortened, for an error message.
func describeCell(v any) string {
	if s, ok := asText(v); ok {
		if len(s) > 40 {
			cut := 40
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut-- // between characters, not inside one
			}
			s = s[:cut] + "…"
		}
		return strconv.Quote(s)
	}
	if v == nil {
		return "NULL"
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

// LastPosition is the position of the last event in the file
// (eventstore.HeadReader): the rowid's maximum, read from the table's b-tree.
// Events another process appended up to it are known from then on, so that
// ReadAll returns them at once rather than at the watcher's next poll.
func (s *Store) LastPosition(ctx context.Context) (eventstore.Position, error) {
	var last int64
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&last); err != nil {
		return eventstore.Position{}, err
	}
	if s.raiseKnown(uint64(last)) {
		s.notify.Notify()
	}
	return pos(uint64(last)), nil
}
