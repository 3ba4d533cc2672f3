package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routefree/routefree/eventstore/sqlite"
)

// storeDir returns a data directory holding an empty SQLite store, as
// serve leaves one: the CLI's commands refuse a directory without one.
func storeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Every command but serve and events generate refuses a data directory
// without a store, and leaves it as it was.
func TestCommandsRefuseAMissingStore(t *testing.T) {
	typo := filepath.Join(t.TempDir(), "typo")
	for _, args := range [][]string{
		{"events", "verify"},
		{"events", "export"},
		{"replay"},
		{"staff", "list"},
		{"staff", "issue", "--role", "admin"},
		{"accounts", "open", "--organisation", "Typo"},
		{"accounts", "show", "--account", "acct_x"},
		{"keys", "issue", "--account", "acct_x"},
		{"invoices", "list"},
	} {
		refusedCLI(t, "no event store at "+filepath.Join(typo, "events.db"), append(args, "--data-dir", typo)...)
	}
	if _, err := os.Stat(typo); !os.IsNotExist(err) {
		t.Fatalf("a refused command made %s: %v", typo, err)
	}

	// The default ./data, in a directory that has none: its full path is named.
	elsewhere := t.TempDir()
	t.Chdir(elsewhere)
	code, out, errs := cli(t, "staff", "issue", "--role", "admin")
	if code == 0 || strings.Contains(out, "rf-staff-") || !strings.Contains(errs, filepath.Join(elsewhere, "data", "events.db")) {
		t.Fatalf("staff issue without a store: exit %d\nstdout %q\nstderr %q", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(elsewhere, "data")); !os.IsNotExist(err) {
		t.Fatalf("staff issue made ./data: %v", err)
	}

	// events generate begins a history.
	fresh := filepath.Join(t.TempDir(), "fresh")
	mustCLI(t, "events", "generate", "--events", "30", "--accounts", "1", "--data-dir", fresh)
	if out := mustCLI(t, "events", "verify", "--data-dir", fresh); !strings.Contains(out, "OK 30 events") {
		t.Fatalf("verify after generate: %q", out)
	}
}
