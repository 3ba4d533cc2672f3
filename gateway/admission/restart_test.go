package admission

import (
	"errors"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/routefree/routefree/internal/testenv"
)

// TestRedisLedgerRestartWindowIsNotStretched: Redis restarts without
// losing anything while five instances have requests holding credit. The
// first hold after the restart opens the restore window; each instance
// with holds, on noticing, gives itself the whole window to put them back,
// so one that notices late stretches the window for everyone. Instances
// look often enough that the 503s last the window and not up to a second
// more; and nothing is lost: the holds are all there after.
func TestRedisLedgerRestartWindowIsNotStretched(t *testing.T) {
	r := testenv.StartRedisServer(t)
	time.Sleep(RestoreWindow + 100*time.Millisecond) // a Redis just started might have lost the prefix
	const prefix = "rf:restart:"
	newLedger := func() *RedisLedger {
		c := redis.NewClient(&redis.Options{Addr: r.Addr()})
		t.Cleanup(func() { _ = c.Close() })
		return NewRedisLedger(c, prefix, LedgerOptions{HoldTTL: time.Minute})
	}
	var held []*RedisLedger
	for i := 0; i < 5; i++ {
		l := newLedger()
		mustOK(t, hold(t, l, "acct"+strconv.Itoa(i), "k", "r", view("10", 1), "8"))
		held = append(held, l)
		time.Sleep(190 * time.Millisecond) // each instance looks at its own moments
	}
	other := newLedger()
	mustOK(t, hold(t, other, "free", "k", "r0", view("10", 1), "1"))

	r.Stop(syscall.SIGTERM)
	r.Start()
	var first time.Time
	for i := 1; ; i++ {
		_, err := other.Hold(ctx, "free", "k", "r"+strconv.Itoa(i), view("1000", 1), d("0.01"))
		if errors.Is(err, ErrLedgerRestoring) {
			if first.IsZero() {
				first = time.Now()
			}
		} else if err == nil && !first.IsZero() {
			break
		} else if err == nil {
			t.Fatal("admitted after the restart without the restore window")
		}
		if !first.IsZero() && time.Since(first) > 10*time.Second {
			t.Fatal("still restoring after 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(first)
	t.Logf("503s for %s", took)
	if took > RestoreWindow+600*time.Millisecond {
		t.Fatalf("503s for %s after the restart, want the %s window (instances noticing late stretched it)", took, RestoreWindow)
	}
	for i := range held {
		mustRefuse(t, hold(t, other, "acct"+strconv.Itoa(i), "k", "x", view("10", 1), "2.000001"), CauseCredits)
	}
}

// TestRedisLedgerSettleWhileRedisLoadsIsRetried: a request ends while
// Redis, restarted, still loads its data and answers LOADING to every
// command for a few seconds (a large dataset). Its settle fails, as it
// would with Redis away; it is tried again once Redis has loaded, so the
// hold stops locking the account's credit then, not a minute later, and
// its cost counts once.
func TestRedisLedgerSettleWhileRedisLoadsIsRetried(t *testing.T) {
	// Its data kept in a snapshot, which loads slowed down below.
	r := testenv.StartRedisServer(t, "--appendonly", "no")
	time.Sleep(RestoreWindow + 100*time.Millisecond)
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	// Data enough to load for a while: 5,000 keys slowed to 0.4 ms each.
	pipe := c.Pipeline()
	for i := 0; i < 5000; i++ {
		pipe.Set(ctx, "filler:"+strconv.Itoa(i), "v", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	l := NewRedisLedger(c, "rf:loading:", LedgerOptions{HoldTTL: time.Minute})
	mustOK(t, hold(t, l, "acct", "k", "r1", view("10", 1), "8"))

	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	r.Stop(syscall.SIGTERM)
	r.Start("--appendonly", "no", "--key-load-delay", "400", "--loading-process-events-interval-bytes", "1024")
	err := l.Settle(ctx, "acct", "k", "r1", d("3"), 2)
	if err == nil || !strings.Contains(err.Error(), "LOADING") {
		t.Fatalf("settle while Redis loads: %v, want Redis's LOADING", err)
	}
	waitHeld(t, l, "acct", "0", 0) // retried once Redis has loaded
	mustRefuse(t, holdAfterRestore(t, l, "acct", "k", "r2", view("10", 1), "7.000001"), CauseCredits)
	mustOK(t, hold(t, l, "acct", "k", "r3", view("10", 1), "7"))
}
