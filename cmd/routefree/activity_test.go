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
)

// OpenRouter's activity from a real serve: the requests of completed UTC
// days, from the SQL read models. Read models as a release without the
// activity table left them (an upgrade) are filled from the first event at
// the next start: the answer is the same, and the usage rows are not
// counted again.
func TestActivityOfAServeAndAfterAnUpgrade(t *testing.T) {
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
	_, owner := issue("--name", "owner", "--management")
	key, _ := issue("--name", "app")

	// Requests of two and three UTC days ago, and of today (not a completed
	// day), recorded as the gateway records them.
	today := time.Now().UTC().Truncate(24 * time.Hour)
	s, err := sqlite.Open(filepath.Join(data, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range []struct {
		at       time.Time
		upstream string
		cost     string
	}{
		{today.AddDate(0, 0, -2).Add(time.Hour), "up-a", "1.25"},
		{today.AddDate(0, 0, -2).Add(20 * time.Hour), "up-a", "0.000020864197523"},
		{today.AddDate(0, 0, -3).Add(time.Hour), "up-b", "2"},
		{today.Add(time.Minute), "up-a", "9"},
	} {
		id := fmt.Sprintf("gen-activity-%d", i)
		d, err := commands.Event(domain.EventID(domain.TypeRequestCompleted, id), r.at, &domain.RequestCompleted{RequestID: id,
			KeyID: key, AccountID: "acct_demo", Model: "routefree/echo", Provider: "openai", Upstream: r.upstream,
			Usage: domain.Usage{Input: 10, Output: 5, Reasoning: 2}, Cost: decimal.RequireFromString(r.cost), StartedAt: r.at,
			Outcome: domain.OutcomeCompleted, Attempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(context.Background(), domain.UsageStream("acct_demo"), eventstore.Any(), d); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	activity := func(p *proc) string {
		t.Helper()
		code, body := httpDo(t, http.MethodGet, p.base+"/api/v1/activity", owner, "")
		if code != http.StatusOK {
			t.Fatalf("GET /api/v1/activity: %d %s", code, body)
		}
		return string(body)
	}
	p := startServe(t, env, store...)
	first := activity(p)
	var r struct {
		Data []struct {
			Date       string  `json:"date"`
			EndpointID string  `json:"endpoint_id"`
			Requests   int64   `json:"requests"`
			Reasoning  int64   `json:"reasoning_tokens"`
			Usage      float64 `json:"usage"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(first), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Data) != 2 || r.Data[0].Date != today.AddDate(0, 0, -2).Format(time.DateOnly) || r.Data[0].EndpointID != "openai/up-a" ||
		r.Data[0].Requests != 2 || r.Data[0].Reasoning != 4 || r.Data[0].Usage != 1.250020864197523 ||
		r.Data[1].EndpointID != "openai/up-b" || r.Data[1].Requests != 1 || r.Data[1].Usage != 2 {
		t.Fatalf("activity %s, want two days ago (two requests on up-a) and three days ago (one on up-b)", first)
	}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}

	// The read models as a release before the activity table left them.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "readmodels.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	usage := func() string {
		t.Helper()
		var n int64
		var cost string
		if err := db.QueryRow(`SELECT sum(requests), group_concat(cost, ' ') FROM usage_daily WHERE account_id = 'acct_demo'`).Scan(&n, &cost); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(n, " requests: ", cost)
	}
	before := usage()
	// Nor the tables of the releases after it.
	for _, q := range []string{`DROP TABLE usage_activity`, `DROP TABLE usage_keys`,
		`DELETE FROM projection_checkpoints WHERE name IN ('activity', 'usage_keys')`,
		`DELETE FROM goose_readmodels_version WHERE version_id >= 3`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	p = startServe(t, env, store...)
	if again := activity(p); again != first {
		t.Errorf("activity after the upgrade:\n%s\nbefore:\n%s", again, first)
	}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	if after := usage(); after != before {
		t.Errorf("the usage rows after the upgrade: %s, before: %s", after, before)
	}
}
