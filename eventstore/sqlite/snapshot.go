package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	"github.com/routefree/routefree/eventstore"
)

// Snapshot reads a store file that nothing writes any more: a backup, kept
// on write-once media or a read-only share as well as anywhere. The file is
// opened read-only and immutable, so SQLite takes no lock, makes no -wal or
// -shm file beside it and changes none of its bytes (Open would, to write).
// A file that a process may still be writing must be opened with Open: an
// immutable reader does not see another's changes.
type Snapshot struct {
	db      *sql.DB
	readAll *sql.Stmt
}

var _ eventstore.StoredReader = (*Snapshot)(nil)

// OpenSnapshot opens the store file at path for reading alone.
func OpenSnapshot(path string) (*Snapshot, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", URI(path, "mode=ro&immutable=1"))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'events'`).Scan(&n); err != nil || n == 0 {
		db.Close()
		if err == nil {
			err = fmt.Errorf("it has no events table")
		}
		return nil, fmt.Errorf("eventstore/sqlite: %s is not a RouteFree event store: %w", path, err)
	}
	st, err := db.PrepareContext(ctx, selectEvents+`WHERE position > ? ORDER BY position LIMIT ?`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("eventstore/sqlite: %s is not a RouteFree event store: %w", path, err)
	}
	return &Snapshot{db: db, readAll: st}, nil
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
	return s.db.Close()
}
