package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/projections"
)

// The usage report of a real serve, by key and by app, from the SQL read
// models: a management key limited to a model reads its keys' requests
// alone, the owner's unlimited key every key's. Read models as a release
// without the usage_keys table left them (an upgrade) are filled from the
// first event at the next start: the answers are the same, and the other
// usage rows are not counted again.
func TestUsageByKeyOfAServeAndAfterAnUpgrade(t *testing.T) {
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "ok"}))
	data := t.TempDir()
	store := []string{"--data-dir", data}
	prepareDemo(t, env, store, 1000, "")
	issue := func(args ...string) (id, secret string) {
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
	const model = "routefree/echo"
	_, owner := issue("--name", "owner", "--management")
	_, lead := issue("--name", "lead", "--management", "--models", model)
	within, _ := issue("--name", "within", "--models", model)
	outside, _ := issue("--name", "outside")

	// Requests of the last two Taipei days, recorded as the gateway
	// records them.
	today := time.Now().In(projections.Taipei)
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, projections.Taipei)
	s, err := sqlite.Open(filepath.Join(data, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range []struct {
		key, app string
		at       time.Time
		cost     string
	}{
		{within, "看板", day.AddDate(0, 0, -1).Add(time.Hour), "1.25"},
		{within, "", day.AddDate(0, 0, -1).Add(23 * time.Hour), "0.000020864197523"},
		{outside, "總帳", day.Add(time.Minute), "40"},
	} {
		id := fmt.Sprintf("gen-usagekeys-%d", i)
		d, err := commands.Event(domain.EventID(domain.TypeRequestCompleted, id), r.at, &domain.RequestCompleted{RequestID: id,
			KeyID: r.key, AccountID: "acct_demo", Model: model, Provider: "openai", Upstream: "up",
			Usage: domain.Usage{Input: 10, Output: 5}, Cost: decimal.RequireFromString(r.cost), StartedAt: r.at,
			Outcome: domain.OutcomeCompleted, Attempts: 1, AppTitle: r.app})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(context.Background(), domain.UsageStream("acct_demo"), eventstore.Any(), d); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	path := "/admin/api/accounts/acct_demo/usage?from=" + day.AddDate(0, 0, -1).Format(time.DateOnly) + "&to=" + day.Format(time.DateOnly)
	usage := func(p *proc, who string) string {
		t.Helper()
		code, body := httpDo(t, http.MethodGet, p.base+path, who, "")
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		return string(body)
	}
	type report struct {
		Data struct {
			Total struct{ Requests int64 }
			Keys  []struct {
				KeyID string `json:"key_id"`
				Cost  decimal.Decimal
			} `json:"by_key"`
			Apps []struct {
				Name string
				Cost decimal.Decimal
			} `json:"by_app"`
		}
	}
	p := startServe(t, env, store...)
	first, limited := usage(p, owner), usage(p, lead)
	var all, some report
	if err := json.Unmarshal([]byte(first), &all); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(limited), &some); err != nil {
		t.Fatal(err)
	}
	if d := all.Data; d.Total.Requests != 3 || len(d.Keys) != 2 || d.Keys[0].KeyID != outside || d.Keys[1].KeyID != within ||
		!d.Keys[1].Cost.Equal(decimal.RequireFromString("1.250020864197523")) || len(d.Apps) != 3 || d.Apps[0].Name != "總帳" {
		t.Fatalf("the owner's usage %s, want three requests of two keys and three apps", first)
	}
	if d := some.Data; d.Total.Requests != 2 || len(d.Keys) != 1 || d.Keys[0].KeyID != within || len(d.Apps) != 2 {
		t.Fatalf("the limited lead's usage %s, want the two requests of the key within its limits", limited)
	}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}

	// The read models as a release before the usage_keys table left them.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "readmodels.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := func() string {
		t.Helper()
		var n int64
		var cost string
		if err := db.QueryRow(`SELECT sum(requests), group_concat(cost, ' ') FROM usage_daily WHERE account_id = 'acct_demo'`).Scan(&n, &cost); err != nil {
			t.Fatal(err)
		}
		var act int64
		if err := db.QueryRow(`SELECT sum(requests) FROM usage_activity WHERE account_id = 'acct_demo'`).Scan(&act); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(n, " requests: ", cost, "; activity: ", act)
	}
	before := rows()
	for _, q := range []string{`DROP TABLE usage_keys`, `DELETE FROM projection_checkpoints WHERE name = 'usage_keys'`,
		`DELETE FROM goose_readmodels_version WHERE version_id = 4`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	p = startServe(t, env, store...)
	if again := usage(p, owner); again != first {
		t.Errorf("the owner's usage after the upgrade:\n%s\nbefore:\n%s", again, first)
	}
	if again := usage(p, lead); again != limited {
		t.Errorf("the lead's usage after the upgrade:\n%s\nbefore:\n%s", again, limited)
	}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	if after := rows(); after != before {
		t.Errorf("the other usage rows after the upgrade: %s, before: %s", after, before)
	}
}
