package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// issueDemoKey issues a key of acct_demo with the CLI (args: its name,
// scope and limits) and returns its ID and secret.
func issueDemoKey(t *testing.T, env, store []string, args ...string) (id, secret string) {
	t.Helper()
	out := runCLI(t, env, append(append([]string{"keys", "issue", "--account", "acct_demo"}, args...), store...)...)
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "key id:"); ok {
			id = strings.TrimSpace(v)
		} else if v, ok := strings.CutPrefix(line, "key:"); ok {
			secret = strings.TrimSpace(v)
		}
	}
	if id == "" || secret == "" {
		t.Fatalf("keys issue printed no key:\n%s", out)
	}
	return id, secret
}

// recordRequests appends completed requests of acct_demo to the SQLite
// store in dataDir, as the gateway records them, each under the request ID
// prefix-i, at its StartedAt.
func recordRequests(t *testing.T, dataDir, prefix string, reqs []domain.RequestCompleted) {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(dataDir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, rc := range reqs {
		rc.RequestID = fmt.Sprintf("%s-%d", prefix, i)
		rc.AccountID, rc.Outcome, rc.Attempts = "acct_demo", domain.OutcomeCompleted, 1
		d, err := commands.Event(domain.EventID(domain.TypeRequestCompleted, rc.RequestID), rc.StartedAt, &rc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(context.Background(), domain.UsageStream("acct_demo"), eventstore.Any(), d); err != nil {
			t.Fatal(err)
		}
	}
}

// readModelsBefore makes the read models in dataDir look as a release
// before the given tables left them (an upgrade to come): the tables, their
// checkpoints and their migrations (fromMigration on) gone. It returns a
// reading of the usage rows an upgrade must not count again (usage_daily,
// and the kept tables named in also), and that reading before.
func readModelsBefore(t *testing.T, dataDir string, fromMigration int, tables []string, also ...string) (before string, rows func() string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "readmodels.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rows = func() string {
		t.Helper()
		var n int64
		var cost string
		if err := db.QueryRow(`SELECT sum(requests), group_concat(cost, ' ') FROM usage_daily WHERE account_id = 'acct_demo'`).Scan(&n, &cost); err != nil {
			t.Fatal(err)
		}
		out := fmt.Sprint(n, " requests: ", cost)
		for _, table := range also {
			var m int64
			if err := db.QueryRow(`SELECT sum(requests) FROM ` + table + ` WHERE account_id = 'acct_demo'`).Scan(&m); err != nil {
				t.Fatal(err)
			}
			out += fmt.Sprint("; ", table, ": ", m)
		}
		return out
	}
	before = rows()
	for _, table := range tables {
		if _, err := db.Exec(`DROP TABLE ` + table); err != nil {
			t.Fatalf("drop %s: %v", table, err)
		}
	}
	for _, table := range tables {
		if _, err := db.Exec(`DELETE FROM projection_checkpoints WHERE name = ?`, checkpointOf[table]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`DELETE FROM goose_readmodels_version WHERE version_id >= ?`, fromMigration); err != nil {
		t.Fatal(err)
	}
	return before, rows
}

// checkpointOf names the checkpoint of each read model table added since
// the first release.
var checkpointOf = map[string]string{"usage_activity": "activity", "usage_keys": "usage_keys"}
