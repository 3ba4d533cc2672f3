package admission

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// An instance's own part of the Redis ledger: the holds of its requests in
// flight, the costs they settled that its balances have not applied yet,
// and the settles and releases Redis did not take. Times here are the
// instance's (monotonic); they only bound how long each is kept.

const localShards = 64

// How often the background worker tries again what Redis did not take;
// how often, while the instance has anything Redis should hold for it, it
// checks that Redis still has the epoch it wrote under; and how often it
// drops what has lapsed. Each instance that notices a loss gives itself
// the whole RestoreWindow to write its state back, so one that looks late
// stretches the window for every instance: they look five times a second
// (a script of about 20 µs of Redis's time each, BenchmarkRedisLedgerCheck).
const (
	retryEvery = 200 * time.Millisecond
	epochEvery = retryEvery
	sweepEvery = time.Second
)

var localSeed = maphash.MakeSeed()

type localShard struct {
	mu sync.Mutex
	m  map[string]*localAccount
}

type localAccount struct {
	holds   map[string]localHold // by request id
	settled []localSettled       // in the order settled
	empty   int                  // sweeps that found it empty in a row
}

// emptySweeps: an account found empty this many sweeps in a row is
// dropped; one in use between requests keeps its map.
const emptySweeps = 10

type localHold struct {
	key   string
	micro int64
	until time.Time // when the hold lapses in Redis unless renewed
}

type localSettled struct {
	id, key            string
	micro, at, version int64
	until              time.Time // kept until then at most (SettledGrace)
}

// pendingOp is a settle (or, without settle, a release) to send again.
type pendingOp struct {
	account, key, id string
	settle           bool
	micro, version   int64
	until            time.Time
}

func (l *RedisLedger) shard(account string) *localShard {
	return &l.local[maphash.String(localSeed, account)%localShards]
}

// account is the shard's record of account, made on first use. The
// shard's lock is held.
func (sh *localShard) account(account string) *localAccount {
	a := sh.m[account]
	if a == nil {
		a = &localAccount{holds: make(map[string]localHold)}
		sh.m[account] = a
	}
	return a
}

// tracked records a hold Redis took, and forgets the costs settled at or
// before the version the caller's view has applied: its balances have them.
func (l *RedisLedger) tracked(account, key, id string, micro, applied int64) {
	sh := l.shard(account)
	sh.mu.Lock()
	a := sh.account(account)
	a.holds[id] = localHold{key: key, micro: micro, until: time.Now().Add(l.opt.HoldTTL)}
	a.empty = 0
	n := 0
	for n < len(a.settled) && a.settled[n].version <= applied {
		n++
	}
	if n > 0 {
		clear(a.settled[:n])
		a.settled = a.settled[n:]
	}
	sh.mu.Unlock()
	if !l.working.Load() {
		l.startWorker()
	}
}

// settled moves op's hold to the costs settled.
func (l *RedisLedger) settled(op pendingOp, at int64) {
	sh := l.shard(op.account)
	sh.mu.Lock()
	a := sh.account(op.account)
	delete(a.holds, op.id)
	a.settled = append(a.settled, localSettled{id: op.id, key: op.key, micro: op.micro, at: at,
		version: op.version, until: time.Now().Add(l.opt.SettledGrace)})
	sh.mu.Unlock()
}

// expect is "1" when the instance has a hold of account that has not
// lapsed: Redis must then have the key of the account's holds, whose TTL
// outlives every hold, and a script that finds it gone knows it was
// evicted or deleted (luaLedger's evicted). "0" otherwise.
func (l *RedisLedger) expect(account string) string {
	now := time.Now()
	sh := l.shard(account)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if a := sh.m[account]; a != nil {
		for _, h := range a.holds {
			if h.until.After(now) {
				return "1"
			}
		}
	}
	return "0"
}

// heldAccounts lists the accounts the instance has a live hold of.
func (l *RedisLedger) heldAccounts(now time.Time) []string {
	var out []string
	for i := range l.local {
		sh := &l.local[i]
		sh.mu.Lock()
		for account, a := range sh.m {
			for _, h := range a.holds {
				if h.until.After(now) {
					out = append(out, account)
					break
				}
			}
		}
		sh.mu.Unlock()
	}
	return out
}

