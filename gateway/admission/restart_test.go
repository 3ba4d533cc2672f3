package admission

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/routefree/routefree/internal/testenv"
)

// aofRedis is a redis-server of the test's own on a free loopback port,
// writing every change to its append-only file before it answers: a
// restart loses nothing.
type aofRedis struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func startAOFRedis(t *testing.T) *aofRedis {
	t.Helper()
	testenv.RedisURL(t) // Redis is one of the services the test environment asks for
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &aofRedis{t: t, port: ln.Addr().(*net.TCPAddr).Port, dir: t.TempDir()}
	ln.Close()
	r.start()
	t.Cleanup(func() { r.stop(syscall.SIGKILL) })
	return r
}

func (r *aofRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always")
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
