package admission

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
)

// RedisLedger is the Ledger shared by several gateway instances. Each
// operation is one Lua script over the account's three keys, which share a
// hash tag ({account}), and the prefix's epoch key:
//
//	h  HASH  "r:<requestID>" → "<micro>|<deadlineMs>|<key>"; "sum", "n", "k:<key>" running totals;
//	         "s:<requestID>" → settledAtMs, while the settled cost is kept
//	x  ZSET  requestID scored by its deadline (ms), to expire holds
//	s  ZSET  "<micro>|<settledAtMs>|<key>|<requestID>" scored by usage version
//	epoch STRING "<token>.<evicted_keys>@<run_id>|<readyAtMs>" (prefix+"l:epoch")
//
// Holds and their totals share one key so they can only expire together.
// Every key's TTL is refreshed on use and exceeds both HoldTTL and
// SettledGrace, so an abandoned account's state disappears by itself. The
// epoch key lies outside the account's slot: the ledger wants one Redis
// (with replicas, if any), not a Redis Cluster.
//
// Deadlines are read on Redis's clock (TIME), never the instance's: an
// instance whose clock lags would otherwise take holds that the others
// expire at once, and its account could spend past its credit; one whose
// clock runs ahead would lock credit long after a crash.
//
// Redis is the shared copy, not the only one. Each instance also keeps its
// own requests' holds, and the costs they settled that its balances have
// not applied yet (ledger_local.go), so that it can:
//   - retry a settle or release that failed because Redis could not be
//     reached, until Redis answers or the hold would have lapsed anyway.
//     A settle is idempotent (the "s:<requestID>" mark), so one whose
//     answer was lost counts once however often it is sent;
//   - write them back when Redis has lost its state (restarted empty,
//     flushed) or part of it (restarted from an older snapshot, a replica
//     that lagged promoted). Each script checks the epoch token the
//     instance last saw: when it is missing or another, or (Hold, Renew)
//     names a Redis process other than the one answering (INFO server's
//     run_id, which every restart and failover changes), the instance
//     puts its holds and costs back under the current epoch before going
//     on, and Holds wait until the other instances have had time to do
//     the same (RestoreWindow). Keys Redis evicted (a maxmemory-policy
//     other than noeviction) count as such a loss: the epoch also records
//     INFO stats' evicted_keys, and the instance's check (checkEpoch)
//     drops it once the count has moved.
type RedisLedger struct {
	rdb      redis.UniversalClient
	prefix   string
	epochKey string
	opt      LedgerOptions
	// redisClock stands for Redis's clock in tests of expiry; nil in use.
	redisClock func() time.Time
	// redisInfo stands for Redis's answer to INFO server (its run_id and
	// uptime) in tests of a restart, which a shared Redis cannot have; nil
	// in use.
	redisInfo func() string

	// mu is read-locked by each operation from its script to the local
	// record of its outcome, and locked by a restore, so that nothing
	// the restore must put back falls in between.
	mu    sync.RWMutex
	epoch any // the epoch token (a string) this instance's state was written under; "" before the first

	local   [localShards]localShard
	pendMu  sync.Mutex
	pending map[string]pendingOp // by account + "\x00" + requestID
	working atomic.Bool          // the background worker runs
}

// NewRedisLedger keeps its state under keys starting with prefix+"l:".
func NewRedisLedger(rdb redis.UniversalClient, prefix string, o LedgerOptions) *RedisLedger {
	l := &RedisLedger{rdb: rdb, prefix: prefix, epochKey: prefix + "l:epoch", opt: o.withDefaults(),
		epoch: "", pending: make(map[string]pendingOp)}
	for i := range l.local {
		l.local[i].m = make(map[string]*localAccount)
	}
	return l
}

func (l *RedisLedger) keys(account string) []string {
	p := l.prefix + "l:{" + account + "}:"
	return []string{p + "h", p + "x", p + "s", l.epochKey}
}

// ErrLedgerRestoring: Redis lost the ledger's state a moment ago and the
// instances are still writing back their holds; admitting now could pass
// an account's credit. Try again in a few seconds.
var ErrLedgerRestoring = errors.New("admission: the credit ledger is being restored after Redis lost its state")

