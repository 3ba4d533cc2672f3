package main

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// An auditor verifies a backup where it is kept (write-once media, a
// read-only share): `events verify --backup FILE` reads the copy without
// writing a byte of it or beside it (no lock, no -wal or -shm file), says
// OK with the backup's own count and chain head, and FAIL naming the
// position of an edited event. Verifying the copy as a data directory
// opened it for writing: refused on read-only media, and it left files.
func TestAuditorVerifiesABackupWithoutWritingIt(t *testing.T) {
	dir := t.TempDir()
	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+dir)
	runCLI(t, env, "events", "generate", "--events", "400", "--accounts", "5")
	vault := t.TempDir()
	backup := filepath.Join(vault, "routefree.db")
	made := runCLI(t, env, "events", "backup", "--out", backup)
	_, head, _ := strings.Cut(made, "chain head ")
	head = strings.Fields(head)[0]
	if err := os.Chmod(backup, 0o400); err != nil {
		t.Fatal(err)
	}
	listing := func() ([]string, [32]byte) {
		t.Helper()
		ents, err := os.ReadDir(vault)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		b, err := os.ReadFile(backup)
		if err != nil {
			t.Fatal(err)
		}
		return names, sha256.Sum256(b)
	}
	names, sum := listing()
	st, _ := os.Stat(backup)

	out := runCLI(t, env, "events", "verify", "--backup", backup)
	if !strings.Contains(out, "OK 400 events, chain head "+head) {
		t.Fatalf("verify --backup printed:\n%s", out)
	}
	after, sumAfter := listing()
	st2, _ := os.Stat(backup)
	if !slices.Equal(names, after) || sum != sumAfter || !st.ModTime().Equal(st2.ModTime()) {
		t.Fatalf("verifying the backup changed its folder or its bytes: %v → %v", names, after)
	}

	// Replayed where it is kept, it gives the figures of the store it was
	// copied from, and is left as it was.
	replayed := runCLI(t, env, "replay", "--backup", backup)
	if !strings.Contains(replayed, "HASH CHAIN  OK  400 events") {
		t.Fatalf("replay --backup printed:\n%s", replayed)
	}
	if live := runCLI(t, env, "replay"); live != replayed {
		t.Fatalf("replay of the backup differs from the store's:\n%s\n---\n%s", replayed, live)
	}
	after, sumAfter = listing()
	if !slices.Equal(names, after) || sum != sumAfter {
		t.Fatalf("replaying the backup changed its folder or its bytes: %v → %v", names, after)
	}

	// An edited copy fails, naming the event.
	edited := filepath.Join(t.TempDir(), "edited.db")
	b, _ := os.ReadFile(backup)
	if err := os.WriteFile(edited, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+edited)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE events SET data = replace(data, '"cost":"', '"cost":"1') WHERE position = 200`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	cmd := exec.Command(binary, "events", "verify", "--backup", edited)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var exit *exec.ExitError
	if err := cmd.Run(); !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stdout.String(), "FAIL") ||
		!strings.Contains(stdout.String(), "position 200") {
		t.Fatalf("verify --backup of an edited copy: %v\n%s%s", err, stdout.String(), stderr.String())
	}

	// A file that is no store is said to be none.
	junk := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(junk, []byte("not a database"), 0o600)
	if out, err := runCLIErr(env, "events", "verify", "--backup", junk); err == nil || !strings.Contains(out, "not a RouteFree event store") {
		t.Fatalf("verify --backup of a text file: %v\n%s", err, out)
	}
}
