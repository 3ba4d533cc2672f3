package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// TestServeStartedAfterRedisEmptiedWaitsForTheRunningOnes: serve A has a
// slow request in flight whose hold takes two thirds of an account's
// credit when the prefix's keys are deleted (a FLUSHALL, FLUSHDB or
// eviction on a Redis that kept running), and serve B, started beside A,
// takes a request a moment later, before A noticed. B answers 503 with
// Retry-After rather than admit a request the lost hold leaves no room
// for, and refuses it (402) once A has put its hold back.
func TestServeStartedAfterRedisEmptiedWaitsForTheRunningOnes(t *testing.T) {
	const slow = 4 * time.Second
	const maxTokens = 4000 // a hold of some cents: credit is adjusted to the cent
	// Completion tokens = max_tokens: a request costs what its hold assumes.
	up := fakeUpstream(t, providertest.Script{Text: "held", UseMaxTokens: true, Delay: slow})
	env := baseEnv(up)
	store := []string{"--data-dir", t.TempDir()}
	rurl, prefix := testenv.RedisURL(t)
	key := prepareDemo(t, env, store, 100000, "")
	shared := append(append([]string{}, store...), "--redis-url", rurl, "--redis-prefix", prefix)
	a := startServe(t, env, shared...)
	probe := chat(context.Background(), a.base, key, false, maxTokens)
	if !probe.complete {
		t.Fatalf("probe request: %+v", probe)
	}
	one := probe.cost

	runCLI(t, env, append([]string{"accounts", "open", "--id", "acct_small", "--organisation", "Small", "--plan", "enterprise"}, store...)...)
	runCLI(t, env, append([]string{"accounts", "plan", "--account", "acct_small", "--plan", "enterprise", "--rpm", "100000", "--tpm", "1000000000"}, store...)...)
	small := issuedKey(t, runCLI(t, env, append([]string{"keys", "issue", "--account", "acct_small"}, store...)...))
	credit := one.Mul(decimal.New(15, -1)).Round(2) // room for one request, not two
	runCLI(t, env, append([]string{"credits", "adjust", "--account", "acct_small", "--amount", credit.String(), "--reason", "room for one request"}, store...)...)

	b := startServe(t, env, shared...)
	for _, base := range []string{a.base, b.base} {
		waitFor(t, 5*time.Second, func() bool {
			return keyStatus(base, small) == http.StatusOK && keyBalance(t, base, small).Equal(credit)
		})
	}

	opt, err := redis.ParseURL(rurl)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	held := make(chan outcome, 1)
	go func() { held <- chat(context.Background(), a.base, small, false, maxTokens) }()
	waitFor(t, slow/2, func() bool {
		n, err := rdb.Exists(context.Background(), prefix+"l:{acct_small}:h").Result()
		return err == nil && n == 1
	})
	dropPrefix(t, rurl, prefix)

	status, retry := chatRetryAfter(t, b.base, small, maxTokens)
	if status != http.StatusServiceUnavailable || retry == "" {
		t.Fatalf("serve B's first request after the prefix was emptied: %d (Retry-After %q), want 503 with Retry-After", status, retry)
	}
	waitFor(t, 10*time.Second, func() bool {
		status, _ = chatRetryAfter(t, b.base, small, maxTokens)
		return status != http.StatusServiceUnavailable
	})
	if status != http.StatusPaymentRequired {
		t.Fatalf("serve B once A put its hold back: %d, want 402", status)
	}
	if o := <-held; !o.complete {
		t.Fatalf("serve A's request: %+v", o)
	}
	for _, p := range []*proc{b, a} {
		if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
			t.Errorf("exit status %d", code)
		}
	}
}

// chatRetryAfter sends one unary request and returns its status and
// Retry-After.
func chatRetryAfter(t *testing.T, base, key string, maxTokens int) (status int, retryAfter string) {
	t.Helper()
	body := fmt.Sprintf(`{"model":"routefree/echo","max_tokens":%d,"messages":[{"role":"user","content":"hello"}]}`, maxTokens)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// TestServeStartedBesideOthersAfterRedisEmptiedWaits: the prefix's keys
// are deleted while serve A runs, and serve B starts before A noticed
// (A, idle, has nothing to put back and does not look). Redis shows a new
// prefix; the store's record of its serves shows A running, so B takes
// the ledger's epoch with the restore window and answers 503 with
// Retry-After at first, as it would if A had holds to put back; once the
// window is over it admits.
func TestServeStartedBesideOthersAfterRedisEmptiedWaits(t *testing.T) {
	up := fakeUpstream(t, providertest.Script{Text: "beside"})
	env := baseEnv(up)
	store := []string{"--data-dir", t.TempDir()}
	rurl, prefix := testenv.RedisURL(t)
	key := prepareDemo(t, env, store, 100000, "")
	shared := append(append([]string{}, store...), "--redis-url", rurl, "--redis-prefix", prefix)
	a := startServe(t, env, shared...)
	dropPrefix(t, rurl, prefix)

	b := startServe(t, env, shared...)
	status, retry := chatRetryAfter(t, b.base, key, 64)
	if status != http.StatusServiceUnavailable || retry == "" {
		t.Fatalf("serve B started beside A after the prefix was emptied: %d (Retry-After %q), want 503 with Retry-After", status, retry)
	}
	waitFor(t, 10*time.Second, func() bool {
		status, _ = chatRetryAfter(t, b.base, key, 64)
		return status != http.StatusServiceUnavailable
	})
	if status != http.StatusOK {
		t.Fatalf("serve B after the restore window: %d, want 200", status)
	}
	for _, p := range []*proc{b, a} {
		if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
			t.Errorf("exit status %d", code)
		}
	}
}
