package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// An answer from an OpenAI-compatible host is written out as it came:
// its choices byte for byte, including members RouteFree does not model,
// with the gateway's id, created, model and usage (with its NTD cost)
// around them, and billed from the usage it reported.
func TestUnaryAnswerIsRelayedAsItCame(t *testing.T) {
	const answer = `{
  "id": "chatcmpl-upstream", "object": "chat.completion", "created": 1750000000, "model": "gpt-4.1-2025-04-14",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "台北 <晴>", "refusal": null,
    "annotations": [{"type": "url_citation", "url_citation": {"url": "https://example.com/"}}]},
    "logprobs": null, "finish_reason": "length"}],
  "usage": {"prompt_tokens": 19, "completion_tokens": 28, "total_tokens": 47,
    "prompt_tokens_details": {"cached_tokens": 3, "audio_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 5}},
  "service_tier": "default", "system_fingerprint": "fp_up"
}`
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(up.Close)
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/relay": {{fake: "openai", kind: "openai", baseURL: up.URL + "/v1"}}}})
	before := time.Now().Unix()
	resp, b := h.post(`{"model":"test/relay","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var got struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
		Choices []struct {
			Message      map[string]json.RawMessage `json:"message"`
			FinishReason string                     `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens int             `json:"prompt_tokens"`
			Completion   int             `json:"completion_tokens"`
			Cost         decimal.Decimal `json:"cost"`
		} `json:"usage"`
		SystemFingerprint string          `json:"system_fingerprint"`
		ServiceTier       json.RawMessage `json:"service_tier"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if got.ID != resp.Header.Get("X-Request-Id") || got.Model != "test/relay" || got.Object != "chat.completion" ||
		got.Created < before || got.Created > time.Now().Unix() || got.SystemFingerprint != "fp_up" || got.ServiceTier != nil {
		t.Errorf("answer %s", b)
	}
	if len(got.Choices) != 1 || got.Choices[0].FinishReason != "length" ||
		string(got.Choices[0].Message["content"]) != `"台北 <晴>"` ||
		string(got.Choices[0].Message["annotations"]) != `[{"type": "url_citation", "url_citation": {"url": "https://example.com/"}}]` {
		t.Errorf("choices not as the upstream sent them: %s", b)
	}
	ev := h.onlyCompleted("completed")
	if ev.Usage.Input != 19 || ev.Usage.Output != 28 || ev.Usage.Cached != 3 || ev.Usage.Reasoning != 5 || ev.FinishReason != "length" {
		t.Errorf("billed %+v", ev)
	}
	if got.Usage.PromptTokens != 19 || got.Usage.Completion != 28 || !got.Usage.Cost.Equal(ev.Cost) || !ev.Cost.IsPositive() {
		t.Errorf("usage %+v, billed %s", got.Usage, ev.Cost)
	}
}
