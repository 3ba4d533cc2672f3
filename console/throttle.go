package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// throttle counts sign-in failures per client address in a sliding window.
type throttle interface {
	// blocked reports whether ip has used up its failures, and when it
	// may try again.
	blocked(ctx context.Context, ip string) (bool, time.Duration, error)
	fail(ctx context.Context, ip string) error
}

// memoryThrottle is one instance's own count.
type memoryThrottle struct{ *limiter }

func (m memoryThrottle) blocked(_ context.Context, ip string) (bool, time.Duration, error) {
	b, wait := m.limiter.blocked(ip)
	return b, wait, nil
}

func (m memoryThrottle) fail(_ context.Context, ip string) error {
	m.limiter.fail(ip)
	return nil
}

// redisThrottle keeps each address's failures in a sorted set (score: the
// failure's time in milliseconds), so that every instance behind a load
// balancer counts the same failures: a guesser cannot multiply the
// allowance by the number of instances.
type redisThrottle struct {
	rdb    redis.UniversalClient
	prefix string
	max    int
	window time.Duration
	now    func() time.Time
}

func (r *redisThrottle) key(ip string) string { return r.prefix + "console:signin:" + ip }

// throttleCheck drops the failures older than the window and returns how
// many remain and the oldest one's time.
var throttleCheck = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local n = redis.call('ZCARD', KEYS[1])
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #oldest == 0 then return {n, 0} end
return {n, tonumber(oldest[2])}
`)

// throttleFail records one failure and keeps the set no longer than the window.
var throttleFail = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

func (r *redisThrottle) blocked(ctx context.Context, ip string) (bool, time.Duration, error) {
	now := r.now()
	cut := strconv.FormatInt(now.Add(-r.window).UnixMilli(), 10)
	res, err := throttleCheck.Run(ctx, r.rdb, []string{r.key(ip)}, cut).Int64Slice()
	if err != nil {
		return false, 0, err
	}
	if int(res[0]) < r.max {
		return false, 0, nil
	}
	return true, time.UnixMilli(res[1]).Add(r.window).Sub(now), nil
}

func (r *redisThrottle) fail(ctx context.Context, ip string) error {
	now := r.now()
	var b [8]byte
	_, _ = rand.Read(b[:])
	member := strconv.FormatInt(now.UnixMilli(), 10) + "-" + hex.EncodeToString(b[:]) // two failures in one millisecond both count
	return throttleFail.Run(ctx, r.rdb, []string{r.key(ip)}, strconv.FormatInt(now.Add(-r.window).UnixMilli(), 10),
		now.UnixMilli(), member, r.window.Milliseconds()).Err()
}