// RestoringError is ErrLedgerRestoring with the time left until Holds are
// taken again (on Redis's clock): what a client is told to wait, rather
// than the whole RestoreWindow however much of it has passed.
type RestoringError struct{ Wait time.Duration }

func (e *RestoringError) Error() string        { return ErrLedgerRestoring.Error() }
func (e *RestoringError) Is(target error) bool { return target == ErrLedgerRestoring }

// RestoreWindow is how long after Redis lost its state Holds are refused
// (ErrLedgerRestoring):
// long enough for every running instance to notice (they look every
// epochEvery while they have something to put back) and write back.
const RestoreWindow = 3 * time.Second

// epochLost is in the error a script returns when the epoch is not the
// caller's.
const epochLost = "ROUTEFREE_EPOCH"

// evictedHoldKey and evictedKeys follow epochLost in the error of a script
// that dropped the epoch for an eviction it noticed: the key of the holds
// of an account the caller has a live hold of is gone, or Redis's count of
// evicted keys differs from the one the epoch was written at.
const (
	evictedHoldKey = "evicted: the key of an account's holds is gone"
	evictedKeys    = "evicted: evicted_keys"
)

// luaLedger: helpers shared by the scripts. Numbers are written with
// string.format('%d') since tostring() would print large ones as 1e+15.
// Every script's last argument is the caller's epoch token; those that
// check Redis's run_id (luaEpochCheck) take INFO server's text to take as
// Redis's ("": ask Redis) before it.
const luaLedger = `
local function fmt(n) return string.format('%d', n) end
local function clock(given)
  if tonumber(given) >= 0 then return tonumber(given) end
  -- Before Redis 5 a script that reads TIME may write only once it
  -- replicates its effects rather than itself; later ones always do.
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- info: Redis's INFO server, unless given (tests); server: the run_id of
-- the Redis process in it.
local function info(given)
  if given ~= '' then return given end
  if redis.replicate_commands then redis.replicate_commands() end -- as for TIME
  return redis.call('INFO', 'server')
end
local function server(given)
  return string.match(info(given), 'run_id:(%x+)') or ''
end
-- evictions: how many keys Redis evicted since it started (INFO stats'
-- evicted_keys), as the epoch records it.
local function evictions()
  if redis.replicate_commands then redis.replicate_commands() end -- as for TIME
  return string.match(redis.call('INFO', 'stats'), 'evicted_keys:(%d+)') or '0'
end
-- epoch: the moment Holds may be taken again, or nil if the caller's
-- token is not the current epoch's or, when strict, the epoch was written
-- by another Redis process (restarted from a snapshot, a replica
-- promoted). The epoch key is the script's last key.
local function epoch(strict)
  local tok, ready = string.match(redis.call('GET', KEYS[#KEYS]) or '', '^(.*)|(%d+)$')
  if tok == nil or tok ~= ARGV[#ARGV] then return nil end
  if strict and string.match(tok, '@(%x*)$') ~= server(ARGV[#ARGV - 1]) then return nil end
  return tonumber(ready)
end
local function drop(id)
  local v = redis.call('HGET', KEYS[1], 'r:' .. id)
  redis.call('ZREM', KEYS[2], id)
  if not v then return end
  local m, _, key = string.match(v, '^(%-?%d+)|(%d+)|(.*)$')
  redis.call('HDEL', KEYS[1], 'r:' .. id)
  redis.call('HINCRBY', KEYS[1], 'sum', fmt(-tonumber(m)))
  redis.call('HINCRBY', KEYS[1], 'n', -1)
  if redis.call('HINCRBY', KEYS[1], 'k:' .. key, fmt(-tonumber(m))) == 0 then
    redis.call('HDEL', KEYS[1], 'k:' .. key)
  end
end
local function put(id, key, m, deadline)
  redis.call('HSET', KEYS[1], 'r:' .. id, fmt(m) .. '|' .. fmt(deadline) .. '|' .. key)
  redis.call('HINCRBY', KEYS[1], 'sum', fmt(m))
  redis.call('HINCRBY', KEYS[1], 'n', 1)
  redis.call('HINCRBY', KEYS[1], 'k:' .. key, fmt(m))
  redis.call('ZADD', KEYS[2], fmt(deadline), id)
end
local function expire(now)
  local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', fmt(now), 'LIMIT', 0, 100)
  for _, id in ipairs(ids) do drop(id) end
end
local function touch(ttl)
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
-- evicted: the caller holds part of the account's state ('1': the instance
-- has a live hold of it), yet the key of its holds is gone, which only
-- eviction or a deletion does (its TTL outlives every hold). Every hold of
-- the account went with it, the other instances' too, so the epoch is
-- deleted: each instance puts its state back as after a lost Redis, and
-- Holds wait for them.
local function evicted(expect)
  if expect ~= '1' or redis.call('EXISTS', KEYS[1]) == 1 then return false end
  redis.call('DEL', KEYS[#KEYS])
  return true
end
-- lost: the caller's epoch is gone or another; why, if given, names an
-- eviction the caller noticed (and dropped the epoch for).
local function lost(why)
  return redis.error_reply('` + epochLost + ` ledger state lost' .. (why and (': ' .. why) or ''))
end
local holdKeyGone = "` + evictedHoldKey + `"
`

