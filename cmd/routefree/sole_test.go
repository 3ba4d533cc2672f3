package main

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/projections"
)

// storeCase is one event store that several serve processes can share.
type storeCase struct {
	name string
	args func(t *testing.T) []string
	open func(t *testing.T, args []string) eventstore.Store
}

func sharedStores() []storeCase {
	return []storeCase{
		{name: "sqlite",
			args: func(t *testing.T) []string { return []string{"--data-dir", t.TempDir()} },
			open: func(t *testing.T, args []string) eventstore.Store {
				s, err := sqlite.Open(filepath.Join(args[1], "events.db"), sqlite.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}},
		{name: "postgres",
			args: func(t *testing.T) []string {
				return []string{"--store", "postgres", "--postgres-url", testenv.PostgresURL(t)}
			},
			open: func(t *testing.T, args []string) eventstore.Store {
				s, err := postgres.Open(context.Background(), args[3], postgres.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}},
	}
}

// TestServesWithoutSharedHoldsNeverSpendPastTheCredit: a second serve on a
// store another serve runs on, with no Redis between them, would keep
// credit holds and rate limits of its own, and an account hammered through
// both could spend past its credit. The second serve must not run so: it
// refuses to start, naming --redis-url, and the first serves on.
func TestServesWithoutSharedHoldsNeverSpendPastTheCredit(t *testing.T) {
	for _, sc := range sharedStores() {
		t.Run(sc.name, func(t *testing.T) {
			// Completion tokens = max_tokens: a request costs what its hold
			// assumes; slow enough that requests overlap.
			up := fakeUpstream(t, providertest.Script{Text: "apart", Chunks: 4, ChunkDelay: 10 * time.Millisecond, UseMaxTokens: true})
			env := baseEnv(up)
			store := sc.args(t)
			key := prepareDemo(t, env, store, 100000, "")
			a := startServe(t, env, store...)
			one := chatCost(t, a.base, key)

			runCLI(t, env, append([]string{"accounts", "open", "--id", "acct_small", "--organisation", "Small", "--plan", "enterprise"}, store...)...)
			runCLI(t, env, append([]string{"accounts", "plan", "--account", "acct_small", "--plan", "enterprise", "--rpm", "100000", "--tpm", "1000000000"}, store...)...)
			small := issuedKey(t, runCLI(t, env, append([]string{"keys", "issue", "--account", "acct_small"}, store...)...))
			credit := one.Mul(decimal.New(105, -1)).Round(2) // an adjustment is to the cent
			runCLI(t, env, append([]string{"credits", "adjust", "--account", "acct_small", "--amount", credit.String(), "--reason", "credit for about 10 requests"}, store...)...)

			b, started := launchServe(t, env, store...)
			select {
			case <-started:
			case <-b.exited:
			case <-time.After(60 * time.Second):
				t.Fatal("the second serve neither started nor exited")
			}
			select {
			case <-b.exited:
				// Refused: it says why and what to do, and the first serves on.
				logs := b.logs.String() + b.out.String()
				if b.exitErr == nil || !strings.Contains(logs, "another routefree serve") || !strings.Contains(logs, "--redis-url") {
					t.Fatalf("second serve without Redis: exit %v, output:\n%s", b.exitErr, tail(logs, 2048))
				}
				// The key was issued by a CLI command: the first serve
				// learns of it from the store within moments.
				waitFor(t, 5*time.Second, func() bool { return keyStatus(a.base, small) == http.StatusOK })
				if code := a.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
					t.Fatalf("first serve exit status %d", code)
				}
				return
			default:
			}

			// Both run: hammer the small account through both and replay.
			for _, base := range []string{a.base, b.base} {
				waitFor(t, 5*time.Second, func() bool {
					return keyStatus(base, small) == http.StatusOK && keyBalance(t, base, small).Equal(credit)
				})
			}
			counts, _ := burst([]string{a.base, b.base}, small, 40)
			for _, p := range []*proc{a, b} {
				p.stop(syscall.SIGTERM, 30*time.Second)
			}
			s := sc.open(t, store)
			defer s.Close()
			figs, err := projections.Replay(context.Background(), s, nil)
			if err != nil {
				t.Fatal(err)
			}
			if bal := figs.Balances["acct_small"]; bal.IsNegative() {
				t.Fatalf("credit %s for about 10 requests, two serves without shared holds: statuses %v, balance %s", credit, counts, bal)
			}
			t.Fatalf("two serves ran on one store without shared holds (statuses %v, balance %s)", counts, figs.Balances["acct_small"])
		})
	}
}

// TestServesOnOneStoreAgreeOnRedis: a serve with --redis-url beside one
// without (either started first) is refused, naming what to change; two
// with Redis run together; a serve killed with kill -9 leaves the store
// free for the next.
func TestServesOnOneStoreAgreeOnRedis(t *testing.T) {
	for _, sc := range sharedStores() {
		t.Run(sc.name, func(t *testing.T) {
			up := fakeUpstream(t, providertest.Script{Text: "agree"})
			env := baseEnv(up)
			store := sc.args(t)
			rurl, prefix := testenv.RedisURL(t)
			shared := append(append([]string{}, store...), "--redis-url", rurl, "--redis-prefix", prefix)
			key := prepareDemo(t, env, store, 100000, "")

			refused := func(args []string, want string) {
				t.Helper()
				p, _ := launchServe(t, env, args...)
				select {
				case <-p.exited:
				case <-time.After(60 * time.Second):
					t.Fatal("serve beside one that disagrees on Redis did not exit")
				}
				if logs := p.logs.String() + p.out.String(); p.exitErr == nil || !strings.Contains(logs, want) {
					t.Fatalf("serve %v: exit %v, output:\n%s", args[len(store):], p.exitErr, tail(logs, 2048))
				}
			}

			alone := startServe(t, env, store...)
			refused(shared, "without --redis-url")
			alone.stop(syscall.SIGTERM, 30*time.Second)

			a := startServe(t, env, shared...)
			refused(store, "start every instance with --redis-url")
			b := startServe(t, env, shared...)
			for _, base := range []string{a.base, b.base} {
				waitFor(t, 5*time.Second, func() bool { return keyStatus(base, key) == http.StatusOK })
			}
			b.stop(syscall.SIGTERM, 30*time.Second)
			a.stop(syscall.SIGKILL, 30*time.Second)
			// Killed: the lock went with the process.
			c := startServe(t, env, store...)
			if st := keyStatus(c.base, key); st != http.StatusOK {
				t.Fatalf("serve after one was killed: key status %d", st)
			}
			c.stop(syscall.SIGTERM, 30*time.Second)
		})
	}
}

// TestServeTakesItsClaimAgainAfterLosingItsSession: the PostgreSQL session
// holding a serve's claim ends (a restart, a network cut, here
// pg_terminate_backend): the serve takes the claim again on a new session,
// so a second serve without Redis is still refused.
func TestServeTakesItsClaimAgainAfterLosingItsSession(t *testing.T) {
	pg := testenv.PostgresURL(t)
	up := fakeUpstream(t, providertest.Script{Text: "claim"})
	env := baseEnv(up)
	store := []string{"--store", "postgres", "--postgres-url", pg}
	key := prepareDemo(t, env, store, 100000, "")
	a := startServe(t, env, store...)

	db, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var schema string
	if err := db.QueryRow("SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	k := uint64(serveLockKey(schema))
	holder := func() (pid int) {
		err := db.QueryRow(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
			AND classid = $1 AND objid = $2`, uint32(k>>32), uint32(k)).Scan(&pid)
		if errors.Is(err, sql.ErrNoRows) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	first := holder()
	if first == 0 {
		t.Fatal("serve holds no claim on its schema")
	}
	if _, err := db.Exec("SELECT pg_terminate_backend($1)", first); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { p := holder(); return p != 0 && p != first })

	b, _ := launchServe(t, env, store...)
	select {
	case <-b.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("a second serve without Redis started beside one whose claim was taken again")
	}
	if logs := b.logs.String(); !strings.Contains(logs, "another routefree serve") {
		t.Fatalf("second serve: exit %v, output:\n%s", b.exitErr, tail(logs, 2048))
	}
	if st := keyStatus(a.base, key); st != http.StatusOK {
		t.Fatalf("first serve after losing its session: key status %d", st)
	}
	if code := a.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}

// TestServeLockDeletedStillKeepsASecondServeOut: an operator deletes
// serve.lock under a running serve (taken for a stale lock after a crash,
// or swept by a cleanup). A second serve without Redis must still be
// refused: the two would keep their credit holds apart, and an account
// could spend past its credit through them.
func TestServeLockDeletedStillKeepsASecondServeOut(t *testing.T) {
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "lock deleted"}))
	dir := t.TempDir()
	a := startServe(t, env, "--data-dir", dir)
	if err := os.Remove(filepath.Join(dir, "serve.lock")); err != nil {
		t.Fatal(err)
	}
	b, up := launchServe(t, env, "--data-dir", dir)
	select {
	case <-up:
		t.Fatalf("a second serve without Redis started beside one whose serve.lock was deleted, at %s", b.base)
	case <-b.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("the second serve neither started nor exited")
	}
	if logs := b.logs.String(); b.exitErr == nil || !strings.Contains(logs, "another routefree serve") {
		t.Fatalf("second serve: exit %v, output:\n%s", b.exitErr, tail(logs, 2048))
	}
	if st := getStatus(a.base + "/readyz"); st != http.StatusOK {
		t.Fatalf("the first serve: /readyz %d", st)
	}
	if code := a.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
}
