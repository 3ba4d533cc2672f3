package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/routefree/routefree/eventstore"
)

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// TestPragmasInForce reads back, from the store's live connections, the
// settings its durability and concurrency rest on: WAL, synchronous=FULL
// (2) on every connection that commits, the busy timeouts that let other
// processes' transactions finish, and read-only readers.
func TestPragmasInForce(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "events.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	pool, err := s.r.Conn(ctx) // one connection of the read pool
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for _, c := range []struct {
		conn   string
		q      querier
		pragma string
		want   string
	}{
		{"writer", s.wr.conn, "journal_mode", "wal"},
		{"writer", s.wr.conn, "synchronous", "2"}, // FULL: a commit is on disk when Append returns
		{"writer", s.wr.conn, "busy_timeout", "10000"},
		{"writer", s.wr.conn, "query_only", "0"},
		{"write check", s.watch, "journal_mode", "wal"},
		{"write check", s.watch, "synchronous", "2"},
		{"write check", s.watch, "busy_timeout", "1000"},
		{"reader", pool, "journal_mode", "wal"},
		{"reader", pool, "busy_timeout", "10000"},
		{"reader", pool, "query_only", "1"},
		{"reader", pool, "cache_size", "-512"}, // KiB: page caches live outside the Go heap's limit
	} {
		var got string
		if err := c.q.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatalf("%s: PRAGMA %s: %v", c.conn, c.pragma, err)
		}
		if got != c.want {
			t.Errorf("%s connection: %s = %s, want %s", c.conn, c.pragma, got, c.want)
		}
	}
}

// TestOwnCommitMovesTheDataVersionByOne holds SQLite to what the writer
// assumes instead of asking after every commit: its own commit moves the
// pager's data version on by exactly one. Were that to change in a later
// SQLite, the writer would take another process's commit for its own.
func TestOwnCommitMovesTheDataVersionByOne(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "events.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for i := range 5 {
		before, err := s.wr.dataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ev := eventstore.EventData{ID: uuid.Must(uuid.NewV7()), Type: "Tested", SchemaVersion: 1, OccurredAt: time.Now().UTC(), Data: []byte(`{}`)}
		if _, err := s.Append(ctx, "s-"+strconv.Itoa(i), eventstore.Any(), ev); err != nil {
			t.Fatal(err)
		}
		after, err := s.wr.dataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after != before+1 {
			t.Fatalf("commit %d: data version %d before, %d after: want one more", i, before, after)
		}
		if s.wr.version != after {
			t.Fatalf("commit %d: the writer noted data version %d, SQLite has %d", i, s.wr.version, after)
		}
	}
}
