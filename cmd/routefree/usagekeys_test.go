package main

import (
	"encoding/json"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
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
	const model = "routefree/echo"
	_, owner := issueDemoKey(t, env, store, "--name", "owner", "--management")
	_, lead := issueDemoKey(t, env, store, "--name", "lead", "--management", "--models", model)
	within, _ := issueDemoKey(t, env, store, "--name", "within", "--models", model)
	outside, _ := issueDemoKey(t, env, store, "--name", "outside")

	// Requests of the last two Taipei days, recorded as the gateway
	// records them.
	today := time.Now().In(projections.Taipei)
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, projections.Taipei)
	var reqs []domain.RequestCompleted
	for _, r := range []struct {
		key, app string
		at       time.Time
		cost     string
	}{
		{within, "看板", day.AddDate(0, 0, -1).Add(time.Hour), "1.25"},
		{within, "", day.AddDate(0, 0, -1).Add(23 * time.Hour), "0.000020864197523"},
		{outside, "總帳", day.Add(time.Minute), "40"},
	} {
		reqs = append(reqs, domain.RequestCompleted{KeyID: r.key, Model: model, Provider: "openai", Upstream: "up",
			Usage: domain.Usage{Input: 10, Output: 5}, Cost: decimal.RequireFromString(r.cost), StartedAt: r.at, AppTitle: r.app})
	}
	recordRequests(t, data, "gen-usagekeys", reqs)

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
	before, rows := readModelsBefore(t, data, 4, []string{"usage_keys"}, "usage_activity")

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
