package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/projections"
)

// TestEventsBackupBesideServeUnderLoad: `events backup` while serve bills
// requests writes a copy that verifies, holds a prefix of the live history
// event for event, is its owner's alone, is never written over, and serves
// again once put back in a data directory, with the balances its replay
// gives.
func TestEventsBackupBesideServeUnderLoad(t *testing.T) {
	up := fakeUpstream(t, providertest.Script{Text: "backed up", Chunks: 2})
	env := baseEnv(up)
	dir := t.TempDir()
	store := []string{"--data-dir", dir}
	key := prepareDemo(t, env, store, 1_000_000, "100000")
	p := startServe(t, env, store...)

	var served atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if chatStatus(p.base, key) == 200 {
					served.Add(1)
				}
			}
		}()
	}
	waitFor(t, 10*time.Second, func() bool { return served.Load() >= 20 })
	out := filepath.Join(t.TempDir(), "routefree.backup")
	said := runCLI(t, env, append([]string{"events", "backup", "--out", out}, store...)...)
	waitFor(t, 10*time.Second, func() bool { return served.Load() >= 60 }) // and the load goes on
	close(stop)
	wg.Wait()
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	if !strings.Contains(said, "verified") {
		t.Fatalf("events backup said:\n%s", said)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}

	// A prefix of the live history, event for event.
	ctx := context.Background()
	readAll := func(path string) []eventstore.RecordedEvent {
		s, err := sqlite.Open(path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var all []eventstore.RecordedEvent
		for pos := eventstore.Start; ; {
			evs, err := s.ReadAll(ctx, pos, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 0 {
				return all
			}
			all = append(all, evs...)
			pos = evs[len(evs)-1].Position
		}
	}
	backup, live := readAll(out), readAll(filepath.Join(dir, "events.db"))
	if len(backup) == 0 || len(backup) >= len(live) {
		t.Fatalf("backup holds %d events, the live store %d: the load went on after it", len(backup), len(live))
	}
	for i, e := range backup {
		if e.Position != live[i].Position || !bytes.Equal(e.Hash, live[i].Hash) {
			t.Fatalf("backup event %d (%s) is not the live store's", i, e.Position)
		}
	}

	// Never written over.
	before, _ := os.ReadFile(out)
	if _, err := runCLIErr(env, append([]string{"events", "backup", "--out", out}, store...)...); err == nil {
		t.Fatal("a second backup onto the same file succeeded")
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
		t.Fatal("a refused backup changed the file")
	}

	// Put back in a data directory, it serves the balance its replay gives.
	restored := t.TempDir()
	copyFile(t, out, filepath.Join(restored, "events.db"))
	s, err := sqlite.Open(filepath.Join(restored, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	figs, err := projections.Replay(ctx, s, nil)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	q := startServe(t, env, "--data-dir", restored)
	if got := keyBalance(t, q.base, key); !got.Equal(figs.Balances["acct_demo"]) {
		t.Fatalf("restored serve: balance %s, replay of the backup %s", got, figs.Balances["acct_demo"])
	}
	q.stop(syscall.SIGTERM, 30*time.Second)
}

// TestEventsBackupNamesTheOtherStoresTools: on PostgreSQL or KurrentDB the
// command says what backs them up instead.
func TestEventsBackupNamesTheOtherStoresTools(t *testing.T) {
	out, err := runCLIErr(os.Environ(), "events", "backup", "--out", filepath.Join(t.TempDir(), "b"), "--store", "postgres", "--postgres-url", "postgres://nowhere/db")
	if err == nil || !strings.Contains(out, "pg_dump") {
		t.Fatalf("events backup on PostgreSQL: %v\n%s", err, out)
	}
}

// runCLIErr runs a subcommand that may fail, with its stdout and stderr.
func runCLIErr(env []string, args ...string) (string, error) {
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}
