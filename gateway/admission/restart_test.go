package admission

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/routefree/routefree/internal/testenv"
)

// aofRedis is a redis-server of the test's own on a free loopback port,
// writing every change to its append-only file before it answers: a
// restart loses nothing. conf is its configuration beyond that.
type aofRedis struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
	conf []string
}

func startAOFRedis(t *testing.T, conf ...string) *aofRedis {
	t.Helper()
	testenv.RedisURL(t) // Redis is one of the services the test environment asks for
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &aofRedis{t: t, port: ln.Addr().(*net.TCPAddr).Port, dir: t.TempDir(), conf: conf}
	ln.Close()
	r.start()
	t.Cleanup(func() { r.stop(syscall.SIGKILL) })
	return r
}

func (r *aofRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", append([]string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always"}, r.conf...)...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("redis-server: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", r.addr(), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server does not listen: %v", err)
		}
	}
}

func (r *aofRedis) stop(sig syscall.Signal) {
	if r.cmd != nil {
		_ = r.cmd.Process.Signal(sig)
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

func (r *aofRedis) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

// TestRedisLedgerRestartWindowIsNotStretched: Redis restarts without
// losing anything while five instances have requests holding credit. The
// first hold after the restart opens the restore window; each instance
// with holds, on noticing, gives itself the whole window to put them back,
// so one that notices late stretches the window for everyone. Instances
// look often enough that the 503s last the window and not up to a second
// more; and nothing is lost: the holds are all there after.
func TestRedisLedgerRestartWindowIsNotStretched(t *testing.T) {
	r := startAOFRedis(t)
	time.Sleep(RestoreWindow + 100*time.Millisecond) // a Redis just started might have lost the prefix
	const prefix = "rf:restart:"
	newLedger := func() *RedisLedger {
		c := redis.NewClient(&redis.Options{Addr: r.addr()})
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

	r.stop(syscall.SIGTERM)
	r.start()
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
	r := startAOFRedis(t, "--appendonly", "no")
	time.Sleep(RestoreWindow + 100*time.Millisecond)
	c := redis.NewClient(&redis.Options{Addr: r.addr()})
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
	r.stop(syscall.SIGTERM)
	r.conf = []string{"--appendonly", "no", "--key-load-delay", "400", "--loading-process-events-interval-bytes", "1024"}
	r.start()
	err := l.Settle(ctx, "acct", "k", "r1", d("3"), 2)
	if err == nil || !strings.Contains(err.Error(), "LOADING") {
		t.Fatalf("settle while Redis loads: %v, want Redis's LOADING", err)
	}
	waitHeld(t, l, "acct", "0", 0) // retried once Redis has loaded
	mustRefuse(t, holdAfterRestore(t, l, "acct", "k", "r2", view("10", 1), "7.000001"), CauseCredits)
	mustOK(t, hold(t, l, "acct", "k", "r3", view("10", 1), "7"))
}
