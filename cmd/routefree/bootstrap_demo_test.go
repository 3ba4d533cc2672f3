package main

import (
	"context"
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// Instances started together with --bootstrap-demo on a new shared store
// each find no demo account and would each open one: every instance starts
// and serves, one opens the account and prints its key, the others say the
// demo was bootstrapped by another instance, and the store holds one demo
// account with one key and one demo credit.
//
// To make them collide every time, the test holds the store's append lock
// until every instance waits on it with its demo account to open.
func TestBootstrapDemoOfInstancesStartedTogether(t *testing.T) {
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "demo"}))
	const n = 3
	pg := testenv.PostgresURL(t)
	rurl, prefix := testenv.RedisURL(t)
	store := []string{"--store", "postgres", "--postgres-url", pg}
	// The price list first (as an operator may), so that the demo account
	// is each instance's first append.
	runCLI(t, env, append([]string{"prices", "publish", "--from-catalog"}, store...)...)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var lockKey int64
	var pid int32
	if err := conn.QueryRow(ctx, "SELECT lock_key, pg_backend_pid() FROM event_chain").Scan(&lockKey, &pid); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		t.Fatal(err)
	}

	shared := append(store, "--redis-url", rurl, "--redis-prefix", prefix, "--bootstrap-demo")
	procs := make([]*proc, n)
	ups := make([]<-chan struct{}, n)
	for i := range n {
		procs[i], ups[i] = launchServe(t, env, shared...)
	}
	waitFor(t, 60*time.Second, func() bool {
		var waiting int
		err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pid).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		return waiting == n
	})
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", lockKey); err != nil {
		t.Fatal(err)
	}

	var keys []string
	others := 0
	for i, p := range procs {
		p.waitListening(ups[i])
		if p.demoKey != "" {
			keys = append(keys, p.demoKey)
		}
		if strings.Contains(p.out.String(), "bootstrapped by another instance") {
			others++
		}
	}
	if len(keys) != 1 || others != n-1 {
		for i, p := range procs {
			t.Logf("instance %d printed:\n%s", i, p.out.String())
		}
		t.Fatalf("%d demo keys printed, %d instances said another bootstrapped the demo", len(keys), others)
	}
	for _, p := range procs { // the key works, and pays, on every instance
		waitFor(t, 5*time.Second, func() bool { return keyStatus(p.base, keys[0]) == 200 })
		if got := keyBalance(t, p.base, keys[0]); !got.Equal(decimal.NewFromInt(1000)) {
			t.Fatalf("demo balance %s on %s, want the one demo credit of 1000", got, p.base)
		}
	}

	s, err := postgres.Open(ctx, pg, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opened, issued, credited := 0, 0, 0
	eachEvent(t, s, domain.TypeAccountOpened, func(data []byte) {
		var a domain.AccountOpened
		if json.Unmarshal(data, &a) == nil && a.AccountID == "acct_demo" {
			opened++
		}
	})
	eachEvent(t, s, domain.TypeKeyIssued, func(data []byte) {
		var k domain.KeyIssued
		if json.Unmarshal(data, &k) == nil && k.AccountID == "acct_demo" {
			issued++
		}
	})
	eachEvent(t, s, domain.TypeCreditsToppedUp, func(data []byte) {
		var c domain.CreditsToppedUp
		if json.Unmarshal(data, &c) == nil && c.AccountID == "acct_demo" {
			credited++
		}
	})
	s.Close()
	if opened != 1 || issued != 1 || credited != 1 {
		t.Fatalf("demo account opened %d times, %d keys issued, %d top-ups", opened, issued, credited)
	}
	for _, p := range procs {
		if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
			t.Fatalf("exit status %d", code)
		}
	}
}
