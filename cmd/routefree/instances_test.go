package main

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/projections"
)

// burst sends n unary requests from 8 goroutines, alternating between the
// instances, and counts the statuses.
func burst(bases []string, key string, n int) (map[int]int, time.Duration) {
	var mu sync.Mutex
	counts := map[int]int{}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				o := chat(context.Background(), bases[i%int64(len(bases))], key, i%3 == 0, 64)
				mu.Lock()
				counts[o.status]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return counts, time.Since(start)
}

// TestTwoInstancesShareLimitsAndCredit runs two gateways on one PostgreSQL
// schema and one Redis prefix: a key's RPM and an account's credit hold
// across both, and both serve the replayed balances within a second.
func TestTwoInstancesShareLimitsAndCredit(t *testing.T) {
	pg := testenv.PostgresURL(t)
	rurl, prefix := testenv.RedisURL(t)
	// Completion tokens = max_tokens: a request costs what its hold assumes.
	up := fakeUpstream(t, providertest.Script{Text: "shared", Chunks: 4, UseMaxTokens: true})
	env := baseEnv(up)
	store := []string{"--store", "postgres", "--postgres-url", pg}
	const rpm = 40
	key := prepareDemo(t, env, store, rpm, "")
	shared := append(store, "--redis-url", rurl, "--redis-prefix", prefix)
	a := startServe(t, env, shared...)
	b := startServe(t, env, shared...)
	bases := []string{a.base, b.base}

	// PostgreSQL shows a commit to readers only once no older transaction is
	// open, so a just-started instance may need a moment for the newest key.
	waitFor(t, 2*time.Second, func() bool { return keyStatus(a.base, key) == 200 && keyStatus(b.base, key) == 200 })
	one := chatCost(t, b.base, key) // the price of one request, as billed

	// 1. RPM: 60 more requests through both instances, one bucket of 40.
	counts, took := burst(bases, key, 60)
	refill := int(took.Seconds()*rpm/60) + 1
	if ok := counts[200] + 1; ok < rpm || ok > rpm+refill || counts[200]+counts[429] != 60 {
		t.Fatalf("RPM %d across two instances: statuses %v in %s", rpm, counts, took)
	}
	t.Logf("rpm %d: %v in %s", rpm, counts, took.Round(time.Millisecond))

	// 2. Credit: an account that can pay for about 10 requests, hammered
	// through both instances, never goes below zero.
	runCLI(t, env, append([]string{"accounts", "open", "--id", "acct_small", "--organisation", "Small", "--plan", "enterprise"}, store...)...)
	runCLI(t, env, append([]string{"accounts", "plan", "--account", "acct_small", "--plan", "enterprise", "--rpm", "100000", "--tpm", "1000000000"}, store...)...)
	small := issuedKey(t, runCLI(t, env, append([]string{"keys", "issue", "--account", "acct_small"}, store...)...))
	// An adjustment is to the cent.
	credit := one.Mul(decimal.New(105, -1)).Round(2)
	runCLI(t, env, append([]string{"credits", "adjust", "--account", "acct_small", "--amount", credit.String(), "--reason", "credit for about 10 requests"}, store...)...)
	for _, base := range bases { // both instances learn the new key from the shared history
		waitFor(t, 2*time.Second, func() bool {
			return keyStatus(base, small) == http.StatusOK && keyBalance(t, base, small).Equal(credit)
		})
	}
	counts, _ = burst(bases, small, 40)
	end := time.Now()
	if counts[200] == 0 || counts[402] == 0 || counts[200]+counts[402] != 40 {
		t.Fatalf("credit for ~10 requests: statuses %v", counts)
	}

	s, err := postgres.Open(context.Background(), pg, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	figs, err := projections.Replay(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	replayed := time.Since(end)
	if figs.Balances["acct_small"].IsNegative() {
		t.Fatalf("acct_small overspent across instances: balance %s", figs.Balances["acct_small"])
	}
	spent := credit.Sub(figs.Balances["acct_small"])
	if want := one.Mul(decimal.NewFromInt(int64(counts[200]))); !spent.Equal(want) {
		t.Fatalf("acct_small spent %s for %d requests of %s", spent, counts[200], one)
	}
	t.Logf("credit %s: %v, balance left %s", credit, counts, figs.Balances["acct_small"])

	// 3. Both instances serve the replayed balances within a second.
	waitFor(t, time.Second-replayed, func() bool {
		for _, base := range bases {
			if !keyBalance(t, base, small).Equal(figs.Balances["acct_small"]) || !keyBalance(t, base, key).Equal(figs.Balances["acct_demo"]) {
				return false
			}
		}
		return true
	})
	t.Logf("converged %s after the load (replay included)", time.Since(end).Round(time.Millisecond))
	// The operator's view of it in /metrics.
	body := metricsText(t, a.base)
	for _, want := range []string{"routefree_event_append_seconds_count{result=\"ok\"}", "routefree_eventstore_commits_total",
		`status="402"}`, `routefree_rejections_total{cause="rpm",status="429"}`,
		`routefree_projection_lag_events{projection="balances"}`, `routefree_projection_lag_events{projection="invoicing"}`, `routefree_breaker_state{model="routefree/echo",provider="fake",upstream="0"} 0`,
		"routefree_active_holds 0", "routefree_redis_up 1", "routefree_event_store_up 1", "routefree_ready 1", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, p := range []*proc{a, b} {
		if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
			t.Errorf("exit status %d", code)
		}
	}
}

// issuedKey finds the secret in the output of `keys issue`.
func issuedKey(t *testing.T, out string) string {
	for _, line := range strings.Split(out, "\n") {
		if k, ok := strings.CutPrefix(line, "key:"); ok {
			return strings.TrimSpace(k)
		}
	}
	t.Fatalf("no key in %q", out)
	return ""
}

// chatCost makes one unary request and returns the cost it was billed.
func chatCost(t *testing.T, base, key string) decimal.Decimal {
	t.Helper()
	o := chat(context.Background(), base, key, false, 64)
	if !o.complete {
		t.Fatalf("probe request: %+v", o)
	}
	return o.cost
}

func keyStatus(base, key string) int {
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/key", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitFor polls cond until it holds or d has passed.
func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
