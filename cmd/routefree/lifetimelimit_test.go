package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// A key created through OpenRouter's POST /api/v1/keys with a limit and no
// limit_reset, or limit_reset null, has a limit that never resets, as
// OpenRouter's has: a total for the key's life. Its answer says limit_reset
// null, what it has left is its limit less all it ever spent, and a key
// that spent its limit in an earlier month is refused this month with a
// 402 key_spend_limit that gives no time of reset. It reset monthly: a key
// capped at NT$1 in all could spend NT$1 every month.
func TestAKeyLimitWithoutResetIsATotalForTheKeysLife(t *testing.T) {
	s := startSelfServe(t)
	type keyAnswer struct {
		Data map[string]json.RawMessage `json:"data"`
		Key  string                     `json:"key"`
	}
	field := func(what string, a keyAnswer, name, want string) {
		t.Helper()
		if got := string(a.Data[name]); got != want {
			t.Errorf("%s: %s is %s, want %s", what, name, got, want)
		}
	}
	var omitted, null keyAnswer
	if code := s.do(http.MethodPost, "/api/v1/keys", s.owner, map[string]any{"name": "contractor", "limit": 1}, &omitted); code != http.StatusCreated {
		t.Fatalf("POST a limit without limit_reset: %d %v", code, omitted.Data)
	}
	if code := s.do(http.MethodPost, "/api/v1/keys", s.owner, map[string]any{"name": "explicit", "limit": 2, "limit_reset": nil}, &null); code != http.StatusCreated {
		t.Fatalf("POST a limit with limit_reset null: %d %v", code, null.Data)
	}
	for what, a := range map[string]keyAnswer{"created without limit_reset": omitted, "created with limit_reset null": null} {
		field(what, a, "limit_reset", "null")
		field(what, a, "limit_period", `"never"`)
	}
	field("created without limit_reset", omitted, "limit", "1")
	field("created without limit_reset", omitted, "limit_remaining", "1")
	var hash string
	_ = json.Unmarshal(omitted.Data["hash"], &hash)

	// The key spent its limit last month (the day before this Taipei
	// month began), as the gateway records a request.
	lastMonth := projections.PeriodStart(projections.PeriodMonthly, time.Now()).AddDate(0, 0, -1)
	recordRequests(t, s.store[1], "gen-lifetime", []domain.RequestCompleted{{KeyID: hash, Model: "routefree/echo", Provider: "openai",
		Upstream: "up", Usage: domain.Usage{Input: 10, Output: 5}, Cost: decimal.NewFromInt(1), StartedAt: lastMonth}})
	var self struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if code := s.do(http.MethodGet, "/api/v1/key", omitted.Key, nil, &self); code != http.StatusOK {
			t.Fatalf("GET /api/v1/key: %d", code)
		}
		if string(self.Data["usage"]) == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the serve never counted last month's request: %v", self.Data)
		}
	}
	for name, want := range map[string]string{"limit": "1", "limit_remaining": "0", "limit_reset": "null", "usage_monthly": "0", "spend_limit_period": `"never"`} {
		if got := string(self.Data[name]); got != want {
			t.Errorf("GET /api/v1/key: %s is %s, want %s", name, got, want)
		}
	}
	var listed keyAnswer
	if code := s.do(http.MethodGet, "/api/v1/keys/"+hash, s.owner, nil, &listed); code != http.StatusOK {
		t.Fatalf("GET /api/v1/keys/{hash}: %d", code)
	}
	field("GET /api/v1/keys/{hash}", listed, "limit_remaining", "0")
	field("GET /api/v1/keys/{hash}", listed, "limit_reset", "null")

	// This month the key is refused: its limit is spent for good.
	req, _ := http.NewRequest(http.MethodPost, s.p.base+"/api/v1/chat/completions",
		strings.NewReader(`{"model":"routefree/echo","max_tokens":16,"messages":[{"role":"user","content":"hello"}]}`))
	req.Header.Set("Authorization", "Bearer "+omitted.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var e struct {
		Error struct {
			Message  string                     `json:"message"`
			Metadata map[string]json.RawMessage `json:"metadata"`
		} `json:"error"`
	}
	if resp.StatusCode != http.StatusPaymentRequired || json.Unmarshal(body, &e) != nil || string(e.Error.Metadata["cause"]) != `"key_spend_limit"` {
		t.Fatalf("a request of a key that spent its lifetime limit last month: %d %s, want 402 key_spend_limit", resp.StatusCode, body)
	}
	if reset, ok := e.Error.Metadata["limit_reset"]; !ok || string(reset) != "null" {
		t.Errorf("402: limit_reset %s, want null", reset)
	}
	if at, ok := e.Error.Metadata["resets_at"]; ok {
		t.Errorf("402: resets_at %s for a limit that never resets", at)
	}
	if !strings.Contains(e.Error.Message, "never resets") || strings.Contains(e.Error.Message, "resets at") {
		t.Errorf("402 message: %q", e.Error.Message)
	}
}
