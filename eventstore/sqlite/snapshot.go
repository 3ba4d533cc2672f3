package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/routefree/routefree/eventstore"
)

// Snapshot reads a store file that nothing writes any more: a backup, kept
// on write-once media or a read-only share as well as anywhere. The file is
// opened read-only and immutable, so SQLite takes no lock, makes no -wal or
// -shm file beside it and changes none of its bytes (Open would, to write).
// A file that a process may still be writing must be opened with Open: an
// immutable reader does not see another's changes.
type Snapshot struct {
	db                  *sql.DB
	readAll, readStream *sql.Stmt
}

var (
	_ eventstore.Store        = (*Snapshot)(nil)
	_ eventstore.StoredReader = (*Snapshot)(nil)
)

// ErrSnapshot refuses an append to a Snapshot: the file is read alone.
var ErrSnapshot = errors.New("eventstore/sqlite: the file is opened to be read alone (a backup): nothing is appended to it")

// OpenSnapshot opens the store file at path for reading alone.
func OpenSnapshot(path string) (*Snapshot, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", URI(path, "mode=ro&immutable=1"))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	ctx := context.Background()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'events'`).Scan(&n); err != nil || n == 0 {
		db.Close()
		if err == nil {
			err = fmt.Errorf("it has no events table")
		}
		return nil, fmt.Errorf("eventstore/sqlite: %s is not a RouteFree event store: %w", path, err)
	}
	s := &Snapshot{db: db}
	if s.readAll, err = db.PrepareContext(ctx, selectEvents+`WHERE position > ? ORDER BY position LIMIT ?`); err == nil {
		s.readStream, err = db.PrepareContext(ctx, selectEvents+`WHERE stream = ? AND version >= ? ORDER BY version LIMIT ?`)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("eventstore/sqlite: %s is not a RouteFree event store: %w", path, err)
	}
	return s, nil
}

// Append refuses: see ErrSnapshot.
func (s *Snapshot) Append(context.Context, string, eventstore.ExpectedVersion, ...eventstore.EventData) (eventstore.AppendResult, error) {
	return eventstore.AppendResult{}, ErrSnapshot
}

// ReadStream returns up to max events of a stream from version from on.
func (s *Snapshot) ReadStream(ctx context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error) {
	return readStream(ctx, s.db, s.readStream, stream, from, max)
}

// SubscribeAll delivers the file's events after from; nothing comes after
// them.
func (s *Snapshot) SubscribeAll(ctx context.Context, from eventstore.Position) (*eventstore.Subscription, error) {
	return eventstore.Poll(ctx, s, from, eventstore.PollOptions{Interval: time.Hour}), nil
}

// ReadAll returns up to max events after from, in global order.
func (s *Snapshot) ReadAll(ctx context.Context, from eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	return s.ReadAllStored(ctx, from, max)
}

// ReadAllStored is ReadAll with each event's stored hashes, for Verify.
func (s *Snapshot) ReadAllStored(ctx context.Context, from eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	rows, err := s.readAll.QueryContext(ctx, int64(from.Commit), limit(max))
	if err != nil {
		return nil, err
	}
	return scanEvents(rows, max)
}

// Close closes the file.
func (s *Snapshot) Close() error {
	s.readAll.Close()
	s.readStream.Close()
	return s.db.Close()
}
