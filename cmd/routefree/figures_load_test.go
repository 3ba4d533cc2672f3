package main

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// TestAuditFiguresMatchUnderLoad: the auditor's comparison of the live read
// models with a replay, asked of two serves sharing one store (a SQLite
// directory, a PostgreSQL schema, whose SQL read models both write) while
// both bill requests, compares the two at one moment of the history: it reports
// a match, not the requests billed between reading the live figures and
// replaying the store as a difference.
func TestAuditFiguresMatchUnderLoad(t *testing.T) {
	for _, sc := range sharedStores() {
		t.Run(sc.name, func(t *testing.T) { figuresUnderLoad(t, sc.args(t)) })
	}
}

func figuresUnderLoad(t *testing.T, store []string) {
	rurl, prefix := testenv.RedisURL(t)
	up := fakeUpstream(t, providertest.Script{Text: "audited", Chunks: 2})
	env := baseEnv(up)
	key := prepareDemo(t, env, store, 1_000_000, "100000")
	auditor := staffToken(t, env, store, "auditor")
	shared := append(append([]string{}, store...), "--redis-url", rurl, "--redis-prefix", prefix)
	a := startServe(t, env, shared...)
	b := startServe(t, env, shared...)

	ctx, cancel := context.WithCancel(context.Background())
	results := make(chan []outcome, 2)
	var completed atomic.Int64
	for _, base := range []string{a.base, b.base} {
		go func() { results <- load(ctx, base, key, 4, &completed) }()
	}
	// Each comparison starts once more requests have been billed, so that
	// every one of them meets the load.
	billed := completed.Load
	for i := range 6 {
		base := []string{a.base, b.base}[i%2]
		before := billed()
		waitFor(t, 10*time.Second, func() bool { return billed() > before })
		var cmp struct {
			Data struct {
				Match bool `json:"match"`
				Rows  []struct {
					Figure, Key, Live, Replay string
					Match                     bool
				} `json:"rows"`
			} `json:"data"`
		}
		if code := apiJSON(t, base, "/admin/api/audit/figures", auditor, &cmp); code != http.StatusOK {
			t.Fatalf("figures on %s: %d", base, code)
		}
		if !cmp.Data.Match {
			for _, r := range cmp.Data.Rows {
				if !r.Match {
					t.Errorf("%s %s: live %s, replay %s", r.Figure, r.Key, r.Live, r.Replay)
				}
			}
			t.Fatalf("comparison %d on %s under load: no match", i, base)
		}
	}
	cancel()
	checkLoad(t, append(<-results, <-results...))
}
