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
	_, owner := issueDemoKey(t, env, store, "--name", "owner", "--management")
	key, _ := issueDemoKey(t, env, store, "--name", "app")

	// Requests of two and three UTC days ago, and of today (not a completed
	// day), recorded as the gateway records them.
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var reqs []domain.RequestCompleted
	for _, r := range []struct {
		at       time.Time
		upstream string
		cost     string
	}{
		{today.AddDate(0, 0, -2).Add(time.Hour), "up-a", "1.25"},
		{today.AddDate(0, 0, -2).Add(20 * time.Hour), "up-a", "0.000020864197523"},
		{today.AddDate(0, 0, -3).Add(time.Hour), "up-b", "2"},
		{today.Add(time.Minute), "up-a", "9"},
	} {
		reqs = append(reqs, domain.RequestCompleted{KeyID: key, Model: "routefree/echo", Provider: "openai", Upstream: r.upstream,
			Usage: domain.Usage{Input: 10, Output: 5, Reasoning: 2}, Cost: decimal.RequireFromString(r.cost), StartedAt: r.at})
	}
	recordRequests(t, data, "gen-activity", reqs)

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

	// The read models as a release before the activity table left them
	// (nor the tables of the releases after it).
	before, usage := readModelsBefore(t, data, 3, []string{"usage_activity", "usage_keys"})

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
