package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"syscall"
)

// A serve's credit holds and rate limits live in its own memory unless
// --redis-url shares them, and an account hammered through two serves that
// keep their own would spend past its credit (each admits against the
// balance as if the other held nothing). So every serve claims its store:
// alone (an exclusive lock) without Redis, beside others (a shared lock)
// with it. A serve that cannot claim the store refuses to start.
// The lock goes with the process, kill -9 included: a flock on SQLite's
// data directory, a session advisory lock on PostgreSQL. KurrentDB has no
// such lock; instances on it must be given Redis by their operator.

// errStoreTaken names what to do when another serve holds the store.
func errStoreTaken(where string, shared bool) error {
	if shared {
		return fmt.Errorf("another routefree serve runs on this store (%s) without --redis-url: its credit holds and rate limits are its own, "+
			"so an account could spend past its credit through the two; restart it with --redis-url (the same Redis and --redis-prefix as this one)", where)
	}
	return fmt.Errorf("another routefree serve runs on this store (%s): instances on one store must share their credit holds and rate limits, "+
		"or an account could spend past its credit through two of them; start every instance with --redis-url (one Redis, one --redis-prefix), or stop the other first", where)
}

// claimStore takes the store for this serve, shared (with Redis) or alone;
// release gives it back.
func claimStore(ctx context.Context, c *Config, db *sql.DB, shared bool) (release func() error, err error) {
	switch c.Store {
	case "sqlite":
		return claimDirectory(c.DataDir, shared)
	case "postgres":
		return claimSchema(ctx, db, shared)
	}
	return func() error { return nil }, nil
}

// claimDirectory flocks serve.lock in the SQLite data directory.
func claimDirectory(dir string, shared bool) (func() error, error) {
	path := filepath.Join(dir, "serve.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if shared {
		how = syscall.LOCK_SH
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			if abs, aerr := filepath.Abs(dir); aerr == nil {
				dir = abs
			}
			return nil, errStoreTaken(dir, shared)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f.Close, nil
}

// claimSchema takes a session advisory lock of the store's schema on a
// connection kept for the life of serve.
func claimSchema(ctx context.Context, db *sql.DB, shared bool) (func() error, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var schema string
	if err := conn.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		conn.Close()
		return nil, err
	}
	h := fnv.New64a()
	h.Write([]byte("routefree/serve/" + schema))
	key := int64(h.Sum64())
	try, unlock := "SELECT pg_try_advisory_lock($1)", "SELECT pg_advisory_unlock($1)"
	if shared {
		try, unlock = "SELECT pg_try_advisory_lock_shared($1)", "SELECT pg_advisory_unlock_shared($1)"
	}
	var got bool
	if err := conn.QueryRowContext(ctx, try, key).Scan(&got); err != nil {
		conn.Close()
		return nil, err
	}
	if !got {
		conn.Close()
		return nil, errStoreTaken("PostgreSQL schema "+schema, shared)
	}
	return func() error {
		// The connection goes back to the pool: the lock must not go with it.
		_, err := conn.ExecContext(context.Background(), unlock, key)
		return errors.Join(err, conn.Close())
	}, nil
}
