package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/projections"
)

// OpenRouter's GET /api/v1/activity for a management key: the account's
// usage on the last 30 completed UTC days, a row per day, model and
// upstream, in OpenRouter's field names and JSON types; ?date= and
// ?api_key_hash= filter; today (not completed), older days, other accounts
// and other keys stay out. The rows come from the SQL activity model, on
// SQLite and on PostgreSQL.
func TestOpenRouterActivity(t *testing.T) {
	for _, d := range []projections.Dialect{projections.SQLite, projections.Postgres} {
		t.Run(string(d), func(t *testing.T) { testOpenRouterActivity(t, newEnvOn(t, d)) })
	}
}

func testOpenRouterActivity(t *testing.T, e *env) {
	e.openAccount("acct_act", "活動公司", domain.PlanStarter)
	e.openAccount("acct_else", "別的公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_act", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	keyA, plain := e.issueKey("acct_act")
	keyB, _ := e.issueKey("acct_act")
	keyElse, _ := e.issueKey("acct_else")
	m1, m2 := e.cat.IDs()[0], e.cat.IDs()[1]
	req := func(acct, key, model, provider, upstream string, at time.Time, in, out, reasoning int64, cost string) {
		t.Helper()
		rc := &domain.RequestCompleted{RequestID: "gen-" + uuid.NewString(), KeyID: key, AccountID: acct, Model: model,
			Provider: provider, Upstream: upstream, Usage: domain.Usage{Input: in, Output: out, Reasoning: reasoning},
			Cost: decimal.RequireFromString(cost), StartedAt: at.UTC(), Outcome: domain.OutcomeCompleted, Attempts: 1}
		d, err := commands.Event(uuid.New(), at, rc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.cap.Append(e.ctx, domain.UsageStream(acct), eventstore.Any(), d); err != nil {
			t.Fatal(err)
		}
	}
	tw := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, projections.Taipei) }
	// testNow is 15 March 10:00 in Taipei, 02:00 UTC: UTC's 15 March is today.
	req("acct_act", keyA, m1, "openai", "gpt-up", tw(14, 20), 100, 50, 10, "1.25")    // UTC 14 March
	req("acct_act", keyA, m1, "openai", "gpt-up", tw(15, 7), 200, 100, 0, "2.5")      // UTC 14 March (Taipei's 15th)
	req("acct_act", keyB, m1, "azure-openai", "gpt-az", tw(14, 9), 10, 5, 0, "0.125") // UTC 14 March, another upstream
	req("acct_act", keyB, m2, "anthropic", "claude-up", tw(13, 12), 7, 3, 0, "0.5")   // UTC 13 March
	req("acct_act", keyA, m1, "openai", "gpt-up", tw(15, 9), 1, 1, 0, "9")            // UTC 15 March: today
	req("acct_act", keyA, m1, "openai", "gpt-up", tw(15, 9).AddDate(0, 0, -40), 1, 1, 0, "9")
	req("acct_else", keyElse, m1, "openai", "gpt-up", tw(14, 20), 1, 1, 0, "9")
	e.sync()

	get := func(query string) []map[string]any {
		t.Helper()
		code, b := e.call("GET", "/api/v1/activity"+query, mgmt, nil)
		if code != http.StatusOK {
			t.Fatalf("activity%s: %d %s", query, code, b)
		}
		var r struct {
			Data []map[string]any `json:"data"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return r.Data
	}
	rows := get("")
	if len(rows) != 3 {
		t.Fatalf("rows %v, want three (14 March × two upstreams, 13 March)", rows)
	}
	strs := []string{"date", "model", "model_permaslug", "endpoint_id", "provider_name"}
	nums := []string{"usage", "byok_usage_inference", "requests", "prompt_tokens", "completion_tokens", "reasoning_tokens"}
	for _, r := range rows {
		for _, f := range strs {
			if _, ok := r[f].(string); !ok {
				t.Errorf("%s is %T, want a string: %v", f, r[f], r)
			}
		}
		for _, f := range nums {
			if _, ok := r[f].(float64); !ok {
				t.Errorf("%s is %T, want a number: %v", f, r[f], r)
			}
		}
	}
	want := []map[string]any{
		{"date": "2026-03-14", "model": m1, "endpoint_id": "azure-openai/gpt-az", "provider_name": "azure-openai", "usage": 0.125, "requests": 1.0, "prompt_tokens": 10.0, "completion_tokens": 5.0, "reasoning_tokens": 0.0},
		{"date": "2026-03-14", "model": m1, "endpoint_id": "openai/gpt-up", "provider_name": "openai", "usage": 3.75, "requests": 2.0, "prompt_tokens": 300.0, "completion_tokens": 150.0, "reasoning_tokens": 10.0},
		{"date": "2026-03-13", "model": m2, "endpoint_id": "anthropic/claude-up", "provider_name": "anthropic", "usage": 0.5, "requests": 1.0, "prompt_tokens": 7.0, "completion_tokens": 3.0, "reasoning_tokens": 0.0},
	}
	for i, w := range want {
		for k, v := range w {
			if rows[i][k] != v {
				t.Errorf("row %d %s = %v, want %v (%v)", i, k, rows[i][k], v, rows[i])
			}
		}
	}

	if rows := get("?date=2026-03-13"); len(rows) != 1 || rows[0]["model"] != m2 {
		t.Errorf("one day: %v", rows)
	}
	if rows := get("?api_key_hash=" + keyA); len(rows) != 1 || rows[0]["requests"] != 2.0 || rows[0]["endpoint_id"] != "openai/gpt-up" {
		t.Errorf("one key: %v", rows)
	}
	for _, bad := range []string{"?date=2026-03-15", "?date=2026-02-01", "?date=14-03-2026"} {
		if code, b := e.call("GET", "/api/v1/activity"+bad, mgmt, nil); code != http.StatusBadRequest {
			t.Errorf("activity%s: %d %s, want 400", bad, code, b)
		}
	}
	if code, _ := e.call("GET", "/api/v1/activity?api_key_hash="+keyElse, mgmt, nil); code != http.StatusNotFound {
		t.Errorf("another account's key: %d, want 404", code)
	}
	if code, _ := e.call("GET", "/api/v1/activity", plain, nil); code != http.StatusForbidden {
		t.Errorf("an inference key: %d, want 403", code)
	}
	if code, _ := e.call("GET", "/api/v1/activity", "", nil); code != http.StatusUnauthorized {
		t.Errorf("no key: %d, want 401", code)
	}
}

// The activity's window is the 30 completed UTC days before the console's
// clock: a request another instance records as started after the clock's
// today (its clock ahead) leaves the window's first day in the answer.
func TestOpenRouterActivityWindowFollowsTheClock(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_win", "窗口公司", domain.PlanStarter)
	e.openAccount("acct_ahead", "超前公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_win", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := e.issueKey("acct_win")
	keyAhead, _ := e.issueKey("acct_ahead")
	m := e.cat.IDs()[0]
	req := func(acct, key string, at time.Time, cost string) {
		t.Helper()
		rc := &domain.RequestCompleted{RequestID: "gen-" + uuid.NewString(), KeyID: key, AccountID: acct, Model: m,
			Provider: "openai", Upstream: "gpt-up", Usage: domain.Usage{Input: 3, Output: 2}, Cost: decimal.RequireFromString(cost),
			StartedAt: at.UTC(), Outcome: domain.OutcomeCompleted, Attempts: 1}
		d, err := commands.Event(uuid.New(), at, rc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.cap.Append(e.ctx, domain.UsageStream(acct), eventstore.Any(), d); err != nil {
			t.Fatal(err)
		}
	}
	from, _ := projections.ActivityWindow(e.clock.Now())
	first, err := time.Parse(time.DateOnly, from)
	if err != nil {
		t.Fatal(err)
	}
	req("acct_win", key, first.Add(6*time.Hour), "1.5")
	tomorrow := e.clock.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	req("acct_ahead", keyAhead, tomorrow.Add(time.Minute), "0.25")
	e.sync()

	code, b := e.call("GET", "/api/v1/activity", mgmt, nil)
	if code != http.StatusOK {
		t.Fatalf("activity: %d %s", code, b)
	}
	var r struct {
		Data []ActivityRow `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Data) != 1 || r.Data[0].Date != from || r.Data[0].Usage != 1.5 || r.Data[0].Requests != 1 {
		t.Fatalf("activity %s, want the request of %s, the window's first day", b, from)
	}
	if code, b := e.call("GET", "/api/v1/activity?date="+from, mgmt, nil); code != http.StatusOK || !strings.Contains(string(b), `"requests":1`) {
		t.Errorf("activity?date=%s: %d %s, want its request", from, code, b)
	}
}