func (l *RedisLedger) untrack(account, id string) {
	sh := l.shard(account)
	sh.mu.Lock()
	if a := sh.m[account]; a != nil {
		delete(a.holds, id)
	}
	sh.mu.Unlock()
}

func (l *RedisLedger) renewed(account, id string, ok bool) {
	sh := l.shard(account)
	sh.mu.Lock()
	if a := sh.m[account]; a != nil {
		if h, had := a.holds[id]; had && ok {
			h.until = time.Now().Add(l.opt.HoldTTL)
			a.holds[id] = h
		} else if had {
			delete(a.holds, id) // Redis no longer has it: nothing to put back
		}
	}
	sh.mu.Unlock()
}

// transient: the operation did not run and may later: the error is not
// Redis's answer (a refused or cut connection, a timeout), so it may not
// have reached Redis; or Redis refused it for the moment, still loading its
// data after a restart, a replica not yet promoted, a script busy.
func transient(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return true
	}
	return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsMasterDownError(err) ||
		redis.IsTryAgainError(err) || strings.HasPrefix(re.Error(), "BUSY ")
}

func isEpochLost(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.Contains(re.Error(), epochLost)
}

// retryLater queues op for the background worker, until its hold lapses.
func (l *RedisLedger) retryLater(op pendingOp) {
	op.until = time.Now().Add(l.opt.HoldTTL)
	sh := l.shard(op.account)
	sh.mu.Lock()
	if a := sh.m[op.account]; a != nil {
		if h, ok := a.holds[op.id]; ok {
			op.until = h.until
		}
	}
	sh.mu.Unlock()
	l.pendMu.Lock()
	l.pending[op.account+"\x00"+op.id] = op
	l.pendMu.Unlock()
	l.startWorker()
}

// retrying is the number of operations waiting for Redis.
func (l *RedisLedger) retrying() int {
	l.pendMu.Lock()
	defer l.pendMu.Unlock()
	return len(l.pending)
}

// underEpoch runs a script under the instance's epoch token (run gets it,
// holding the read lock, so that a restore cannot fall between the script
// and the instance's record of its outcome), and again after putting the
// instance's state back when the script found the epoch lost.
func (l *RedisLedger) underEpoch(ctx context.Context, run func(tok any) error) error {
	for try := 0; ; try++ {
		l.mu.RLock()
		tok := l.epoch
		err := run(tok)
		l.mu.RUnlock()
		again, rerr := l.lostEpoch(ctx, err, tok, try)
		if rerr != nil {
			return rerr
		}
		if !again {
			return err
		}
	}
}

// lostEpoch: after a script refused for an epoch other than seen, the
// instance's state is put back under the current one; again says to run
// the script again (twice at most: the epoch may change meanwhile).
func (l *RedisLedger) lostEpoch(ctx context.Context, err error, seen any, try int) (again bool, _ error) {
	if err == nil || try >= 2 || !isEpochLost(err) {
		return false, nil
	}
	l.logEviction(ctx, err)
	if err := l.restore(ctx, seen); err != nil {
		return false, err
	}
	return true, nil
}

// logEviction logs, when a script dropped the epoch for an eviction it
// noticed (err is its refusal), what Redis evicted and what follows. Only
// the instance that noticed logs it; the others find the epoch gone.
func (l *RedisLedger) logEviction(ctx context.Context, err error) {
	_, why, _ := strings.Cut(err.Error(), epochLost+" ledger state lost: ")
	if !strings.HasPrefix(why, "evicted") {
		return
	}
	policy := "unknown"
	if mem, err := l.rdb.Info(ctx, "memory").Result(); err == nil {
		policy = InfoField(mem, "maxmemory_policy")
	}
	l.opt.Log.Error("Redis evicted keys while serving: the credit ledger takes its state as lost; every instance puts back its holds "+
		"and unapplied costs and new requests are answered 503 for "+RestoreWindow.String()+", or an account could spend past its credit; "+
		"run Redis with maxmemory-policy noeviction (CONFIG SET maxmemory-policy noeviction, and in redis.conf or the managed service's parameters)",
		"cause", why, "maxmemory_policy", policy, "prefix", l.prefix)
}