// luaEpochCheck also asks Redis its run_id (INFO, about 6 µs of Redis's
// time): the scripts whose outcome an unnoticed snapshot would make wrong
// use it. A settle or release sent to a snapshot is harmless: the
// instance keeps the cost and puts it back once the snapshot is noticed,
// and a release only frees credit.
const luaEpochCheck = `
local ready = epoch(true)
if not ready then return lost() end
`

const luaTokenCheck = `
if not epoch(false) then return lost() end
`

// Hold ARGV: id, key, amount, base, applied, keySpent, keyLimit (-1 none),
// now ms (-1: Redis's TIME), hold TTL ms, grace ms, idle TTL ms, expect
// ("1": the caller has a live hold of the account), info, epoch.
// Mirrors holdInput.decide.
var holdScript = redis.NewScript(luaLedger + luaEpochCheck + `
if evicted(ARGV[12]) then return lost(holdKeyGone) end
local id, key = ARGV[1], ARGV[2]
local amount, base, applied = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local keySpent, keyLimit = tonumber(ARGV[6]), tonumber(ARGV[7])
local now, holdTTL, grace, idle = clock(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
if now < ready then return {-2, ready - now, 0} end
expire(now)
if redis.call('HEXISTS', KEYS[1], 'r:' .. id) == 1 then return {-1, 0, 0} end
-- forget costs this view has applied, once older than the grace
local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[5], 'LIMIT', 0, 64)
for _, e in ipairs(old) do
  local _, at, _, sid = string.match(e, '^(%d+)|(%d+)|([^|]*)|(.*)$')
  if tonumber(at) >= now - grace then break end
  redis.call('ZREM', KEYS[3], e)
  redis.call('HDEL', KEYS[1], 's:' .. sid)
end
local settled, keySettled = 0, 0
for _, e in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. ARGV[5], '+inf')) do
  local m, _, k = string.match(e, '^(%d+)|(%d+)|([^|]*)|')
  settled = settled + tonumber(m)
  if k == key then keySettled = keySettled + tonumber(m) end
end
local t = redis.call('HMGET', KEYS[1], 'sum', 'k:' .. key)
local held, keyHeld = tonumber(t[1]) or 0, tonumber(t[2]) or 0
local h, avail = held + settled, base - held - settled
if amount > avail then return {1, h, avail} end
if keyLimit >= 0 then
  local kh = keyHeld + keySettled
  local kavail = keyLimit - keySpent - kh
  if amount > kavail then return {2, kh, kavail} end
end
put(id, key, amount, now + holdTTL)
touch(idle)
return {0, h, avail}
`)

