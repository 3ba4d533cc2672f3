package main

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// TestReadinessGaugesFollowReadyz makes appends fail (SQLite's write lock
// held from outside past the busy timeout): while /readyz answers 503
// "event store not writable", /metrics says not ready, store down, and why;
// once the lock is released both say ready again.
func TestReadinessGaugesFollowReadyz(t *testing.T) {
	up := fakeUpstream(t, providertest.Script{Text: "locked out", Chunks: 2})
	env := baseEnv(up)
	dir := t.TempDir()
	store := []string{"--data-dir", dir}
	key := prepareDemo(t, env, store, 1_000_000, "100000")
	p := startServe(t, append(env, "ROUTEFREE_METRICS_INTERVAL=100ms"), store...)
	waitFor(t, 5*time.Second, func() bool {
		return metric(p.base, "routefree_ready") == 1 && metric(p.base, "routefree_event_store_up") == 1
	})

	release := holdWriteLock(t, dir)
	if st := chatStatus(p.base, key); st != http.StatusServiceUnavailable {
		t.Fatalf("with the store locked past its busy timeout: status %d, want 503", st)
	}
	if st := getStatus(p.base + "/readyz"); st != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while appends fail: %d", st)
	}
	const why = `routefree_not_ready{reason="event store not writable"} 1`
	waitFor(t, 10*time.Second, func() bool {
		return metric(p.base, "routefree_ready") == 0 && metric(p.base, "routefree_event_store_up") == 0 &&
			strings.Contains(metricsText(t, p.base), why)
	})

	release()
	waitFor(t, 10*time.Second, func() bool {
		return metric(p.base, "routefree_ready") == 1 && metric(p.base, "routefree_event_store_up") == 1
	})
	if getStatus(p.base+"/readyz") != http.StatusOK {
		t.Fatal("/metrics says ready, /readyz does not")
	}
	if body := metricsText(t, p.base); !strings.Contains(body, `routefree_not_ready{reason="event store not writable"} 0`) {
		t.Fatalf("the reason stays set once ready again:\n%s", body)
	}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}
