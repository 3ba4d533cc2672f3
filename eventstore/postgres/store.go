package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routefree/routefree/eventstore"
)

// Options tune the store. The zero value is usable.
type Options struct {
	// MaxBatchEvents caps the events of one group commit (default 2000).
	MaxBatchEvents int
	// PollInterval is how often subscriptions read when no wake-up comes
	// (default 500ms): the fallback if a notification is lost.
	PollInterval time.Duration
	// SubscribeBatch is the number of events per subscription read (default 1000).
	SubscribeBatch int
	// WriteTimeout bounds how long an append waits for PostgreSQL (default
	// 10s): a server that stops answering without refusing (a network
	// partition, a frozen host) fails the batch, and its callers learn it,
	// rather than waiting without end. A commit's outcome is then unknown,
	// as with any connection lost during COMMIT.
	WriteTimeout time.Duration
	// BeforeCommit, when set, runs inside every write transaction just before
	// COMMIT, with the advisory lock held. Tests use it to make commits slow.
	BeforeCommit func()
}

func (o *Options) defaults() {
	if o.MaxBatchEvents <= 0 {
		o.MaxBatchEvents = 2000
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 500 * time.Millisecond
	}
	if o.SubscribeBatch <= 0 {
		o.SubscribeBatch = 1000
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
}

// Store is the PostgreSQL event store.
type Store struct {
	pool     *pgxpool.Pool
	opts     Options
	schema   string
	lockKey  int64  // advisory lock that orders the writers of this schema
	channel  string // LISTEN/NOTIFY channel of this schema
	instance string // payload of our own notifications, to ignore them
	commit   *eventstore.GroupCommitter
	notifier *eventstore.Notifier

	stopListen   context.CancelFunc
	listenDone   chan struct{}
	listening    chan struct{} // closed once LISTEN first succeeds
	listenedOnce sync.Once

	batches, events, maxRequests atomic.Int64
	closeOnce                    sync.Once
	closed                       chan struct{}
}

var _ eventstore.Store = (*Store)(nil)
var (
	_ eventstore.TailReader     = (*Store)(nil)
	_ eventstore.BackwardReader = (*Store)(nil)
)

// Open connects, applies the migrations and starts the group committer and
// the notification listener. The URL's search_path chooses the schema.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	opts.defaults()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres event store: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres event store: %w", err)
	}
	var schema *string
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres event store: %w", err)
	}
	if schema == nil {
		pool.Close()
		return nil, errors.New("postgres event store: no schema of the search_path exists")
	}
	if err := migrate(ctx, pool, *schema); err != nil {
		pool.Close()
		return nil, err
	}
	lockKey := key("routefree/eventstore/chain/" + *schema)
	// The append-order trigger takes the same lock as the store's writers.
	if _, err := pool.Exec(ctx, `INSERT INTO event_chain (id, lock_key) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET lock_key = EXCLUDED.lock_key WHERE event_chain.lock_key <> EXCLUDED.lock_key`, lockKey); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres event store: %w", err)
	}
	if err := raiseCommitOffset(ctx, pool, lockKey); err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{
		pool:     pool,
		opts:     opts,
		schema:   *schema,
		lockKey:  lockKey,
		channel:  channelName(*schema),
		instance: uuid.NewString(),
		notifier: eventstore.NewNotifier(),
		closed:   make(chan struct{}),
	}
	s.commit = eventstore.NewGroupCommitter(s.writeBatch, opts.MaxBatchEvents)
	lctx, cancel := context.WithCancel(context.Background())
	s.stopListen, s.listenDone, s.listening = cancel, make(chan struct{}), make(chan struct{})
	go s.listen(lctx)
	return s, nil
}

// raiseCommitOffset makes this cluster's appends sort after the history
// the store holds: one restored from another cluster may carry transaction
// ids ahead of this one's (migrations/postgres/00003). Under the chain's
// lock no append runs meanwhile; the offset only ever grows.
func raiseCommitOffset(ctx context.Context, pool *pgxpool.Pool, lockKey int64) error {
	// Nearly always the history's ids are behind this cluster's: then no
	// lock is taken, and instances starting together do not queue here.
	var ahead bool
	if err := pool.QueryRow(ctx, `SELECT COALESCE((SELECT max(transaction_id) FROM events) >= events_commit_id(), false)`).Scan(&ahead); err != nil {
		return fmt.Errorf("postgres event store: %w", err)
	}
	if !ahead {
		return nil
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres event store: %w", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey); err != nil {
		return fmt.Errorf("postgres event store: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE event_chain
SET xid_offset = xid_offset + (m.max_id::text::numeric - events_commit_id()::text::numeric + 1)::bigint
FROM (SELECT max(transaction_id) AS max_id FROM events) m
WHERE id = 1 AND m.max_id >= events_commit_id()`); err != nil {
		return fmt.Errorf("postgres event store: making appends follow the restored history: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres event store: %w", err)
	}
	return nil
}

// key derives a 64-bit advisory lock key from a name.
func key(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

func channelName(schema string) string {
	c := "routefree_events_" + schema
	if len(c) > 63 { // NAMEDATALEN-1: pg_notify rejects longer names
		c = c[:63]
	}
	return c
}

// Stats count the store's group commits since Open.
type Stats struct {
	Batches          int64 // write transactions
	Events           int64 // events written
	MaxBatchRequests int64 // most appends that shared one transaction
}

// Stats reports the group commits so far.
func (s *Store) Stats() Stats {
	return Stats{Batches: s.batches.Load(), Events: s.events.Load(), MaxBatchRequests: s.maxRequests.Load()}
}

func (s *Store) countBatch(requests, events int) {
	s.batches.Add(1)
	s.events.Add(int64(events))
	for {
		m := s.maxRequests.Load()
		if int64(requests) <= m || s.maxRequests.CompareAndSwap(m, int64(requests)) {
			return
		}
	}
}

// Pool is the connection pool, for read models that live in the same database.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Append adds events to a stream through the group committer.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	return s.commit.Append(ctx, stream, expected, events...)
}

// SubscribeAll delivers every event after from, history first, then live.
func (s *Store) SubscribeAll(ctx context.Context, from eventstore.Position) (*eventstore.Subscription, error) {
	if s.isClosed() {
		return nil, eventstore.ErrClosed
	}
	return eventstore.Poll(ctx, s, from, eventstore.PollOptions{
		Batch:    s.opts.SubscribeBatch,
		Interval: s.opts.PollInterval,
		Wake:     s.notifier,
	}), nil
}

// Close writes the queued appends, then stops the listener and the pool.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.commit.Close()
		s.stopListen()
		<-s.listenDone
		s.pool.Close()
	})
	return nil
}

func (s *Store) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}