// Settle ARGV: id, key, cost, version, now ms (-1: Redis's TIME), idle TTL
// ms, expect, epoch. Returns the settlement's time; a request settled
// already is not settled again, and its first settlement's time is
// returned.
var settleHoldScript = redis.NewScript(luaLedger + luaTokenCheck + `
if evicted(ARGV[7]) then return lost(holdKeyGone) end
local now = clock(ARGV[5])
expire(now)
local done = redis.call('HGET', KEYS[1], 's:' .. ARGV[1])
if done then return tonumber(done) end
drop(ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3] .. '|' .. fmt(now) .. '|' .. ARGV[2] .. '|' .. ARGV[1])
redis.call('HSET', KEYS[1], 's:' .. ARGV[1], fmt(now))
touch(tonumber(ARGV[6]))
return now
`)

// Release ARGV: id, now ms (-1: Redis's TIME), expect, epoch.
var releaseScript = redis.NewScript(luaLedger + luaTokenCheck + `
if evicted(ARGV[3]) then return lost(holdKeyGone) end
expire(clock(ARGV[2]))
drop(ARGV[1])
return 1
`)

// Renew ARGV: id, now ms (-1: Redis's TIME), hold TTL ms, idle TTL ms,
// expect, info, epoch. 1 if the hold was active and now expires HoldTTL
// from now.
var renewScript = redis.NewScript(luaLedger + luaEpochCheck + `
if evicted(ARGV[5]) then return lost(holdKeyGone) end
local now = clock(ARGV[2])
expire(now)
local v = redis.call('HGET', KEYS[1], 'r:' .. ARGV[1])
if not v then return 0 end
local m, _, key = string.match(v, '^(%-?%d+)|(%d+)|(.*)$')
local deadline = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'r:' .. ARGV[1], m .. '|' .. fmt(deadline) .. '|' .. key)
redis.call('ZADD', KEYS[2], fmt(deadline), ARGV[1])
touch(tonumber(ARGV[4]))
return 1
`)

// Held ARGV: now ms (-1: Redis's TIME), epoch.
var heldScript = redis.NewScript(luaLedger + luaTokenCheck + `
expire(clock(ARGV[1]))
local t = redis.call('HMGET', KEYS[1], 'sum', 'n')
return {tonumber(t[1]) or 0, tonumber(t[2]) or 0}
`)

// Restore ARGV: now ms (-1: Redis's TIME), idle TTL ms, number of holds,
// then per hold id, key, micro, ms left; then per settled cost id, key,
// micro, settledAtMs, version; info, epoch. Puts back what is missing:
// a cost already recorded is left be, as is a hold already settled; a
// hold a snapshot kept with an earlier deadline gets the instance's, and a
// settled request's hold a snapshot kept is replaced by its cost. Redis
// may evict one of an account's keys and keep the others, so a cost is
// recorded only if its mark and its entry both are, and the deadlines of
// every hold the account's hash keeps, other instances' too, are written
// again from it.
var restoreScript = redis.NewScript(luaLedger + luaEpochCheck + `
local now, idle, nh = clock(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local i = 4
for _ = 1, nh do
  local id, key, m, left = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  i = i + 4
  local v = redis.call('HGET', KEYS[1], 'r:' .. id)
  if v then
    local dl = tonumber(string.match(v, '^%-?%d+|(%d+)|'))
    if dl < now + left then
      redis.call('HSET', KEYS[1], 'r:' .. id, fmt(m) .. '|' .. fmt(now + left) .. '|' .. key)
      redis.call('ZADD', KEYS[2], fmt(now + left), id)
    end
  elseif redis.call('HEXISTS', KEYS[1], 's:' .. id) == 0 then
    put(id, key, m, now + left)
  end
end
while i < #ARGV - 1 do
  local id, key, m, at, v = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  i = i + 5
  local e = m .. '|' .. at .. '|' .. key .. '|' .. id
  if redis.call('HEXISTS', KEYS[1], 's:' .. id) == 0 or not redis.call('ZSCORE', KEYS[3], e) then
    drop(id)
    redis.call('ZADD', KEYS[3], v, e)
    redis.call('HSET', KEYS[1], 's:' .. id, at)
  end
end
local all = redis.call('HGETALL', KEYS[1])
for j = 1, #all, 2 do
  local id = string.match(all[j], '^r:(.*)$')
  if id then redis.call('ZADD', KEYS[2], string.match(all[j + 1], '^%-?%d+|(%d+)|'), id) end
end
touch(idle)
return 1
`)

