package main

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// TestBootstrapDemoStoppedMidwayIsCompletedOnRestart: serve
// --bootstrap-demo stopped (SIGTERM, as a supervisor stopping a starting
// service does) between opening the demo account and crediting it left
// the account without its credit, and the next start said the demo was
// bootstrapped already. After a restart the demo account has its one
// credit, and every key either start printed works and shows it; when
// neither printed one, the restart says how to issue one.
//
// Each round stops serve as soon as its demo account is in the store,
// then a little later, so that some rounds stop it between the steps.
func TestBootstrapDemoStoppedMidwayIsCompletedOnRestart(t *testing.T) {
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "demo"}))
	halfway := 0
	for round, after := range []time.Duration{
		0, 0, 0, 0, 0, 0, 0, 0, 50 * time.Microsecond, 100 * time.Microsecond, 300 * time.Microsecond,
		time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	} {
		dir := filepath.Join(t.TempDir(), "data")
		p, _ := launchServe(t, env, "--data-dir", dir, "--bootstrap-demo")
		waitForDemoAccount(t, filepath.Join(dir, "events.db"))
		time.Sleep(after)
		if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
			t.Fatalf("round %d: serve stopped during its bootstrap: exit status %d\n%s", round, code, p.logs.String())
		}
		if opened, credits, _ := demoHistory(t, dir); opened == 1 && credits == 0 {
			halfway++
		}
		q := startServe(t, env, "--data-dir", dir, "--bootstrap-demo")
		keys := []string{}
		for _, k := range []string{p.demoKey, q.demoKey} {
			if k != "" {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			if got := keyBalance(t, q.base, k); !got.Equal(decimal.NewFromInt(1000)) {
				t.Errorf("round %d: the printed demo key's balance is %s, want the demo credit of 1000\nfirst start printed:\n%s\nrestart printed:\n%s",
					round, got, p.out.String(), q.out.String())
			}
		}
		if len(keys) == 0 && !strings.Contains(q.out.String(), "keys issue --account acct_demo") {
			t.Errorf("round %d: no demo key printed, and the restart did not say how to issue one:\n%s", round, q.out.String())
		}
		if code := q.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
			t.Fatalf("round %d: exit status %d", round, code)
		}
		if opened, credits, issued := demoHistory(t, dir); opened != 1 || credits != 1 || issued < len(keys) || issued > 1 {
			t.Errorf("round %d: after the restart the demo account was opened %d times, credited %d times, given %d keys (%d printed)\nfirst start printed:\n%s\nrestart printed:\n%s",
				round, opened, credits, issued, len(keys), p.out.String(), q.out.String())
		}
	}
	t.Logf("%d rounds stopped serve with the demo account opened and not yet credited", halfway)
}

// waitForDemoAccount waits until the SQLite store at path holds the demo
// account's opening, reading it as fast as it can.
func waitForDemoAccount(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", sqlite.URI(path, "mode=ro&_pragma=busy_timeout(1000)"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if db.QueryRow("SELECT count(*) FROM events WHERE stream = ?", domain.AccountStream(demoAccount)).Scan(&n) == nil && n > 0 {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
	t.Fatal("serve --bootstrap-demo opened no demo account within a minute")
}

// demoHistory counts the demo account's openings, credits and keys in the
// SQLite store of dir.
func demoHistory(t *testing.T, dir string) (opened, credits, keys int) {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	eachEvent(t, s, domain.TypeAccountOpened, func(data []byte) {
		var a domain.AccountOpened
		if json.Unmarshal(data, &a) == nil && a.AccountID == demoAccount {
			opened++
		}
	})
	eachEvent(t, s, domain.TypeCreditsToppedUp, func(data []byte) {
		var c domain.CreditsToppedUp
		if json.Unmarshal(data, &c) == nil && c.AccountID == demoAccount {
			credits++
		}
	})
	eachEvent(t, s, domain.TypeKeyIssued, func(data []byte) {
		var k domain.KeyIssued
		if json.Unmarshal(data, &k) == nil && k.AccountID == demoAccount {
			keys++
		}
	})
	return opened, credits, keys
}
