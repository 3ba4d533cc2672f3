package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/internal/inherit"
)

// Serves on one store must share one Redis and one --redis-prefix (their
// credit holds and rate limits live there), and two stores must not share
// a prefix (their accounts' holds would meet). Each side records the other:
//
//   - Redis records which store owns the prefix: the key <prefix>serve:owner
//     holds "<store> <token>", the store's identity (its first event's hash)
//     and a random token naming this Redis and prefix. Running serves put it
//     back every claimCheck, with a TTL of ownerTTL, so that a Redis
//     restarted empty (it keeps nothing on disk) has it again within
//     seconds, and a prefix whose serves all stopped is free once the holds
//     they could have left have expired.
//   - The store records which token its running serves use: each serve holds
//     a shared lock named after its token (a serve-redis-<token>.lock flock
//     in the SQLite data directory, an advisory lock on PostgreSQL), so a
//     serve finding another token's lock held knows a running serve uses
//     another Redis or prefix.
//
// A serve whose Redis lacks the key while serves run on its store waits for
// them to put it back (a restarted Redis) before taking a token of its own
// (then it is another Redis, and refused).
//
// A copy of a store (an SQLite file copied, a pg_dump restored elsewhere)
// begins with the original's first event, so its identity is the
// original's. To tell them apart once their histories part, the prefix also
// records the head its serves last reported (<prefix>serve:head, "<event ID>
// <hash>", kept like the owner key): a serve whose history lacks that event,
// or holds it with another hash, is refused at start, and logs an error
// while it runs. A serve reports its head only over the one it read, so the
// record never moves back.

// ownerTTL is how long a prefix stays its store's after the last serve
// using it stopped: as long as the holds it may have left.
const ownerTTL = sharedHoldTTL

// ownerWait is how long a starting serve waits for running ones to put the
// owner key back into a Redis that lost it.
const ownerWait = 3 * claimCheck

// redisStartWait is how long a starting serve waits for Redis to answer
// (awaitRedis).
const redisStartWait = 30 * time.Second

// redisRecords is the store side: the token each running serve uses.
type redisRecords interface {
	// record marks this serve as using token, for as long as it runs.
	record(ctx context.Context, token string) error
	// others reports whether a running serve recorded a token other than
	// token (any token when token is "").
	others(ctx context.Context, token string) (bool, error)
}