// Epoch KEYS: the epoch key. ARGV: a new token, now ms (-1: Redis's
// TIME), restore window ms, the caller's token ("" if it has none yet),
// "1" if the caller has holds or costs to put back, INFO server's text to
// take as Redis's ("": ask Redis), "1" if other instances ran on the
// prefix when the caller started (OthersRunning). Returns the current epoch
// "<token>.<evicted_keys>@<run_id>|<readyAtMs>", making a new one if it is
// missing, another Redis process wrote it, or Redis has evicted keys since
// (INFO stats' evicted_keys is not the one it records). One missing under
// an instance that had a token means Redis lost the state written under
// it; one written by another process means Redis came back from a
// snapshot or a replica that may lack what was written since; and keys
// evicted may have been the ledger's. Holds then wait out the window, for
// every instance to put its own back. So they do when an instance with
// something to put back finds another token. An instance that never had a
// token and finds none cannot tell a new prefix from an emptied one by
// Redis alone; it waits too if Redis started less than the window ago or
// other instances run on the prefix (every instance with something to put
// back notices within epochEvery), and otherwise creates the epoch
// without a wait.
var epochScript = redis.NewScript(luaLedger + `
local now, window, known = clock(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local inf = info(ARGV[6])
local srv = string.match(inf, 'run_id:(%x+)') or ''
local up = tonumber(string.match(inf, 'uptime_in_seconds:(%d+)') or '0')
local ev = evictions()
local e = redis.call('GET', KEYS[1])
local tok, ready = string.match(e or '', '^(.*)|(%d+)$')
if tok == nil or string.match(tok, '@(%x*)$') ~= srv or string.match(tok, '%.(%d+)@') ~= ev then
  ready = 0
  if known ~= '' or tok ~= nil or up * 1000 < window or ARGV[7] == '1' then ready = now + window end
  e = ARGV[1] .. '.' .. ev .. '@' .. srv .. '|' .. fmt(ready)
  redis.call('SET', KEYS[1], e)
elseif known ~= '' and tok ~= known and ARGV[5] == '1' and tonumber(ready) < now + window then
  e = tok .. '|' .. fmt(now + window)
  redis.call('SET', KEYS[1], e)
end
return e
`)

// nowMS is -1, for the scripts to read Redis's clock, unless a test
// stands in for it.
func (l *RedisLedger) nowMS() int64 {
	if l.redisClock == nil {
		return -1
	}
	return l.redisClock().UnixMilli()
}

// info is "", for the scripts to ask Redis (INFO server), unless a test
// stands in for it.
func (l *RedisLedger) info() string {
	if l.redisInfo == nil {
		return ""
	}
	return l.redisInfo()
}

// Hold implements Ledger.
func (l *RedisLedger) Hold(ctx context.Context, account, key, requestID string, view AccountView, amount decimal.Decimal) (HoldResult, error) {
	in, err := newHoldInput(key, view, amount)
	if err != nil {
		return HoldResult{}, err
	}
	if !in.inLuaRange() {
		return HoldResult{}, ErrAmountRange
	}
	keys := l.keys(account)
	var r []int64
	err = l.underEpoch(ctx, func(tok any) (err error) {
		r, err = holdScript.Run(ctx, l.rdb, keys, requestID, key,
			in.amount, in.base, in.applied, in.keySpent, in.keyLimit,
			l.nowMS(), l.opt.HoldTTL.Milliseconds(),
			l.opt.SettledGrace.Milliseconds(), l.opt.idleTTL().Milliseconds(), l.expect(account), l.info(), tok).Int64Slice()
		if err == nil && len(r) == 3 && r[0] == holdOK {
			l.tracked(account, key, requestID, in.amount, in.applied)
		}
		return err
	})
	if err != nil {
		return HoldResult{}, fmt.Errorf("admission: redis hold: %w", err)
	}
	if len(r) != 3 {
		return HoldResult{}, fmt.Errorf("admission: redis hold: unexpected reply %v", r)
	}
	switch r[0] {
	case -1:
		return HoldResult{}, ErrDuplicateHold
	case -2:
		return HoldResult{}, &RestoringError{Wait: time.Duration(r[1]) * time.Millisecond}
	}
	return holdResult(int(r[0]), view, amount, r[1], r[2]), nil
}