// InfoField is the value of field in the text of Redis's INFO, "" if
// it is not there.
func InfoField(info, field string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), field+":"); ok {
			return v
		}
	}
	return ""
}

// Join takes the prefix's current epoch, creating it if Redis has none,
// as the first operation would. An instance started beside running ones
// calls it at once: a loss of the prefix's state is then told from a new
// prefix even before its first hold, and the first instance of a new
// prefix creates the epoch before the next one starts and finds none.
func (l *RedisLedger) Join(ctx context.Context) error {
	return l.restore(ctx, "")
}

// restore makes the instance's epoch the current one, creating it if Redis
// has none, and, if it changed, writes back the instance's holds and
// unapplied costs under it. Operations wait meanwhile.
func (l *RedisLedger) restore(ctx context.Context, seen any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.epoch != seen {
		return nil // restored meanwhile
	}
	known, mine, others := seen.(string), "0", "0"
	if l.hasState() {
		mine = "1"
	}
	if l.opt.OthersRunning {
		others = "1"
	}
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	e, err := epochScript.Run(ctx, l.rdb, []string{l.epochKey}, hex.EncodeToString(tok[:]), l.nowMS(),
		RestoreWindow.Milliseconds(), known, mine, l.info(), others).Text()
	if err != nil {
		return err
	}
	cur, _, _ := strings.Cut(e, "|")
	if cur == known {
		return nil
	}
	now := time.Now()
	for i := range l.local {
		sh := &l.local[i]
		sh.mu.Lock()
		type job struct {
			account string
			args    []any
		}
		var jobs []job
		for account, a := range sh.m {
			args := []any{l.nowMS(), l.opt.idleTTL().Milliseconds(), 0}
			nh := 0
			for id, h := range a.holds {
				if left := h.until.Sub(now); left > 0 {
					args = append(args, id, h.key, h.micro, left.Milliseconds())
					nh++
				} else {
					delete(a.holds, id)
				}
			}
			args[2] = nh
			for _, c := range a.settled {
				if c.until.After(now) {
					args = append(args, c.id, c.key, c.micro, c.at, c.version)
				}
			}
			if len(args) > 3 {
				jobs = append(jobs, job{account, append(args, l.info(), cur)})
			}
		}
		sh.mu.Unlock()
		for _, j := range jobs {
			if err := restoreScript.Run(ctx, l.rdb, l.keys(j.account), j.args...).Err(); err != nil {
				return err
			}
		}
	}
	l.epoch = cur
	return nil
}

// startWorker runs the background worker unless it runs already.
func (l *RedisLedger) startWorker() {
	if l.working.CompareAndSwap(false, true) {
		go l.work()
	}
}

// work tries again the settles and releases Redis did not take, drops
// what lapsed, and checks the epoch; it ends when the instance has
// nothing left that Redis should hold for it.
func (l *RedisLedger) work() {
	t := time.NewTicker(retryEvery)
	defer t.Stop()
	var swept time.Time
	for range t.C {
		l.retryPending()
		if time.Since(swept) >= sweepEvery {
			swept = time.Now()
			if l.sweep(swept) {
				l.working.Store(false)
				// Something may have been added between the sweep and
				// the store: go on if so and no other worker started.
				if l.idle() || !l.working.CompareAndSwap(false, true) {
					return
				}
			}
		}
		l.checkEpoch() // every tick: epochEvery
	}
}

// retryPending sends each pending operation once more; it stops at the
// first that fails to reach Redis, which is still away.
func (l *RedisLedger) retryPending() {
	l.pendMu.Lock()
	ops := make([]pendingOp, 0, len(l.pending))
	for _, op := range l.pending {
		ops = append(ops, op)
	}
	l.pendMu.Unlock()
	now := time.Now()
	for _, op := range ops {
		if now.After(op.until) {
			l.untrack(op.account, op.id) // the hold has lapsed in Redis anyway
			l.done(op)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), retryEvery*5)
		err := l.apply(ctx, op)
		cancel()
		if err != nil && transient(err) {
			return
		}
		l.done(op) // settled, released, or refused by Redis for good
	}
}

