package main

import (
	"context"
	"database/sql"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/migrations"
)

// A history that a newer release wrote (an event of a schema version this
// build does not know), met by an older binary rolled back to: serve says
// so and exits, rather than waiting without end for projections that
// cannot apply it, never listening, while its logs repeat the error.
func TestServeRefusesAHistoryNewerThanItself(t *testing.T) {
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "newer history"}))
	dir := t.TempDir()
	prepareDemo(t, env, []string{"--data-dir", dir}, 1_000, "")
	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := eventstore.EventData{ID: domain.EventID("test", "newer"), Type: domain.TypeCreditsToppedUp, SchemaVersion: 99,
		OccurredAt: time.Now().UTC(), Data: []byte(`{"account_id":"acct_demo","amount":"10","method":"bank-transfer","reference":"NEWER-1"}`)}
	if _, err := s.Append(context.Background(), domain.TopUpStream("acct_demo"), eventstore.Any(), d); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	p, up := launchServe(t, env, "--data-dir", dir)
	select {
	case <-up:
		t.Fatalf("serve listens on a history it cannot read at %s", p.base)
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("serve neither served nor exited on a history newer than itself; its logs:\n%s", tail(p.logs.String(), 2048))
	}
	if code := p.cmd.ProcessState.ExitCode(); code == 0 {
		t.Fatalf("serve exited 0 on a history newer than itself")
	}
	logs := p.logs.String()
	if !strings.Contains(logs, "credits.topped_up v99 is newer than this build") || !strings.Contains(logs, "newer release") {
		t.Fatalf("serve did not say why it stopped:\n%s", tail(logs, 2048))
	}
}

// A PostgreSQL schema that a newer release migrated (a goose version this
// build does not have), met by an older binary rolled back to: serve and
// the CLI refuse it, naming both versions, rather than writing to tables
// whose shape they do not know. The event store's migrations and the read
// models' are each checked.
func TestServeRefusesASchemaNewerThanItself(t *testing.T) {
	pg := testenv.PostgresURL(t)
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "newer schema"}))
	store := []string{"--store", "postgres", "--postgres-url", pg}
	p := startServe(t, env, store...)
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	db, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, table := range []string{postgres.VersionTable, migrations.ReadModelsTable} {
		if _, err := db.Exec("INSERT INTO " + table + " (version_id, is_applied) VALUES (99, true)"); err != nil {
			t.Fatal(err)
		}
		p, up := launchServe(t, env, store...)
		select {
		case <-up:
			t.Fatalf("%s at version 99: serve listens at %s", table, p.base)
		case <-p.exited:
		case <-time.After(60 * time.Second):
			t.Fatalf("%s at version 99: serve neither served nor exited; its logs:\n%s", table, tail(p.logs.String(), 2048))
		}
		if code := p.cmd.ProcessState.ExitCode(); code == 0 {
			t.Fatalf("%s at version 99: serve exited 0", table)
		}
		if logs := p.logs.String(); !strings.Contains(logs, "version 99") || !strings.Contains(logs, "newer release") {
			t.Fatalf("%s at version 99: serve did not say why it stopped:\n%s", table, tail(logs, 2048))
		}
		if _, err := db.Exec("DELETE FROM " + table + " WHERE version_id = 99"); err != nil {
			t.Fatal(err)
		}
	}
	// The event store's schema is what every command opens.
	if _, err := db.Exec("INSERT INTO " + postgres.VersionTable + " (version_id, is_applied) VALUES (99, true)"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, append([]string{"accounts", "open", "--organisation", "Newer Schema Ltd", "--plan", "starter"}, store...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "version 99") {
		t.Fatalf("accounts open on a newer schema: %v\n%s", err, out)
	}
	var opened int
	if err := db.QueryRow("SELECT count(*) FROM events WHERE event_type = $1", domain.TypeAccountOpened).Scan(&opened); err != nil {
		t.Fatal(err)
	}
	if opened != 0 {
		t.Fatalf("accounts open on a newer schema recorded %d accounts", opened)
	}
}
