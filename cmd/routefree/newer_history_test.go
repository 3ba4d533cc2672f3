package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
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
