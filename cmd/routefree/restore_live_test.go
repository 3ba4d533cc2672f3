package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// TestServeRefusesToBillIntoAStoreRestoredUnderIt: an operator restores a
// backup as the README says (events.db and its WAL moved out, the backup
// copied in) but without stopping serve first. The serve still has the
// moved file open: what it billed there would be in no store it or any
// command opens again. So it refuses to bill (503) rather than answer
// requests whose usage is recorded nowhere, and stops (a supervisor starts
// it again); a serve started on the restored store serves it.
func TestServeRefusesToBillIntoAStoreRestoredUnderIt(t *testing.T) {
	up := fakeUpstream(t, providertest.Script{Text: "restored live", Chunks: 2})
	env := baseEnv(up)
	dir := t.TempDir()
	store := []string{"--data-dir", dir}
	key := prepareDemo(t, env, store, 100000, "1000")
	p := startServe(t, env, store...)
	for range 3 {
		if st := chatStatus(p.base, key); st != http.StatusOK {
			t.Fatalf("before the restore: %d", st)
		}
	}
	backup := filepath.Join(t.TempDir(), "routefree.backup")
	runCLI(t, env, append([]string{"events", "backup", "--out", backup}, store...)...)

	moved := t.TempDir()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		name := "events.db" + suffix
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(moved, name)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "events.db"), b, 0o600); err != nil {
		t.Fatal(err)
	}

	var answered []string
	for range 5 {
		o := chat(context.Background(), p.base, key, false, 16)
		switch o.status {
		case http.StatusOK:
			answered = append(answered, o.id)
		case http.StatusServiceUnavailable:
		case 0: // stopped meanwhile
		default:
			t.Fatalf("after the restore: status %d", o.status)
		}
	}
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("serve serves on with its store replaced under it")
	}
	if code := p.cmd.ProcessState.ExitCode(); code == 0 {
		t.Fatal("serve exited 0 with its store replaced under it")
	}

	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	billed := completedEvents(t, s)
	s.Close()
	for _, id := range answered {
		if billed[id] != 1 {
			t.Fatalf("request %s was answered after the restore, and the restored store bills it %d times (%d answered)", id, billed[id], len(answered))
		}
	}
	if !strings.Contains(p.logs.String(), "replaced") {
		t.Fatalf("serve did not say that its store was replaced:\n%s", tail(p.logs.String(), 2048))
	}

	p = startServe(t, env, store...)
	if st := chatStatus(p.base, key); st != http.StatusOK {
		t.Fatalf("a serve on the restored store: %d", st)
	}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
}