func (l *RedisLedger) done(op pendingOp) {
	l.pendMu.Lock()
	delete(l.pending, op.account+"\x00"+op.id)
	l.pendMu.Unlock()
}

// sweep drops lapsed holds, costs kept their time and empty accounts; it
// reports whether nothing is left, pending operations included.
func (l *RedisLedger) sweep(now time.Time) (empty bool) {
	empty = true
	for i := range l.local {
		sh := &l.local[i]
		sh.mu.Lock()
		for account, a := range sh.m {
			for id, h := range a.holds {
				if !h.until.After(now) {
					delete(a.holds, id)
				}
			}
			n := 0
			for n < len(a.settled) && !a.settled[n].until.After(now) {
				n++
			}
			if n > 0 {
				clear(a.settled[:n])
				a.settled = a.settled[n:]
			}
			if len(a.holds) > 0 || len(a.settled) > 0 {
				a.empty = 0
				empty = false
			} else if a.empty++; a.empty >= emptySweeps {
				delete(sh.m, account)
			} else {
				empty = false
			}
		}
		sh.mu.Unlock()
	}
	return empty && l.retrying() == 0
}

func (l *RedisLedger) idle() bool { return l.localEmpty() && l.retrying() == 0 }

// localEmpty: the instance keeps no account's holds or costs (accounts
// emptied a moment ago are still there, and count).
func (l *RedisLedger) localEmpty() bool {
	for i := range l.local {
		sh := &l.local[i]
		sh.mu.Lock()
		n := len(sh.m)
		sh.mu.Unlock()
		if n > 0 {
			return false
		}
	}
	return true
}

// hasState: the instance has a hold or a cost that Redis should keep.
func (l *RedisLedger) hasState() bool {
	for i := range l.local {
		sh := &l.local[i]
		sh.mu.Lock()
		for _, a := range sh.m {
			if len(a.holds) > 0 || len(a.settled) > 0 {
				sh.mu.Unlock()
				return true
			}
		}
		sh.mu.Unlock()
	}
	return false
}

// checkScript fails as the others do when the epoch is not the caller's;
// when Redis has evicted keys since the epoch was written (INFO stats'
// evicted_keys moved: whichever keys they were, the ledger's may be among
// them); or when the key of the holds of an account the caller has a live
// hold of is gone (evicted), which it reports as the others do (luaLedger's
// evicted). Either eviction drops the epoch. KEYS: those accounts' hold
// keys, then the epoch key. ARGV: info, epoch.
var checkScript = redis.NewScript(luaLedger + luaEpochCheck + `
local was, ev = string.match(ARGV[#ARGV], '%.(%d+)@') or '?', evictions()
if was ~= ev then
  redis.call('DEL', KEYS[#KEYS])
  return lost('` + evictedKeys + ` ' .. was .. ' -> ' .. ev)
end
for i = 1, #KEYS - 1 do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('DEL', KEYS[#KEYS])
    return lost(holdKeyGone)
  end
end
return 1`)

// checkBatch bounds the hold keys one check looks at in one script.
const checkBatch = 1000

// checkEpoch checks the epoch: one that is gone, another than the
// instance's, or written by another Redis process means Redis lost what
// the instance wrote, which it puts back. So does an account whose holds'
// key is gone while the instance has a hold of it: Redis evicted it, and
// the holds of the other instances with it, which they put back too.
func (l *RedisLedger) checkEpoch() {
	ctx, cancel := context.WithTimeout(context.Background(), RestoreWindow)
	defer cancel()
	l.mu.RLock()
	seen := l.epoch
	l.mu.RUnlock()
	accounts := l.heldAccounts(time.Now())
	for {
		n := min(len(accounts), checkBatch)
		keys := make([]string, 0, n+1)
		for _, a := range accounts[:n] {
			keys = append(keys, l.keys(a)[0])
		}
		accounts = accounts[n:]
		err := checkScript.Run(ctx, l.rdb, append(keys, l.epochKey), l.info(), seen).Err()
		if err != nil && isEpochLost(err) {
			l.logEviction(ctx, err)
			_ = l.restore(ctx, seen)
			return
		}
		// Otherwise the epoch is the instance's, or Redis is away: the
		// next look will tell.
		if err != nil || len(accounts) == 0 {
			return
		}
	}
}
