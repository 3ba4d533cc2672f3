package main

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/projections"
)

// load drives chat requests from n goroutines until ctx ends, half of them
// streams, and returns what the clients saw.
func load(ctx context.Context, base, key string, n int, completed *atomic.Int64) []outcome {
	var mu sync.Mutex
	var all []outcome
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
				mu.Lock()
				all = append(all, o)
				mu.Unlock()
				if o.complete && completed != nil {
					completed.Add(1)
				}
				if o.err != nil && ctx.Err() == nil {
					time.Sleep(20 * time.Millisecond) // the gateway is down: don't spin
				}
			}
		}()
	}
	wg.Wait()
	return all
}

// TestCrashLosesNoCompletedRequest kills the gateway with SIGKILL under load
// and checks, after a restart, that every request a client saw complete is
// billed exactly once and that the balances equal a full replay.
func TestCrashLosesNoCompletedRequest(t *testing.T) {
	up := fakeUpstream(t, providertest.Script{Text: "crash test reply", Chunks: 8, ChunkDelay: time.Millisecond, Usage: providertest.Usage{Prompt: 12, Completion: 20}})
	env := baseEnv(up)
	dir := t.TempDir()
	store := []string{"--data-dir", dir}
	key := prepareDemo(t, env, store, 1_000_000, "100000")

	p := startServe(t, env, store...)
	ctx, cancel := context.WithCancel(context.Background())
	results := make(chan []outcome, 1)
	var completed atomic.Int64
	go func() { results <- load(ctx, p.base, key, 8, &completed) }()
	// Kill once the load is well under way, however fast the machine is.
	for deadline := time.Now().Add(time.Minute); completed.Load() < 200; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests completed in a minute: the load did not run", completed.Load())
		}
	}
	_ = p.cmd.Process.Kill() // kill -9, mid-load
	<-p.exited
	time.Sleep(100 * time.Millisecond)
	cancel()
	seen := <-results

	var done []string
	cut := 0
	for _, o := range seen {
		if o.complete {
			done = append(done, o.id)
		} else if o.status == 200 {
			cut++ // a 200 whose body the kill interrupted: it may or may not be billed
		}
	}
	t.Logf("clients saw %d requests complete and %d cut by the kill", len(done), cut)

	// Restart: the balance the gateway serves must be the replayed one.
	p2 := startServe(t, env, store...)
	served := keyBalance(t, p2.base, key)
	if code := p2.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d after SIGTERM", code)
	}

	s, err := sqlite.Open(dir+"/events.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	billed := completedEvents(t, s)
	for _, id := range done {
		if billed[id] == 0 {
			t.Errorf("request %s completed for the client but has no request.completed event", id)
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
	if figs.Chain.Break != nil {
		t.Fatalf("hash chain broken at %s", figs.Chain.Break.Position)
	}
	want := figs.Balances["acct_demo"]
	if !served.Equal(want) {
		t.Fatalf("balance after restart %s, full replay %s", served, want)
	}
	t.Logf("%d request.completed events, balance %s NTD = replay", len(billed), want)
}
