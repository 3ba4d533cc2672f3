package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// storeCopy makes a copy of a stopped store as an operator would: the
// SQLite file through `events backup` into a data directory of its own, a
// PostgreSQL schema through pg_dump restored into another schema. The copy
// begins with the same first event as the original.
func storeCopy(t *testing.T, env []string, name string, store []string) []string {
	t.Helper()
	if name == "sqlite" {
		dir := t.TempDir()
		runCLI(t, env, append([]string{"events", "backup", "--out", filepath.Join(dir, "events.db")}, store...)...)
		return []string{"--data-dir", dir}
	}
	schemaOf := func(u string) string {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		return pu.Query().Get("search_path")
	}
	copyURL := testenv.PostgresURL(t)
	from, to := schemaOf(store[3]), schemaOf(copyURL)
	base := os.Getenv("ROUTEFREE_POSTGRES_URL")
	dump, err := exec.Command("pg_dump", "--no-owner", "--schema", from, base).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	restore := exec.Command("psql", "--quiet", "-v", "ON_ERROR_STOP=1", base)
	restore.Stdin = strings.NewReader("DROP SCHEMA " + to + " CASCADE;\n" + strings.ReplaceAll(string(dump), from, to))
	if out, err := restore.CombinedOutput(); err != nil {
		t.Fatalf("psql restore: %v\n%s", err, tail(string(out), 2048))
	}
	return []string{"--store", "postgres", "--postgres-url", copyURL}
}

// lastEvent is the last event of the store that args name.
func lastEvent(t *testing.T, sc storeCase, args []string) eventstore.RecordedEvent {
	t.Helper()
	s := sc.open(t, args)
	defer s.Close()
	ev, err := s.(eventstore.TailReader).LastEvent(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestACopyOfAStoreIsRefusedOnTheOriginalsRedisPrefix: a copy of a store
// (an SQLite file copied, a pg_dump restored elsewhere) begins with the
// original's first event, so the prefix's record of the store's identity
// takes it for the original. Once the two histories part, serves of both
// on one prefix would share credit holds and rate windows of accounts that
// are no longer the same. A serve whose history lacks the head that the
// prefix's serves last reported is refused, naming both heads, and the
// original's serve serves on; one whose copy parts while both run is named
// in the original's log.
func TestACopyOfAStoreIsRefusedOnTheOriginalsRedisPrefix(t *testing.T) {
	for _, sc := range sharedStores() {
		t.Run(sc.name, func(t *testing.T) {
			up := fakeUpstream(t, providertest.Script{Text: "copied"})
			env := baseEnv(up)
			store := sc.args(t)
			rurl, prefix := testenv.RedisURL(t)
			with := func(store []string) []string {
				return append(append([]string{}, store...), "--redis-url", rurl, "--redis-prefix", prefix)
			}
			key := prepareDemo(t, env, store, 100000, "")
			copied := storeCopy(t, env, sc.name, store)

			a := startServe(t, env, with(store)...)
			// The original goes on past the copy: an operator's top-up
			// beside its serve. The same top-up on the copy has the same
			// event ID (IDs derive from what the event is), but not the
			// same place in a history: its hash differs.
			topUp := func(store []string) {
				runCLI(t, env, append([]string{"credits", "topup", "--account", "acct_demo", "--amount", "500", "--max-topup", "500",
					"--method", "adjustment", "--reference", "after-the-copy"}, store...)...)
			}
			topUp(store)
			topUp(copied)
			head := lastEvent(t, sc, store)
			copyHead := lastEvent(t, sc, copied)
			if head.ID != copyHead.ID || bytes.Equal(head.Hash, copyHead.Hash) {
				t.Fatalf("the same top-up on both: IDs %s and %s, hashes equal %v", head.ID, copyHead.ID, bytes.Equal(head.Hash, copyHead.Hash))
			}
			// The serve reports its head within two of its checks.
			time.Sleep(2*claimCheck + time.Second)

			b, _ := launchServe(t, env, with(copied)...)
			select {
			case <-b.exited:
			case <-time.After(60 * time.Second):
				t.Fatal("a serve on a copy of the store, on the original's prefix, did not exit")
			}
			logs := b.logs.String() + b.out.String()
			for _, w := range []string{hex.EncodeToString(head.Hash), hex.EncodeToString(copyHead.Hash), "--redis-prefix"} {
				if b.exitErr == nil || !strings.Contains(logs, w) {
					t.Fatalf("serve on the copy: exit %v, want %q in its output:\n%s", b.exitErr, w, tail(logs, 2048))
				}
			}
			if st := keyStatus(a.base, key); st != http.StatusOK {
				t.Fatalf("the original's serve after the copy's refusal: key status %d", st)
			}
			// Another serve of the original itself is welcome.
			c := startServe(t, env, with(store)...)
			if st := keyStatus(c.base, key); st != http.StatusOK {
				t.Fatalf("a second serve of the original: key status %d", st)
			}
			c.stop(syscall.SIGTERM, 30*time.Second)

			// A copy taken now holds the original's head, and its serve
			// starts; once its history parts from the original's, the
			// original's serve says so.
			twin := storeCopy(t, env, sc.name, store)
			d := startServe(t, env, with(twin)...)
			runCLI(t, env, append([]string{"credits", "topup", "--account", "acct_demo", "--amount", "700", "--max-topup", "700",
				"--method", "adjustment", "--reference", "on-the-twin"}, twin...)...)
			twinHead := lastEvent(t, sc, twin)
			waitFor(t, 4*claimCheck, func() bool {
				return strings.Contains(a.logs.String(), twinHead.ID.String())
			})
			if logs := a.logs.String(); !strings.Contains(logs, "history lacks") || !strings.Contains(logs, "--redis-prefix") {
				t.Fatalf("the original's serve beside a parted copy logged:\n%s", tail(logs, 2048))
			}
			if st := keyStatus(a.base, key); st != http.StatusOK {
				t.Fatalf("the original's serve beside a parted copy: key status %d", st)
			}
			d.stop(syscall.SIGTERM, 30*time.Second)
			a.stop(syscall.SIGTERM, 30*time.Second)
		})
	}
}
