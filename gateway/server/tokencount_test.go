package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// The offline token counter runs on count_tokens and whenever an upstream
// reports no usage. These tests hold it to linear time on input made to
// defeat it (one unbroken word), and hold count_tokens to the key's limits.

// longWord is a megabyte with no break: tiktoken's merge took more than ten
// minutes over it.
var longWord = strings.Repeat("a", 1<<20)

// postWithin sends body to path with the key, and fails the test if the
// answer takes longer than limit.
func postWithin(t *testing.T, url, key, body string, limit time.Duration) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	start := time.Now()
	resp, err := (&http.Client{Timeout: limit}).Do(req)
	if err != nil {
		t.Fatalf("no answer within %s: %v", limit, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer (after %s): %v", time.Since(start), err)
	}
	return resp, b
}

func oneMessage(model, content string, extra string) string {
	c, _ := json.Marshal(content)
	return `{"model":"` + model + `","messages":[{"role":"user","content":` + string(c) + `}]` + extra + `}`
}

func TestCountTokensLongWordIsPrompt(t *testing.T) {
	h := msgHarness(t, harnessOpts{})
	resp, b := postWithin(t, h.http.URL+"/api/v1/messages/count_tokens", h.key,
		oneMessage("claude-sonnet-4-6", longWord, ""), 30*time.Second)
	wantStatus(t, resp, b, 200)
	var r struct {
		InputTokens int `json:"input_tokens"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("body %s", b)
	}
	// At most one token a byte; merged in chunks of at most 256 bytes.
	if r.InputTokens < len(longWord)/256 || r.InputTokens > len(longWord) {
		t.Fatalf("%d tokens for %d bytes", r.InputTokens, len(longWord))
	}
}

func TestCountTokensIsRateLimited(t *testing.T) {
	body := oneMessage("claude-sonnet-4-6", "hi", "")
	t.Run("shares the key's requests per minute", func(t *testing.T) {
		// Starter: 10 requests a minute; the clock stands still.
		h := msgHarness(t, harnessOpts{cfg: Config{Now: frozenClock()}})
		for i := 1; i <= 10; i++ {
			resp, b := h.postMessages("/count_tokens", h.key, body)
			wantStatus(t, resp, b, 200)
			if got := headerInt(t, resp, "X-Ratelimit-Remaining-Requests"); got != int64(10-i) {
				t.Fatalf("count %d: %d requests remaining", i, got)
			}
		}
		resp, b := h.postMessages("/count_tokens", h.key, body)
		wantStatus(t, resp, b, 429)
		m := decodeMap(t, b)
		want(t, m, "type", "error")
		want(t, m, "error.type", "rate_limit_error")
		if resp.Header.Get("Retry-After") != "6" {
			t.Fatalf("Retry-After %q, want 6 (60 s / 10)", resp.Header.Get("Retry-After"))
		}
		// Counting records nothing, refused or not (checked before the chat
		// request below, whose refusal is recorded).
		if len(h.completed()) != 0 || len(h.failed()) != 0 {
			t.Fatalf("count_tokens recorded events: %d completed, %d failed", len(h.completed()), len(h.failed()))
		}
		// The counts took the minute's requests from the key, chat included.
		resp, b = h.post(chatBody("openai/gpt-4.1", 10, false))
		wantStatus(t, resp, b, 429)
	})
	t.Run("holds no credit", func(t *testing.T) {
		h := msgHarness(t, harnessOpts{credit: "0"})
		resp, b := h.postMessages("/count_tokens", h.key, body)
		wantStatus(t, resp, b, 200)
		h.heldIsZero()
	})
}

// TestCutStreamWithLongWordIsBilledPromptly: a stream cut short is billed
// by counting its input offline. With a megabyte-long word as the prompt,
// the count must not hold the bill back.
func TestCutStreamWithLongWordIsBilledPromptly(t *testing.T) {
	bigTPM := domain.PlanChanged{Plan: domain.PlanEnterprise, RPM: 100, TPM: 10_000_000}
	body := oneMessage("test/openai", longWord, `,"max_tokens":1000,"stream":true`)
	checkEvent := func(t *testing.T, h *harness, outcome string) {
		t.Helper()
		e := h.onlyCompleted(outcome)
		if !e.Usage.Estimated || e.Usage.Input < int64(len(longWord)/256) || e.Usage.Input > int64(len(longWord)) || !e.Cost.IsPositive() {
			t.Fatalf("event %+v", e)
		}
	}
	t.Run("client gone", func(t *testing.T) {
		h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
			"openai": {Text: "a b c d e f g h i j", Chunks: 10, ChunkDelay: 200 * time.Millisecond},
		}})
		h.changePlan(bigTPM)
		resp, _ := openStream(t, h.http.URL, h.key, body)
		resp.Body.Close()
		// eventually gives it 10 s: the count of a megabyte is well within.
		eventually(t, "the cut stream's request.completed event", func() bool { return len(h.completed()) == 1 })
		checkEvent(t, h, domain.OutcomeClientDisconnected)
	})
	t.Run("upstream broke", func(t *testing.T) {
		h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
			"openai": {Text: "one two three four", Chunks: 4, CutAfter: 2},
		}})
		h.changePlan(bigTPM)
		// The stream's end waits for the event: it comes promptly too.
		resp, b := postWithin(t, h.http.URL+"/api/v1/chat/completions", h.key, body, 30*time.Second)
		wantStatus(t, resp, b, 200)
		checkEvent(t, h, domain.OutcomeUpstreamBrokeMid)
	})
}

// A key limited to some models was counted tokens for any model of the
// catalog: count_tokens checked the key but not its models, where
// /messages itself refuses them.
func TestCountTokensKeepsToTheKeysModels(t *testing.T) {
	h := msgHarness(t, harnessOpts{})
	_, secret, err := h.cmds.IssueKey(context.Background(), domain.KeyIssued{AccountID: h.account, Name: "gpt only", Models: []string{"openai/gpt-4.1"}})
	if err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	for _, model := range []string{"claude-sonnet-4-6", "anthropic/claude-sonnet-4.6"} {
		resp, b := h.postMessages("", secret, oneMessage(model, "hi", `,"max_tokens":10`))
		wantStatus(t, resp, b, 403)
		resp, b = h.postMessages("/count_tokens", secret, oneMessage(model, "hi", ""))
		wantStatus(t, resp, b, 403)
		m := decodeMap(t, b)
		want(t, m, "type", "error")
		want(t, m, "error.type", "permission_error")
		want(t, m, "error.metadata.model", "anthropic/claude-sonnet-4.6")
	}
	resp, b := h.postMessages("/count_tokens", secret, oneMessage("openai/gpt-4.1", "hi", ""))
	wantStatus(t, resp, b, 200)
}
