package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/routefree/routefree/internal/inherit"
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

// storeClaim is a serve's claim on its store.
type storeClaim struct {
	release func() error
	// where names the store in messages.
	where string
	// redis, set where the store can tell its serves apart (not KurrentDB),
	// records which Redis this serve uses (see oneredis.go).
	redis redisRecords
}

// claimStore takes the store for this serve, shared (with Redis) or alone.
func claimStore(ctx context.Context, c *Config, db *sql.DB, shared bool, log *slog.Logger) (*storeClaim, error) {
	switch c.Store {
	case "sqlite":
		return claimDirectory(c.DataDir, shared)
	case "postgres":
		return claimSchema(ctx, db, shared, log)
	}
	return &storeClaim{release: func() error { return nil }, where: c.Store + " store"}, nil
}

// claimDirectory flocks serve.lock in the SQLite data directory, and the
// directory itself.
func claimDirectory(dir string, shared bool) (*storeClaim, error) {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	path := filepath.Join(dir, "serve.lock")
	f, err := inherit.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
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
			return nil, errStoreTaken(dir, shared)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The directory too: serve.lock can be deleted under a running serve
	// (taken for a stale lock after a crash), and the next serve would
	// lock a new file beside it; a directory holding the store cannot be.
	// serve.lock stays, for the claims of earlier releases.
	d, err := os.Open(dir)
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := syscall.Flock(int(d.Fd()), how|syscall.LOCK_NB); err != nil {
		d.Close()
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errStoreTaken(dir, shared)
		}
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	rec := &dirRecords{dir: dir}
	return &storeClaim{release: func() error { return errors.Join(rec.close(), d.Close(), f.Close()) }, where: dir, redis: rec}, nil
}

// lockFile waits for an exclusive flock of path, made if missing; the
// lock goes with the process, kill -9 included.
func lockFile(path string) (unlock func(), err error) {
	f, err := inherit.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// claimSchema takes a session advisory lock of the store's schema on a
// connection kept for the life of serve. The lock goes with its session, so
// a connection lost (PostgreSQL restarted, a network cut) loses the claim
// too: a keeper checks the session every claimCheck and takes the lock
// again on a new one, logging an error while another serve holds it.
func claimSchema(ctx context.Context, db *sql.DB, shared bool, log *slog.Logger) (*storeClaim, error) {
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, err
	}
	l := &schemaLock{db: db, key: serveLockKey(schema), shared: shared, where: "PostgreSQL schema " + schema, schema: schema}
	if err := l.take(ctx); err != nil {
		return nil, err
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go l.keep(stop, done, log)
	release := func() error {
		close(stop)
		<-done
		return l.release()
	}
	return &storeClaim{release: release, where: l.where, redis: l}, nil
}

// serveLockKey is the advisory lock key of serves on schema.
func serveLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("routefree/serve/" + schema))
	return int64(h.Sum64())
}

// claimCheck is how often a serve checks that its claim's session lives.
const claimCheck = 2 * time.Second

type schemaLock struct {
	db     *sql.DB
	key    int64
	shared bool
	where  string
	schema string

	mu    sync.Mutex
	conn  *sql.Conn // the session holding the lock; nil while it is lost
	token string    // this serve's Redis token, recorded on the same session
}

func (l *schemaLock) take(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.takeLocked(ctx)
}

func (l *schemaLock) takeLocked(ctx context.Context) error {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return err
	}
	try := "SELECT pg_try_advisory_lock($1)"
	if l.shared {
		try = "SELECT pg_try_advisory_lock_shared($1)"
	}
	var got bool
	if err := conn.QueryRowContext(ctx, try, l.key).Scan(&got); err != nil {
		conn.Close()
		return err
	}
	if !got {
		conn.Close()
		return errStoreTaken(l.where, l.shared)
	}
	if l.token != "" {
		if err := l.recordOn(ctx, conn, l.token); err != nil {
			conn.Close()
			return err
		}
	}
	l.conn = conn
	return nil
}

// keep takes the lock again whenever its session is gone.
func (l *schemaLock) keep(stop <-chan struct{}, done chan<- struct{}, log *slog.Logger) {
	defer close(done)
	t := time.NewTicker(claimCheck)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), claimCheck)
		l.mu.Lock()
		if l.conn != nil && l.conn.PingContext(ctx) != nil {
			l.conn.Raw(func(any) error { return driver.ErrBadConn }) // never back to the pool
			l.conn.Close()
			l.conn = nil
		}
		if l.conn == nil {
			if err := l.takeLocked(ctx); err != nil {
				log.Error("this serve's claim on its store was lost with its PostgreSQL session and cannot be taken again", "err", err)
			} else {
				log.Warn("this serve's claim on its store was lost with its PostgreSQL session and is taken again")
			}
		}
		l.mu.Unlock()
		cancel()
	}
}

func (l *schemaLock) release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil
	}
	unlock := "SELECT pg_advisory_unlock($1)"
	if l.shared {
		unlock = "SELECT pg_advisory_unlock_shared($1)"
	}
	// The connection goes back to the pool: the lock must not go with it.
	_, err := l.conn.ExecContext(context.Background(), unlock, l.key)
	if l.token != "" {
		_, uerr := l.conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock_shared($1, $2)", redisLockSpace(l.schema), tokenLockKey(l.token))
		err = errors.Join(err, uerr)
	}
	return errors.Join(err, l.conn.Close())
}
