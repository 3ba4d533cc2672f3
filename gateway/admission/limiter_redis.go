package admission

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisLimiter is the RateLimiter shared by several gateway instances: one
// Lua script checks and takes both dimensions atomically. The callers'
// clocks should agree (NTP); a skew of δ shifts a key's window by δ.
type RedisLimiter struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedisLimiter keeps its state under keys prefix+"rl:"+key.
func NewRedisLimiter(rdb redis.UniversalClient, prefix string) *RedisLimiter {
	return &RedisLimiter{rdb: rdb, prefix: prefix}
}

// Lua numbers are doubles: every stored value goes through
// string.format('%d') because tostring() would print 1.7e+15. The formula
// and outcome codes mirror gcraState.admit / settle in limiter.go.
const luaGCRA = `
local P = 60000000
local function cost(n, limit)
  if n <= 0 or limit <= 0 then return 0 end
  return math.min(math.floor(n * P / limit), 1125899906842624)
end
-- rescale mirrors rescale in limiter.go: a backlog taken at limit from,
-- counted at limit to.
local function rescale(tat, now, from, to)
  if from <= 0 or to <= 0 or from == to or tat <= now then return tat end
  return now + math.min(math.floor((tat - now) * from / to), 1125899906842624)
end
local function save(tr, tt, rpm, tpm, now)
  redis.call('HSET', KEYS[1], 'r', string.format('%d', tr), 't', string.format('%d', tt),
    'rl', string.format('%d', rpm), 'tl', string.format('%d', tpm))
  local ttl = math.max(tr, tt) - now
  redis.call('PEXPIRE', KEYS[1], math.floor(ttl / 1000) + 1000)
end
`

var admitScript = redis.NewScript(luaGCRA + `
local now, rpm, tpm, est = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 'r', 't', 'rl', 'tl')
local rl, tl = tonumber(v[3]) or 0, tonumber(v[4]) or 0
local tr, tt = tonumber(v[1]) or 0, tonumber(v[2]) or 0
if rpm > 0 then tr = rescale(tr, now, rl, rpm); rl = rpm end
if tpm > 0 then tt = rescale(tt, now, tl, tpm); tl = tpm end
tr, tt = math.max(tr, now), math.max(tt, now)
local nr, nt = tr, tt
local okR, okT, tooLarge, wait = true, true, false, 0
if rpm > 0 then
  nr = nr + cost(1, rpm)
  if nr - now > P then okR = false; wait = nr - now - P end
end
if tpm > 0 then
  if est > tpm then okT = false; tooLarge = true
  else
    nt = nt + cost(est, tpm)
    if nt - now > P then okT = false; wait = math.max(wait, nt - now - P) end
  end
end
if okR and okT then
  save(nr, nt, rl, tl, now)
  return {0, 0, nr - now, nt - now}
end
local out = 2
if not okR then out = 1 elseif tooLarge then out = 3; wait = 0 end
return {out, wait, tr - now, tt - now}
`)

var settleScript = redis.NewScript(luaGCRA + `
local now, tpm, est, actual = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 'r', 't', 'rl', 'tl')
local tr, rl = tonumber(v[1]) or 0, tonumber(v[3]) or 0
local tt = math.max(rescale(tonumber(v[2]) or 0, now, tonumber(v[4]) or 0, tpm), now)
if actual > est then tt = tt + cost(actual - est, tpm)
else tt = math.max(tt - cost(est - actual, tpm), now) end
save(tr, tt, rl, tpm, now)
return 1
`)

func (rl *RedisLimiter) key(k string) []string { return []string{rl.prefix + "rl:" + k} }

// Admit implements RateLimiter.
func (rl *RedisLimiter) Admit(ctx context.Context, key string, l Limits, estTokens int64, now time.Time) (Decision, error) {
	if l.RPM <= 0 && l.TPM <= 0 {
		return Decision{Allowed: true}, nil
	}
	r, err := admitScript.Run(ctx, rl.rdb, rl.key(key),
		now.UnixMicro(), max(l.RPM, 0), max(l.TPM, 0), max(estTokens, 0)).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("admission: redis admit: %w", err)
	}
	if len(r) != 4 {
		return Decision{}, fmt.Errorf("admission: redis admit: unexpected reply %v", r)
	}
	return decision(l, int(r[0]), r[1], r[2], r[3]), nil
}

// Settle implements RateLimiter.
func (rl *RedisLimiter) Settle(ctx context.Context, key string, l Limits, estTokens, actualTokens int64, now time.Time) error {
	est, actual := max(estTokens, 0), max(actualTokens, 0)
	if l.TPM <= 0 || est == actual {
		return nil
	}
	if err := settleScript.Run(ctx, rl.rdb, rl.key(key), now.UnixMicro(), l.TPM, est, actual).Err(); err != nil {
		return fmt.Errorf("admission: redis settle: %w", err)
	}
	return nil
}
