package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/projections"
)

// A private dependency that a fault test stops and starts.
type dependency interface {
	stop(t *testing.T)
	start(t *testing.T)
}

// liveLoad is a load whose outcomes can be counted while it runs, so that a
// test waits for what it needs to have happened instead of sleeping.
type liveLoad struct {
	mu  sync.Mutex
	all []outcome
}

// run sends requests from n goroutines until ctx ends, as load does.
func (l *liveLoad) run(ctx context.Context, base, key string, n int) {
	var wg sync.WaitGroup
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				o := chat(ctx, base, key, (g+i)%2 == 0, 64)
				o.at = time.Now()
				if ctx.Err() != nil {
					return // cut by the end of the load, not by the gateway
				}
				l.mu.Lock()
				l.all = append(l.all, o)
				l.mu.Unlock()
				if !o.complete {
					time.Sleep(20 * time.Millisecond) // the gateway refuses: don't spin
				}
			}
		}()
	}
	wg.Wait()
}

func (l *liveLoad) count(f func(o outcome) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, o := range l.all {
		if f(o) {
			n++
		}
	}
	return n
}

func (l *liveLoad) outcomes() []outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]outcome(nil), l.all...)
}

// faultRun drives load through p while dep goes down for a while and comes
// back, and checks what the clients saw: only 200s and 503s (never a 402,
// 429 or 500), 503s and a failing /readyz while down, success again after
// the restart with no restart of RouteFree. Each phase waits, with a
// generous deadline, for what it needs to have seen (completions before,
// failures during, completions after), so a busy machine only slows it.
func faultRun(t *testing.T, p *proc, key string, dep dependency) []outcome {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := &liveLoad{}
	done := make(chan struct{})
	go func() { l.run(ctx, p.base, key, 4); close(done) }()
	const phase = 60 * time.Second
	completedAfter := func(at time.Time) func() bool {
		return func() bool { return l.count(func(o outcome) bool { return o.complete && o.at.After(at) }) >= 10 }
	}
	waitFor(t, phase, completedAfter(time.Time{}))

	dep.stop(t)
	downAt := time.Now()
	waitFor(t, phase, func() bool { return getStatus(p.base+"/readyz") == http.StatusServiceUnavailable })
	waitFor(t, phase, func() bool {
		return l.count(func(o outcome) bool { return !o.complete && o.at.After(downAt) }) >= 3
	})
	dep.start(t)
	upAt := time.Now()
	waitFor(t, phase, func() bool { return getStatus(p.base+"/readyz") == http.StatusOK })
	// The gateway refuses requests for a moment after its last failed
	// append: wait for completions, not for a fixed time.
	waitFor(t, phase, completedAfter(upAt))
	cancel()
	<-done
	seen := l.outcomes()
	quiesce(t, p.base)

	counts := map[int]int{}
	var before, after, failedDown int
	for _, o := range seen {
		counts[o.status]++
		switch {
		case o.status != http.StatusOK && o.status != http.StatusServiceUnavailable:
			t.Errorf("status %d (request %s, err %v): want only 200 or 503 around an outage", o.status, o.id, o.err)
		case o.complete && o.at.Before(downAt):
			before++
		case o.complete && o.at.After(upAt):
			after++
		case !o.complete && o.at.After(downAt) && o.at.Before(upAt):
			failedDown++
		}
	}
	t.Logf("statuses %v; completed before the outage %d, after the restart %d; failed while down %d", counts, before, after, failedDown)
	if before == 0 || failedDown == 0 || after == 0 {
		t.Fatalf("want completions before, failures during and completions after the outage")
	}
	return seen
}

