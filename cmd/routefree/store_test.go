package main

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/internal/testenv"
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

// On PostgreSQL likewise: a schema without a store (the search_path
// forgotten, so public, or mistyped as another existing schema) is refused
// by every command but serve and events generate, which would otherwise
// make a store there and open accounts in it or report its empty history
// as verified; the schema is left without a table.
func TestCommandsRefuseAPostgresSchemaWithoutAStore(t *testing.T) {
	pg := testenv.PostgresURL(t)
	env := baseEnv("http://127.0.0.1:1/v1")
	store := []string{"--store", "postgres", "--postgres-url", pg}
	for _, args := range [][]string{
		{"events", "verify"},
		{"replay"},
		{"staff", "issue", "--role", "admin"},
		{"accounts", "open", "--organisation", "Typo"},
		{"invoices", "list"},
	} {
		cmd := exec.Command(binary, append(args, store...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "no event store in PostgreSQL schema") || strings.Contains(string(out), "rf-staff-") {
			t.Fatalf("routefree %s on a schema without a store: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	db, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRow("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Fatalf("refused commands made %d tables in the schema", tables)
	}
	// serve makes the store; the commands then run.
	p := startServe(t, env, store...)
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	if out := runCLI(t, env, append([]string{"events", "verify"}, store...)...); !strings.Contains(out, "OK ") {
		t.Fatalf("events verify after serve made the store: %s", out)
	}
}

// A serve given a PostgreSQL (or KurrentDB) URL but not --store (the
// variable set, ROUTEFREE_STORE forgotten) begins a new SQLite store in
// its data directory, a history of its own beside the shared one: it says
// so, naming the setting that would use the URL.
func TestServeBeginningASQLiteStoreWithAPostgresURLSaysSo(t *testing.T) {
	env := append(baseEnv("http://127.0.0.1:1/v1"), "ROUTEFREE_POSTGRES_URL=postgres://routefree@db.example:5432/routefree")
	p := startServe(t, env, "--data-dir", filepath.Join(t.TempDir(), "data"))
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	if logs := p.logs.String(); !strings.Contains(logs, "--store postgres") || !strings.Contains(logs, "new SQLite store") {
		t.Fatalf("serve began a SQLite store with a PostgreSQL URL set, and said nothing of it:\n%s", tail(logs, 2048))
	}
}