// Settle implements Ledger. One that fails because Redis cannot be reached
// is tried again in the background until the hold would have lapsed.
func (l *RedisLedger) Settle(ctx context.Context, account, key, requestID string, cost decimal.Decimal, usageVersion int64) error {
	if cost.Sign() < 0 || strings.IndexByte(key, '|') >= 0 {
		return ErrBadInput
	}
	micro, err := toMicro(cost, true)
	if err != nil {
		return err
	}
	if micro > maxLuaInt/4 {
		return ErrAmountRange
	}
	op := pendingOp{account: account, key: key, id: requestID, settle: true, micro: micro, version: usageVersion}
	if err := l.apply(ctx, op); err != nil {
		if transient(err) {
			l.retryLater(op)
			return fmt.Errorf("admission: redis settle, tried again in the background: %w", err)
		}
		return fmt.Errorf("admission: redis settle: %w", err)
	}
	return nil
}

// Release implements Ledger. One that fails because Redis cannot be
// reached is tried again in the background until the hold would have
// lapsed.
func (l *RedisLedger) Release(ctx context.Context, account, key, requestID string) error {
	op := pendingOp{account: account, key: key, id: requestID}
	if err := l.apply(ctx, op); err != nil {
		if transient(err) {
			l.retryLater(op)
			return fmt.Errorf("admission: redis release, tried again in the background: %w", err)
		}
		return fmt.Errorf("admission: redis release: %w", err)
	}
	return nil
}

// apply settles or releases op's hold in Redis and, once Redis has it,
// in the instance's own record.
func (l *RedisLedger) apply(ctx context.Context, op pendingOp) error {
	keys := l.keys(op.account)
	return l.underEpoch(ctx, func(tok any) error {
		if op.settle {
			at, err := settleHoldScript.Run(ctx, l.rdb, keys, op.id, op.key, op.micro, op.version,
				l.nowMS(), l.opt.idleTTL().Milliseconds(), l.expect(op.account), tok).Int64()
			if err == nil {
				l.settled(op, at)
			}
			return err
		}
		err := releaseScript.Run(ctx, l.rdb, keys, op.id, l.nowMS(), l.expect(op.account), tok).Err()
		if err == nil {
			l.untrack(op.account, op.id)
		}
		return err
	})
}

// Renew implements Ledger.
func (l *RedisLedger) Renew(ctx context.Context, account, requestID string) (bool, error) {
	keys := l.keys(account)
	var r int64
	err := l.underEpoch(ctx, func(tok any) (err error) {
		r, err = renewScript.Run(ctx, l.rdb, keys, requestID, l.nowMS(),
			l.opt.HoldTTL.Milliseconds(), l.opt.idleTTL().Milliseconds(), l.expect(account), l.info(), tok).Int64()
		if err == nil {
			l.renewed(account, requestID, r == 1)
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("admission: redis renew: %w", err)
	}
	return r == 1, nil
}

// HoldTTL implements Ledger.
func (l *RedisLedger) HoldTTL() time.Duration { return l.opt.HoldTTL }

// Held implements Ledger.
func (l *RedisLedger) Held(ctx context.Context, account string) (decimal.Decimal, int, error) {
	keys := l.keys(account)
	var r []int64
	err := l.underEpoch(ctx, func(tok any) (err error) {
		r, err = heldScript.Run(ctx, l.rdb, keys, l.nowMS(), tok).Int64Slice()
		return err
	})
	if err != nil {
		return decimal.Decimal{}, 0, fmt.Errorf("admission: redis held: %w", err)
	}
	if len(r) != 2 {
		return decimal.Decimal{}, 0, fmt.Errorf("admission: redis held: unexpected reply %v", r)
	}
	return fromMicro(r[0]), int(r[1]), nil
}

var _ Ledger = (*RedisLedger)(nil)