// redisOwner keeps this serve's entry in Redis.
type redisOwner struct {
	rdb   *redis.Client
	key   string
	head  string // the key of the head last reported
	store string // the store's identity; "" while it holds no event
	token string
	raw   eventstore.Store
	log   *slog.Logger
	// partedAt is the recorded head last logged as missing from the store.
	partedAt string
	stop     chan struct{}
	done     chan struct{}
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// storeIdentity is the chain hash of the store's first event, "" for an
// empty store (which has no account whose holds could meet another's).
// Event IDs of commands are derived from their content, so two stores can
// begin with the same ID; the hash covers the instant too.
func storeIdentity(ctx context.Context, r eventstore.Store) (string, error) {
	evs, err := r.ReadAll(ctx, eventstore.Start, 1)
	if err != nil || len(evs) == 0 {
		return "", err
	}
	return hex.EncodeToString(evs[0].Hash), nil
}

func splitOwner(v string) (store, token string) {
	store, token, _ = strings.Cut(v, " ")
	return store, token
}

// joinRedis checks that this serve's Redis and prefix are those of the
// serves running on its store, and that no other store owns the prefix,
// then keeps both records until stopped. others reports whether serves
// were running on the store as it joined: the credit ledger's prefix then
// has their holds, whatever Redis shows (admission.LedgerOptions).
func joinRedis(ctx context.Context, c *Config, rdb *redis.Client, claim *storeClaim, raw eventstore.Store, log *slog.Logger) (stop func() error, others bool, err error) {
	if claim.redis == nil {
		return func() error { return nil }, false, nil
	}
	o := &redisOwner{rdb: rdb, key: c.RedisPrefix + "serve:owner", head: c.RedisPrefix + "serve:head", raw: raw, log: log}
	if o.store, err = storeIdentity(ctx, raw); err != nil {
		return nil, false, err
	}
	redisWhere := fmt.Sprintf("--redis-url %s, --redis-prefix %q", redactURL(c.RedisURL), c.RedisPrefix)
	cur, err := o.get(ctx) // Redis answered a moment ago (awaitRedis)
	if err != nil {
		return nil, false, fmt.Errorf("Redis (%s): %w", redisWhere, err)
	}
	// Asked before this serve records itself: the serves of one prefix
	// share one record (their token), which would then count this one.
	running, err := claim.redis.others(ctx, "")
	if err != nil {
		return nil, false, err
	}
	if cur == "" {
		// Serves running on the store put the key back within claimCheck
		// if this is their Redis, restarted.
		for deadline := time.Now().Add(ownerWait); running && cur == "" && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
			if cur, err = o.get(ctx); err != nil {
				return nil, false, fmt.Errorf("Redis (%s): %w", redisWhere, err)
			}
		}
	}
	created := false
	if cur == "" {
		mine := o.store + " " + newToken()
		if created, err = rdb.SetNX(ctx, o.key, mine, ownerTTL).Result(); err != nil {
			return nil, false, fmt.Errorf("Redis (%s): %w", redisWhere, err)
		}
		if cur, err = o.get(ctx); err != nil {
			return nil, false, fmt.Errorf("Redis (%s): %w", redisWhere, err)
		}
	}
	owner, token := splitOwner(cur)
	o.token = token
	refuse := func(e error) (func() error, bool, error) {
		if created { // leave no trace of a refused serve
			_ = rdb.Del(context.Background(), o.key).Err()
		}
		return nil, false, e
	}
	if owner != "" && o.store != "" && owner != o.store {
		return refuse(fmt.Errorf("Redis (%s) holds the credit holds and rate limits of serves on another store (its first event's hash %s; this store, %s, begins with %s): "+
			"the accounts of two stores would meet there; give each store its own --redis-prefix (a prefix is free again %s after the last serve using it stopped)",
			redisWhere, owner, claim.where, o.store, ownerTTL))
	}
	seen, err := o.checkHead(ctx)
	if err != nil {
		return refuse(fmt.Errorf("Redis (%s): %w", redisWhere, err))
	}
	if seen.parted() {
		return refuse(fmt.Errorf("Redis (%s) last saw the serves of this store at event %s (hash %s), which this store's history (%s, last event %s, hash %s) lacks: "+
			"the store is a copy of theirs (a copied file or a restored dump) whose history parted from it, or an older one; serves of both on one prefix would share "+
			"the credit holds and rate limits of accounts that are no longer the same; give this store its own --redis-prefix "+
			"(if it replaces a lost store, the prefix is free again %s after the last serve using it stopped)",
			redisWhere, seen.recID, seen.recHash, claim.where, seen.ours.ID, hex.EncodeToString(seen.ours.Hash), ownerTTL))
	}
	if err := claim.redis.record(ctx, token); err != nil {
		return refuse(err)
	}
	o.reportHead(ctx, seen)
	other, err := claim.redis.others(ctx, token)
	if err != nil {
		return refuse(err)
	}
	if other {
		return refuse(fmt.Errorf("serves running on this store (%s) use another Redis or --redis-prefix than this one (%s): "+
			"every serve on a store must share its credit holds and rate limits, or an account could spend past its credit; "+
			"start this one with the --redis-url and --redis-prefix of the running ones", claim.where, redisWhere))
	}
	o.stop, o.done = make(chan struct{}), make(chan struct{})
	go o.keep()
	return func() error { close(o.stop); <-o.done; return nil }, running, nil
}

