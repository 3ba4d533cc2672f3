package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// choicesUpstream is an OpenAI-shaped upstream that honours n: it answers n
// choices, each writing to max_tokens, and reports their usage as OpenAI
// does (the prompt once, the completions of every choice summed).
func choicesUpstream(t *testing.T, promptTokens int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req struct {
			N         *int `json:"n"`
			MaxTokens int  `json:"max_tokens"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		n := 1
		if req.N != nil {
			n = *req.N
		}
		choices := make([]map[string]any, n)
		for i := range choices {
			choices[i] = map[string]any{"index": i, "finish_reason": "length",
				"message": map[string]any{"role": "assistant", "content": fmt.Sprintf("answer %d", i)}}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-n", "object": "chat.completion", "created": 1, "model": "up", "choices": choices,
			"usage": map[string]any{"prompt_tokens": promptTokens, "completion_tokens": n * req.MaxTokens,
				"total_tokens": promptTokens + n*req.MaxTokens},
		})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// choicesHarness serves test/n from choicesUpstream, with NT$1 of credit.
func choicesHarness(t *testing.T) (*harness, *atomic.Int32) {
	up, calls := choicesUpstream(t, 12)
	h := newHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{"test/n": {{fake: "n", kind: "openai", baseURL: up.URL + "/v1"}}},
		credit: "1",
	})
	// Room in the minute for n × max_tokens, which counts against TPM too.
	h.changePlan(domain.PlanChanged{Plan: domain.PlanEnterprise, RPM: 100, TPM: 10_000_000})
	return h, calls
}

// TestHoldCoversEveryChoice: the hold is the most the request can cost, and
// each of n choices may write max_tokens. Prices: output NT$20 a million.
func TestHoldCoversEveryChoice(t *testing.T) {
	t.Run("more than the balance is refused up front", func(t *testing.T) {
		h, calls := choicesHarness(t)
		// 100 × 4000 tokens × 20 / 1e6 = NT$8, with NT$1 available. One
		// choice alone (NT$0.08) would fit.
		resp, b := h.post(`{"model":"test/n","max_tokens":4000,"n":100,"messages":[{"role":"user","content":"hi"}]}`)
		wantStatus(t, resp, b, http.StatusPaymentRequired)
		e := decodeError(t, b)
		if req, _ := e.Error.Metadata["required"].(string); !dec(req).GreaterThanOrEqual(dec("8")) {
			t.Fatalf("hold required %v, want at least NT$8: %s", e.Error.Metadata["required"], b)
		}
		if calls.Load() != 0 {
			t.Fatal("the upstream was called")
		}
		h.noCharge(http.StatusPaymentRequired, domain.OutcomeRejected)
		if !h.balance().Equal(dec("1")) {
			t.Fatalf("balance %s, want 1", h.balance())
		}
	})
	t.Run("within the balance is billed exactly", func(t *testing.T) {
		h, _ := choicesHarness(t)
		// 10 × 4000 × 20 / 1e6 = NT$0.8 held (plus the input's bytes).
		resp, b := h.post(`{"model":"test/n","max_tokens":4000,"n":10,"messages":[{"role":"user","content":"hi"}]}`)
		wantStatus(t, resp, b, http.StatusOK)
		var out struct {
			Choices []json.RawMessage `json:"choices"`
		}
		if err := json.Unmarshal(b, &out); err != nil || len(out.Choices) != 10 {
			t.Fatalf("%d choices, want 10: %s", len(out.Choices), b)
		}
		e := h.onlyCompleted(domain.OutcomeCompleted)
		// (12 × 10 + 40000 × 20) / 1e6
		if e.Usage.Input != 12 || e.Usage.Output != 40000 || !e.Cost.Equal(dec("0.80012")) {
			t.Fatalf("event %+v", e)
		}
		if !h.balance().Equal(dec("0.19988")) {
			t.Fatalf("balance %s, want 0.19988", h.balance())
		}
	})
}

// TestChoicesAreCapped: n above OpenAI's 128 is refused before anything is
// held or sent, on chat and on legacy completions.
func TestChoicesAreCapped(t *testing.T) {
	h, calls := choicesHarness(t)
	for _, n := range []int{129, 1_000_000} {
		resp, b := h.post(fmt.Sprintf(`{"model":"test/n","max_tokens":1,"n":%d,"messages":[{"role":"user","content":"hi"}]}`, n))
		wantStatus(t, resp, b, http.StatusBadRequest)
		if e := decodeError(t, b); e.Error.Metadata["param"] != "n" || !strings.Contains(e.Error.Message, "128") {
			t.Fatalf("chat n %d: %s", n, b)
		}
		resp, b = h.postCompletions(fmt.Sprintf(`{"model":"test/n","max_tokens":1,"n":%d,"prompt":"hi"}`, n))
		wantStatus(t, resp, b, http.StatusBadRequest)
		if e := decodeError(t, b); e.Error.Metadata["param"] != "n" || !strings.Contains(e.Error.Message, "128") {
			t.Fatalf("completions n %d: %s", n, b)
		}
	}
	if calls.Load() != 0 {
		t.Fatal("the upstream was called")
	}
	h.heldIsZero()
}

// TestGeminiChoicesAreCapped: Google's Gemini API returns at most 8
// candidates. A request for more to a model served only by Gemini is a 400
// naming the limit before anything is held or sent; a model with another
// upstream that can take it is served there, the Gemini upstream skipped as
// failover skips any upstream whose provider cannot carry the request.
func TestGeminiChoicesAreCapped(t *testing.T) {
	ledger := &holdCounter{Ledger: admission.NewMemoryLedger(admission.LedgerOptions{})}
	h := newHarness(t, harnessOpts{ledger: ledger, models: map[string][]upstreamSpec{
		"google/gemini-test": {{fake: "gemini", kind: "gemini"}},
		"test/gemini-first":  {{fake: "gemini", kind: "gemini"}, {fake: "openai", kind: "openai"}},
		"test/openai":        {{fake: "openai", kind: "openai"}},
		"test/gemini-down":   {{fake: "gemini", kind: "gemini"}, {fake: "down", kind: "openai"}},
	}, scripts: map[string]providertest.Script{"down": {Status: 503, ErrorMessage: "busy"}}})
	h.changePlan(domain.PlanChanged{Plan: domain.PlanEnterprise, RPM: 100, TPM: 10_000_000})
	for _, body := range []string{
		`{"model":"google/gemini-test","max_tokens":10,"n":9,"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"google/gemini-test","max_tokens":10,"n":128,"stream":true,"messages":[{"role":"user","content":"hi"}]}`,
		// Only the Gemini upstream may serve it under the provider object.
		`{"model":"test/gemini-first","max_tokens":10,"n":9,"provider":{"only":["gemini"]},"messages":[{"role":"user","content":"hi"}]}`,
	} {
		resp, b := h.post(body)
		wantStatus(t, resp, b, http.StatusBadRequest)
		e := decodeError(t, b)
		if e.Error.Metadata["param"] != "n" || !strings.Contains(e.Error.Message, "n: must be at most 8 for Gemini upstreams") {
			t.Fatalf("%s: %s", body, b)
		}
	}
	if n := upstreamCalls(h); n != 0 {
		t.Fatalf("%d refused requests reached an upstream", n)
	}
	if n := ledger.holds.Load(); n != 0 {
		t.Fatalf("%d refused requests took a credit hold", n)
	}
	for _, f := range h.waitFailed(3) {
		if f.Status != 400 || f.Outcome != domain.OutcomeRejected || f.Attempts != 0 {
			t.Fatalf("recorded %d %s after %d attempts, want 400 %s after none", f.Status, f.Outcome, f.Attempts, domain.OutcomeRejected)
		}
	}
	h.heldIsZero()

	// Eight is Gemini's own limit: sent on.
	resp, b := h.post(`{"model":"google/gemini-test","max_tokens":10,"n":8,"messages":[{"role":"user","content":"hi"}]}`)
	wantStatus(t, resp, b, http.StatusOK)
	if n := len(h.fakes["gemini"].Received()); n != 1 {
		t.Fatalf("gemini received %d requests, want 1", n)
	}
	// With an OpenAI upstream behind Gemini, nine choices are served there,
	// and Gemini is not called; so too as a fallback model of the models list.
	for _, body := range []string{
		`{"model":"test/gemini-first","max_tokens":10,"n":9,"messages":[{"role":"user","content":"hi"}]}`,
		`{"models":["google/gemini-test","test/openai"],"max_tokens":10,"n":9,"messages":[{"role":"user","content":"hi"}]}`,
	} {
		resp, b = h.post(body)
		wantStatus(t, resp, b, http.StatusOK)
	}
	if n := len(h.fakes["gemini"].Received()); n != 1 {
		t.Fatalf("gemini received %d requests, want still 1", n)
	}
	if n := len(h.fakes["openai"].Received()); n != 2 {
		t.Fatalf("openai received %d requests, want 2", n)
	}
	for _, e := range h.completed() {
		if e.Model == "test/gemini-first" && e.Provider != "openai" {
			t.Fatalf("test/gemini-first served by %s, want openai", e.Provider)
		}
	}
	// When the upstream that could take it is down, the answer is that
	// outage (a 503 to retry), not the Gemini limit.
	resp, b = h.post(`{"model":"test/gemini-down","max_tokens":10,"n":9,"messages":[{"role":"user","content":"hi"}]}`)
	wantStatus(t, resp, b, http.StatusServiceUnavailable)
	if n := len(h.fakes["gemini"].Received()); n != 1 {
		t.Fatalf("gemini received %d requests, want still 1", n)
	}
}
