package admission

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
)

// RedisLedger is the Ledger shared by several gateway instances. Each
// operation is one Lua script over the account's three keys, which share a
// hash tag ({account}) so they live in one Redis Cluster slot:
//
//	h  HASH  "r:<requestID>" → "<micro>|<deadlineMs>|<key>"; "sum", "n", "k:<key>" running totals
//	x  ZSET  requestID scored by its deadline (ms), to expire holds
//	s  ZSET  "<micro>|<settledAtMs>|<key>|<requestID>" scored by usage version
//
// Holds and their totals share one key so they can only expire together.
// Every key's TTL is refreshed on use and exceeds both HoldTTL and
// SettledGrace, so an abandoned account's state disappears by itself.
//
// Deadlines are read on Redis's clock (TIME), never the instance's: an
// instance whose clock lags would otherwise take holds that the others
// expire at once, and its account could spend past its credit; one whose
// clock runs ahead would lock credit long after a crash.
type RedisLedger struct {
	rdb    redis.UniversalClient
	prefix string
	opt    LedgerOptions
	// redisClock stands for Redis's clock in tests of expiry; nil in use.
	redisClock func() time.Time
}

// NewRedisLedger keeps its state under keys starting with prefix+"l:".
func NewRedisLedger(rdb redis.UniversalClient, prefix string, o LedgerOptions) *RedisLedger {
	return &RedisLedger{rdb: rdb, prefix: prefix, opt: o.withDefaults()}
}

func (l *RedisLedger) keys(account string) []string {
	p := l.prefix + "l:{" + account + "}:"
	return []string{p + "h", p + "x", p + "s"}
}

// luaLedger: helpers shared by the scripts. Numbers are written with
// string.format('%d') since tostring() would print large ones as 1e+15.
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
local function expire(now)
  local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', fmt(now), 'LIMIT', 0, 100)
  for _, id in ipairs(ids) do drop(id) end
end
local function touch(ttl)
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
`

// Hold ARGV: id, key, amount, base, applied, keySpent, keyLimit (-1 none),
// now ms (-1: Redis's TIME), hold TTL ms, grace ms, idle TTL ms. Mirrors holdInput.decide.
var holdScript = redis.NewScript(luaLedger + `
local id, key = ARGV[1], ARGV[2]
local amount, base, applied = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local keySpent, keyLimit = tonumber(ARGV[6]), tonumber(ARGV[7])
local now, holdTTL, grace, idle = clock(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
expire(now)
if redis.call('HEXISTS', KEYS[1], 'r:' .. id) == 1 then return {-1, 0, 0} end
-- forget costs this view has applied, once older than the grace
local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[5], 'LIMIT', 0, 64)
for _, e in ipairs(old) do
  local _, at = string.match(e, '^(%d+)|(%d+)|')
  if tonumber(at) >= now - grace then break end
  redis.call('ZREM', KEYS[3], e)
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
redis.call('HSET', KEYS[1], 'r:' .. id, fmt(amount) .. '|' .. fmt(now + holdTTL) .. '|' .. key)
redis.call('HINCRBY', KEYS[1], 'sum', fmt(amount))
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HINCRBY', KEYS[1], 'k:' .. key, fmt(amount))
redis.call('ZADD', KEYS[2], fmt(now + holdTTL), id)
touch(idle)
return {0, h, avail}
`)

// Settle ARGV: id, key, cost, version, now ms (-1: Redis's TIME), idle TTL ms.
var settleHoldScript = redis.NewScript(luaLedger + `
local now = clock(ARGV[5])
expire(now)
drop(ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3] .. '|' .. fmt(now) .. '|' .. ARGV[2] .. '|' .. ARGV[1])
touch(tonumber(ARGV[6]))
return 1
`)

// Release ARGV: id, now ms (-1: Redis's TIME).
var releaseScript = redis.NewScript(luaLedger + `
expire(clock(ARGV[2]))
drop(ARGV[1])
return 1
`)

// Renew ARGV: id, now ms (-1: Redis's TIME), hold TTL ms, idle TTL ms. 1 if the hold
// was active and now expires HoldTTL from now.
var renewScript = redis.NewScript(luaLedger + `
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

// Held ARGV: now ms (-1: Redis's TIME).
var heldScript = redis.NewScript(luaLedger + `
expire(clock(ARGV[1]))
local t = redis.call('HMGET', KEYS[1], 'sum', 'n')
return {tonumber(t[1]) or 0, tonumber(t[2]) or 0}
`)

// nowMS is -1, for the scripts to read Redis's clock, unless a test
// stands in for it.
func (l *RedisLedger) nowMS() int64 {
	if l.redisClock == nil {
		return -1
	}
	return l.redisClock().UnixMilli()
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
	r, err := holdScript.Run(ctx, l.rdb, l.keys(account), requestID, key,
		in.amount, in.base, in.applied, in.keySpent, in.keyLimit,
		l.nowMS(), l.opt.HoldTTL.Milliseconds(),
		l.opt.SettledGrace.Milliseconds(), l.opt.idleTTL().Milliseconds()).Int64Slice()
	if err != nil {
		return HoldResult{}, fmt.Errorf("admission: redis hold: %w", err)
	}
	if len(r) != 3 {
		return HoldResult{}, fmt.Errorf("admission: redis hold: unexpected reply %v", r)
	}
	if r[0] < 0 {
		return HoldResult{}, ErrDuplicateHold
	}
	return holdResult(int(r[0]), view, amount, r[1], r[2]), nil
}

// Settle implements Ledger.
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
	err = settleHoldScript.Run(ctx, l.rdb, l.keys(account), requestID, key, micro, usageVersion,
		l.nowMS(), l.opt.idleTTL().Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("admission: redis settle: %w", err)
	}
	return nil
}

// Release implements Ledger.
func (l *RedisLedger) Release(ctx context.Context, account, _, requestID string) error {
	if err := releaseScript.Run(ctx, l.rdb, l.keys(account), requestID, l.nowMS()).Err(); err != nil {
		return fmt.Errorf("admission: redis release: %w", err)
	}
	return nil
}

// Renew implements Ledger.
func (l *RedisLedger) Renew(ctx context.Context, account, requestID string) (bool, error) {
	r, err := renewScript.Run(ctx, l.rdb, l.keys(account), requestID, l.nowMS(),
		l.opt.HoldTTL.Milliseconds(), l.opt.idleTTL().Milliseconds()).Int64()
	if err != nil {
		return false, fmt.Errorf("admission: redis renew: %w", err)
	}
	return r == 1, nil
}

// HoldTTL implements Ledger.
func (l *RedisLedger) HoldTTL() time.Duration { return l.opt.HoldTTL }

// Held implements Ledger.
func (l *RedisLedger) Held(ctx context.Context, account string) (decimal.Decimal, int, error) {
	r, err := heldScript.Run(ctx, l.rdb, l.keys(account), l.nowMS()).Int64Slice()
	if err != nil {
		return decimal.Decimal{}, 0, fmt.Errorf("admission: redis held: %w", err)
	}
	if len(r) != 2 {
		return decimal.Decimal{}, 0, fmt.Errorf("admission: redis held: unexpected reply %v", r)
	}
	return fromMicro(r[0]), int(r[1]), nil
}

var _ Ledger = (*RedisLedger)(nil)