func (o *redisOwner) get(ctx context.Context) (string, error) {
	v, err := o.rdb.Get(ctx, o.key).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return v, err
}

// keep puts the owner key back every claimCheck, naming the store once it
// has a first event, and logs an error while the prefix names another
// token (another store's serve took it while Redis had lost it).
func (o *redisOwner) keep() {
	defer close(o.done)
	t := time.NewTicker(claimCheck)
	defer t.Stop()
	warned := ""
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), claimCheck)
		if o.store == "" {
			o.store, _ = storeIdentity(ctx, o.raw)
		}
		o.keepHead(ctx)
		mine := o.store + " " + o.token
		cur, err := o.get(ctx)
		switch _, token := splitOwner(cur); {
		case err != nil: // Redis unreachable: readiness says so
		case cur == "":
			err = o.rdb.SetNX(ctx, o.key, mine, ownerTTL).Err()
		case token != o.token:
			if warned != cur {
				warned = cur
				o.log.Error("this serve's Redis prefix is now owned by serves of another store or Redis; their credit holds could meet this store's: give each store its own --redis-prefix and restart its serves", "key", o.key)
			}
		case cur != mine:
			err = o.rdb.Set(ctx, o.key, mine, ownerTTL).Err()
		default:
			err = o.rdb.Expire(ctx, o.key, ownerTTL).Err()
		}
		_ = err
		cancel()
	}
}

// headCheck compares the head that the prefix's serves last reported with
// this store's history.
type headCheck struct {
	rec            string // the recorded value, "" for none
	recID, recHash string // its event ID and hash
	ours           eventstore.RecordedEvent
	hasOurs        bool // the store has an event and can tell its last
	found          bool // the recorded event is in this store, with its hash
}

// parted reports whether the store lacks the recorded head.
func (h headCheck) parted() bool { return h.hasOurs && h.rec != "" && !h.found }

// checkHead reads the recorded head, then this store's last event: read in
// that order, a head reported by a serve of this store is in the history
// read after it. A store that cannot tell its last event (KurrentDB) or
// holds none is not checked.
func (o *redisOwner) checkHead(ctx context.Context) (headCheck, error) {
	var h headCheck
	tail, ok := o.raw.(eventstore.TailReader)
	byID, ok2 := o.raw.(eventstore.EventReader)
	if !ok || !ok2 {
		return h, nil
	}
	rec, err := o.rdb.Get(ctx, o.head).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return h, err
	}
	h.rec = rec
	if h.ours, err = tail.LastEvent(ctx); errors.Is(err, eventstore.ErrEventNotFound) {
		return h, nil
	} else if err != nil {
		return h, err
	}
	h.hasOurs = true
	if rec == "" {
		return h, nil
	}
	h.recID, h.recHash, _ = strings.Cut(rec, " ")
	id, err := uuid.Parse(h.recID)
	if err != nil { // not a head a serve wrote: nothing to compare
		h.found = true
		return h, nil
	}
	ev, err := byID.ReadEvent(ctx, id)
	if errors.Is(err, eventstore.ErrEventNotFound) {
		return h, nil
	}
	if err != nil {
		return h, err
	}
	h.found = hex.EncodeToString(ev.Hash) == h.recHash
	return h, nil
}

// raiseHead sets the head to ARGV[2] if it is still ARGV[1] (what the
// serve read before its own head) or already ARGV[2], with a TTL of ARGV[3]
// milliseconds.
var raiseHead = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == false then cur = '' end
if cur == ARGV[1] or cur == ARGV[2] then
	redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
	return 1