// checkBilled verifies that every completed request has exactly one event
// and that the served balance equals a replay.
func checkBilled(t *testing.T, s eventstore.Store, seen []outcome, served map[string]string) {
	billed := completedEvents(t, s)
	for _, o := range seen {
		if o.complete && billed[o.id] != 1 {
			t.Errorf("request %s completed for the client but has %d request.completed events", o.id, billed[o.id])
		}
	}
	for id, n := range billed {
		if n != 1 {
			t.Errorf("request %s billed %d times", id, n)
		}
	}
	figs, err := projections.Replay(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	for acct, bal := range served {
		if figs.Balances[acct].String() != bal {
			t.Errorf("%s: served balance %s, replay %s", acct, bal, figs.Balances[acct])
		}
	}
}

// redisServer is a private redis-server on a fixed port.
type redisServer struct {
	port int
	cmd  *exec.Cmd
}

func (r *redisServer) start(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		t.Skipf("redis-server: %v", err)
	}
	cmd := r.cmd
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(t, 5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func (r *redisServer) stop(t *testing.T) {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	_ = r.cmd.Wait()
}

// TestRedisOutage stops the shared-limits Redis under load and starts it
// again.
func TestRedisOutage(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	up := fakeUpstream(t, providertest.Script{Text: "redis fault", Chunks: 4, ChunkDelay: time.Millisecond})
	env := baseEnv(up)
	dir := t.TempDir()
	store := []string{"--data-dir", dir}
	key := prepareDemo(t, env, store, 1_000_000, "100000")
	r := &redisServer{port: freePort(t)}
	r.start(t)
	p := startServe(t, env, append(store, "--redis-url", fmt.Sprintf("redis://127.0.0.1:%d/0", r.port), "--redis-prefix", "rf:fault:")...)

	seen := faultRun(t, p, key, r)
	served := map[string]string{"acct_demo": keyBalance(t, p.base, key).String()}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkBilled(t, s, seen, served)
}

// pgCluster is a private PostgreSQL cluster in a temporary directory.
type pgCluster struct {
	dir  string
	port int
}

const pgBin = "/usr/lib/postgresql/15/bin/"

// pgCmd runs a PostgreSQL tool as the postgres user when we are root
// (initdb and postgres refuse to run as root).
func pgCmd(tool string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", pgBin + tool}, args...)...)
	}
	return exec.Command(pgBin+tool, args...)
}

func newPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	if _, err := os.Stat(pgBin + "initdb"); err != nil {
		t.Skip("PostgreSQL 15 binaries are not installed")
	}
	dir, err := os.MkdirTemp("", "routefree-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			t.Skipf("cannot hand %s to the postgres user: %v %s", dir, err, out)
		}
	}
	c := &pgCluster{dir: dir, port: freePort(t)}
	if out, err := pgCmd("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust", "--no-sync").CombinedOutput(); err != nil {
		t.Skipf("initdb: %v\n%s", err, out)
	}
	c.start(t)
	t.Cleanup(func() { _ = pgCmd("pg_ctl", "-D", filepath.Join(dir, "data"), "-m", "immediate", "stop").Run() })
	return c
}

func (c *pgCluster) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

func (c *pgCluster) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off", c.port, c.dir)
	if out, err := pgCmd("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-o", opts, "-l", filepath.Join(c.dir, "log"), "-w", "start").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
}

// stop is a fast shutdown: open transactions are rolled back and clients
// are disconnected.
func (c *pgCluster) stop(t *testing.T) {
	t.Helper()
	if out, err := pgCmd("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// TestPostgresOutage stops the event store's PostgreSQL under load and
// starts it again.
func TestPostgresOutage(t *testing.T) {
	pg := newPGCluster(t)
	up := fakeUpstream(t, providertest.Script{Text: "postgres fault", Chunks: 4, ChunkDelay: time.Millisecond})
	env := baseEnv(up)
	store := []string{"--store", "postgres", "--postgres-url", pg.url()}
	key := prepareDemo(t, env, store, 1_000_000, "100000")
	p := startServe(t, env, store...)

	seen := faultRun(t, p, key, pg)
	served := map[string]string{"acct_demo": keyBalance(t, p.base, key).String()}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	s, err := postgres.Open(context.Background(), pg.url(), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkBilled(t, s, seen, served)
}
