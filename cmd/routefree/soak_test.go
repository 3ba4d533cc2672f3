package main

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// TestSoak runs a steady load for ROUTEFREE_SOAK (e.g. 10m) and checks that
// goroutines and resident memory stay flat. Not run in CI.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("ROUTEFREE_SOAK"))
	if err != nil || d <= 0 {
		t.Skip("set ROUTEFREE_SOAK=10m to run the soak test")
	}
	up := fakeUpstream(t, providertest.Script{Text: "soak", Chunks: 8, ChunkDelay: time.Millisecond})
	env := baseEnv(up)
	dir := t.TempDir()
	store := []string{"--data-dir", dir}
	key := prepareDemo(t, env, store, 1_000_000_000, "100000000")
	p := startServe(t, append(env, "ROUTEFREE_METRICS_INTERVAL=1s"), store...)

	// Steady load: 8 clients, each pacing itself to about 50 requests/s.
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var ok, bad atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				if o := chat(ctx, p.base, key, (g+i)%2 == 0, 64); o.complete {
					ok.Add(1)
				} else if ctx.Err() == nil {
					bad.Add(1)
				}
			}
		}()
	}

	type sample struct {
		at         time.Duration
		goroutines float64
		rssMB      float64
	}
	var samples []sample
	every := max(d/40, time.Second)
	start := time.Now()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(every):
			s := sample{time.Since(start).Round(time.Second), metric(p.base, "go_goroutines"), metric(p.base, "process_resident_memory_bytes") / (1 << 20)}
			samples = append(samples, s)
			t.Logf("%6s  goroutines %4.0f  rss %6.1f MB  ok %d", s.at, s.goroutines, s.rssMB, ok.Load())
		}
	}
	wg.Wait()
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	if bad.Load() > 0 {
		t.Errorf("%d requests did not complete", bad.Load())
	}
	if len(samples) < 8 {
		t.Fatalf("only %d samples", len(samples))
	}
	// After a warm-up quarter, compare the second quarter with the last.
	q := len(samples) / 4
	avg := func(ss []sample, f func(sample) float64) float64 {
		var sum float64
		for _, s := range ss {
			sum += f(s)
		}
		return sum / float64(len(ss))
	}
	g := func(s sample) float64 { return s.goroutines }
	m := func(s sample) float64 { return s.rssMB }
	early, late := samples[q:2*q], samples[len(samples)-q:]
	t.Logf("%d requests in %s (%.0f/s); goroutines %.0f → %.0f; rss %.1f → %.1f MB",
		ok.Load(), d, float64(ok.Load())/d.Seconds(), avg(early, g), avg(late, g), avg(early, m), avg(late, m))
	if avg(late, g) > avg(early, g)+10 {
		t.Errorf("goroutines grew from %.0f to %.0f", avg(early, g), avg(late, g))
	}
	if avg(late, m) > avg(early, m)*1.25+16 {
		t.Errorf("resident memory grew from %.1f MB to %.1f MB", avg(early, m), avg(late, m))
	}
}
