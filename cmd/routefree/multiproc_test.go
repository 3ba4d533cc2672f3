package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/projections"
)

// visibleWithin is how soon a running gateway must act on what another
// process appended to its SQLite store.
const visibleWithin = time.Second

// within polls cond until it holds, failing the test when it does not
// within d of since (the moment the other process's write returned).
func within(t *testing.T, since time.Time, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	for !cond() {
		if time.Since(since) > d {
			t.Fatalf("%s: not in effect %s after the command returned", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(since)
}

// chatStatus is the status of one unary chat request with key.
func chatStatus(base, key string) int {
	return chat(context.Background(), base, key, false, 16).status
}

// cliRounds opens accounts, issues their keys and tops them up with the CLI
// while the gateways serve, and checks after each command that every
// gateway acts on it within a second: the new key authenticates, its
// empty account gets 402, and after the top-up its requests succeed.
func cliRounds(t *testing.T, env, store []string, bases []string, first, rounds int) {
	t.Helper()
	var slowest time.Duration
	note := func(d time.Duration) { slowest = max(slowest, d) }
	for i := first; i < first+rounds; i++ {
		acct := fmt.Sprintf("acct_cli_%d", i)
		runCLI(t, env, append([]string{"accounts", "open", "--id", acct, "--organisation", "CLI " + acct, "--plan", "starter"}, store...)...)
		key := issuedKey(t, runCLI(t, env, append([]string{"keys", "issue", "--account", acct, "--name", "k"}, store...)...))
		issued := time.Now()
		for _, base := range bases {
			note(within(t, issued, visibleWithin, "key issued by the CLI on "+base, func() bool { return keyStatus(base, key) == http.StatusOK }))
		}
		for _, base := range bases {
			if st := chatStatus(base, key); st != http.StatusPaymentRequired {
				t.Fatalf("%s with no credit on %s: status %d, want 402", acct, base, st)
			}
		}
		amount := decimal.NewFromInt(int64(50 + i))
		runCLI(t, env, append([]string{"credits", "topup", "--account", acct, "--amount", amount.String(),
			"--method", "adjustment", "--reference", fmt.Sprintf("cli-%d", i)}, store...)...)
		toppedUp := time.Now()
		for _, base := range bases {
			note(within(t, toppedUp, visibleWithin, "top-up by the CLI on "+base, func() bool {
				return keyBalance(t, base, key).Equal(amount)
			}))
		}
		for _, base := range bases {
			if st := chatStatus(base, key); st != http.StatusOK {
				t.Fatalf("%s after its top-up on %s: status %d, want 200", acct, base, st)
			}
		}
	}
	t.Logf("%d rounds of accounts open, keys issue and credits topup; slowest to take effect: %s", rounds, slowest.Round(time.Millisecond))
}

// checkLoad requires that every request of the load completed: the demo
// account has ample credit and limits, so any failure is the gateway's.
func checkLoad(t *testing.T, seen []outcome) {
	t.Helper()
	counts := map[int]int{}
	for _, o := range seen {
		counts[o.status]++
		if !o.complete || o.err != nil {
			t.Errorf("request %s: status %d, complete %t, err %v", o.id, o.status, o.complete, o.err)
		}
	}
	if len(seen) < 20 {
		t.Fatalf("only %d requests under load (statuses %v): the load did not run", len(seen), counts)
	}
	t.Logf("load: %d requests, statuses %v", len(seen), counts)
}

// verifyStore runs `routefree events verify` and checks its verdict.
func verifyStore(t *testing.T, env, store []string) {
	t.Helper()
	if out := runCLI(t, env, append([]string{"events", "verify"}, store...)...); !strings.HasPrefix(out, "OK ") {
		t.Fatalf("events verify: %q", out)
	}
}

// TestCLIBesideServe: with `serve` running on the SQLite store under a
// load of chat requests, CLI commands on the same data directory open
// accounts, issue keys and top up. No request fails, the gateway stays
// ready, every command takes effect within a second, the billed balance
// equals a replay and the hash chain verifies.
func TestCLIBesideServe(t *testing.T) {
	up := fakeUpstream(t, providertest.Script{Text: "beside the CLI", Chunks: 4, ChunkDelay: time.Millisecond})
	env := baseEnv(up)
	dir := t.TempDir()
	store := []string{"--data-dir", dir}
	key := prepareDemo(t, env, store, 1_000_000, "100000")
	p := startServe(t, env, store...)

	// An idle gateway first: only its watch of the file can notice.
	cliRounds(t, env, store, []string{p.base}, 0, 1)
	ctx, cancel := context.WithCancel(context.Background())
	results := make(chan []outcome, 1)
	go func() { results <- load(ctx, p.base, key, 4, nil) }()
	cliRounds(t, env, store, []string{p.base}, 1, 4)
	if st := getStatus(p.base + "/readyz"); st != http.StatusOK {
		t.Errorf("/readyz after the CLI wrote: %d", st)
	}
	verifyStore(t, env, store) // beside the running gateway
	cancel()
	checkLoad(t, <-results)
	quiesce(t, p.base)
	served := keyBalance(t, p.base, key)
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	if logs := p.logs.String(); strings.Contains(logs, "UNIQUE constraint") || strings.Contains(logs, "could not be recorded") {
		t.Fatalf("gateway logged failed appends:\n%s", tail(logs, 4096))
	}
	verifyStore(t, env, store)
	checkReplay(t, dir, map[string]decimal.Decimal{"acct_demo": served})
}

// TestTwoServesOneDirectory: two gateways on one SQLite directory, sharing
// holds and limits through Redis, both under load, with CLI commands beside
// them. Both serve, each sees the other's events (its balances include the
// other's requests), every command takes effect on both within a second,
// and the chain verifies.
func TestTwoServesOneDirectory(t *testing.T) {
	rurl, prefix := testenv.RedisURL(t)
	up := fakeUpstream(t, providertest.Script{Text: "two gateways", Chunks: 4, ChunkDelay: time.Millisecond})
	env := baseEnv(up)
	dir := t.TempDir()
	store := []string{"--data-dir", dir}
	key := prepareDemo(t, env, store, 1_000_000, "100000")
	shared := append(append([]string{}, store...), "--redis-url", rurl, "--redis-prefix", prefix)
	a := startServe(t, env, shared...)
	b := startServe(t, env, shared...)
	bases := []string{a.base, b.base}

	ctx, cancel := context.WithCancel(context.Background())
	results := make(chan []outcome, 2)
	for _, base := range bases {
		go func() { results <- load(ctx, base, key, 2, nil) }()
	}
	cliRounds(t, env, store, bases, 0, 3)
	cancel()
	checkLoad(t, append(<-results, <-results...))
	for _, base := range bases {
		quiesce(t, base)
	}
	// Each has applied the other's requests: both serve one balance.
	var served decimal.Decimal
	waitFor(t, 5*time.Second, func() bool {
		served = keyBalance(t, a.base, key)
		return served.Equal(keyBalance(t, b.base, key))
	})
	for _, p := range []*proc{a, b} {
		if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
		if logs := p.logs.String(); strings.Contains(logs, "UNIQUE constraint") || strings.Contains(logs, "could not be recorded") {
			t.Fatalf("gateway logged failed appends:\n%s", tail(logs, 4096))
		}
	}
	verifyStore(t, env, store)
	checkReplay(t, dir, map[string]decimal.Decimal{"acct_demo": served})
}

// checkReplay compares served balances with a replay of the store.
func checkReplay(t *testing.T, dir string, served map[string]decimal.Decimal) {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	figs, err := projections.Replay(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if figs.Chain.Break != nil {
		t.Fatalf("hash chain broken at %s", figs.Chain.Break.Position)
	}
	for acct, bal := range served {
		if !figs.Balances[acct].Equal(bal) {
			t.Fatalf("%s: served balance %s, replay %s", acct, bal, figs.Balances[acct])
		}
	}
}

// TestReadyzWhileAppendsFail holds SQLite's write lock from outside, past
// the store's busy timeout: the request whose usage cannot be recorded gets
// 503, /readyz answers not ready while appends fail, and both recover once
// the lock is released, without a restart.
func TestReadyzWhileAppendsFail(t *testing.T) {
	up := fakeUpstream(t, providertest.Script{Text: "locked out", Chunks: 2})
	env := baseEnv(up)
	dir := t.TempDir()
	store := []string{"--data-dir", dir}
	key := prepareDemo(t, env, store, 1_000_000, "100000")
	p := startServe(t, env, store...)
	if st := chatStatus(p.base, key); st != http.StatusOK {
		t.Fatalf("before the lock: status %d", st)
	}

	release := holdWriteLock(t, dir)
	if st := chatStatus(p.base, key); st != http.StatusServiceUnavailable {
		t.Fatalf("with the store locked past its busy timeout: status %d, want 503", st)
	}
	resp, err := client.Get(p.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Ready  bool   `json:"ready"`
		Reason string `json:"reason"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || body.Reason != "event store not writable" {
		t.Fatalf("/readyz while appends fail: %d %+v %v", resp.StatusCode, body, err)
	}

	release()
	waitFor(t, 5*time.Second, func() bool { return getStatus(p.base+"/readyz") == http.StatusOK })
	// The gateway refuses new requests for a moment after a failed append.
	waitFor(t, 5*time.Second, func() bool { return chatStatus(p.base, key) == http.StatusOK })
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	verifyStore(t, env, store)
}

// holdWriteLock takes SQLite's write lock on dir's store from a connection
// of its own, as a second process can, and holds it past every busy
// timeout until release is called (or the test ends).
func holdWriteLock(t *testing.T, dir string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "events.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		conn.Close()
		db.Close()
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_, err := conn.ExecContext(ctx, "ROLLBACK")
			conn.Close()
			db.Close()
			if err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(release)
	return release
}