end
return 0`)

// reportHead records this store's last event as the prefix's head, unless
// another serve reported one meanwhile (it is checked on the next round).
func (o *redisOwner) reportHead(ctx context.Context, h headCheck) {
	if !h.hasOurs || h.parted() {
		return
	}
	mine := h.ours.ID.String() + " " + hex.EncodeToString(h.ours.Hash)
	_ = raiseHead.Run(ctx, o.rdb, []string{o.head}, h.rec, mine, ownerTTL.Milliseconds()).Err()
}

// keepHead checks and reports the head once a round, logging an error
// (once per head) while the prefix's head is not in this store's history:
// serves of a copy of the store use the prefix.
func (o *redisOwner) keepHead(ctx context.Context) {
	h, err := o.checkHead(ctx)
	if err != nil {
		return // Redis or the store unreachable: readiness says so
	}
	if h.parted() {
		if o.partedAt != h.rec {
			o.partedAt = h.rec
			o.log.Error("this serve's Redis prefix last saw serves at an event this store's history lacks: serves of a copy of this store, whose history parted from it, share its credit holds and rate limits; give each store its own --redis-prefix and restart its serves",
				"key", o.head, "their_event", h.recID, "their_hash", h.recHash, "our_event", h.ours.ID, "our_hash", hex.EncodeToString(h.ours.Hash))
		}
		return
	}
	o.reportHead(ctx, h)
}

// dirRecords records tokens as flocks of serve-redis-<token>.lock files in
// the SQLite data directory.
type dirRecords struct {
	dir  string
	mine *os.File
}

func (d *dirRecords) path(token string) string {
	return filepath.Join(d.dir, "serve-redis-"+token+".lock")
}

func (d *dirRecords) record(_ context.Context, token string) error {
	path := d.path(token)
	for {
		f, err := inherit.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		// Blocks only while another serve clears the file as stale.
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", path, err)
		}
		// Cleared meanwhile: the lock is on a file no one sees; again.
		var held, named syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &held) == nil && syscall.Stat(path, &named) == nil && held.Ino == named.Ino {
			d.mine = f
			return nil
		}
		f.Close()
	}
}

func (d *dirRecords) others(_ context.Context, token string) (bool, error) {
	paths, err := filepath.Glob(filepath.Join(d.dir, "serve-redis-*.lock"))
	if err != nil {
		return false, err
	}
	for _, p := range paths {
		if token != "" && p == d.path(token) {
			continue
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			continue // cleared by another serve
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return true, nil
		}
		if err == nil {
			os.Remove(p) // the record of serves that stopped
		}
		f.Close()
	}
	return false, nil
}

func (d *dirRecords) close() error {
	if d.mine == nil {
		return nil
	}
	return d.mine.Close()
}

// On PostgreSQL a token is recorded as a shared advisory lock (two-key
// form) in a key space of the schema's own, on the session that holds the
// serve's claim, so it goes and comes back with that session.

// redisLockSpace is the first key of the schema's token locks.
func redisLockSpace(schema string) int32 {
	h := fnv.New32a()
	h.Write([]byte("routefree/redis/" + schema))
	return int32(h.Sum32())
}

// tokenLockKey is the second key of a token's lock.
func tokenLockKey(token string) int32 {
	h := fnv.New32a()
	h.Write([]byte(token))
	return int32(h.Sum32())
}

func (l *schemaLock) recordOn(ctx context.Context, conn *sql.Conn, token string) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock_shared($1, $2)", redisLockSpace(l.schema), tokenLockKey(token))
	return err
}

func (l *schemaLock) record(ctx context.Context, token string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return errors.New("this serve's claim on its store was lost with its PostgreSQL session")
	}
	if err := l.recordOn(ctx, l.conn, token); err != nil {
		return err
	}
	l.token = token
	return nil
}

func (l *schemaLock) others(ctx context.Context, token string) (bool, error) {
	// A two-key advisory lock shows in pg_locks as classid = key 1,
	// objid = key 2 (as unsigned), objsubid = 2.
	var found bool
	err := l.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid::int8 = $1::int8 AND ($2::text = '' OR objid::int8 <> $3::int8))`,
		int64(uint32(redisLockSpace(l.schema))), token, int64(uint32(tokenLockKey(token)))).Scan(&found)
	return found, err
}
