package server

import (
	"net/http"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// A Claude model asked to reason with max_tokens at or below Anthropic's
// smallest thinking budget (1024) is refused with a 400 naming max_tokens:
// the budget must fit below max_tokens, and max_tokens is never raised
// past what credit was held for. Nothing reaches Anthropic and nothing is
// held after; one token more is served, and so is an effort that asks for
// no thinking.
func TestClaudeReasoningWithMaxTokensAtTheThinkingFloorIsRefused(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models:  map[string][]upstreamSpec{"anthropic/claude-sonnet-4.5": {{fake: "anthropic", kind: "anthropic", model: "claude-sonnet-4-5"}}},
		scripts: map[string]providertest.Script{"anthropic": {Text: "ok"}},
	})
	const msgs = `"messages":[{"role":"user","content":"hi"}]}`
	for _, extra := range []string{
		`"max_tokens":1024,"reasoning_effort":"low",`,
		`"max_tokens":500,"reasoning":{"effort":"high"},`,
		`"max_completion_tokens":1024,"reasoning":{"enabled":true},`,
	} {
		resp, b := h.post(`{"model":"anthropic/claude-sonnet-4.5",` + extra + msgs)
		wantStatus(t, resp, b, http.StatusBadRequest)
		e := decodeError(t, b)
		param := "max_tokens"
		if extra[1:22] == "max_completion_tokens" {
			param = "max_completion_tokens"
		}
		want := param + ": must be greater than the reasoning budget of 1024 tokens (Anthropic's minimum is 1024); raise it or lower the reasoning"
		if e.Error.Code != 400 || e.Error.Message != want || e.Error.Metadata["param"] != param {
			t.Errorf("%s: error %d %q (param %v), want 400 %q", extra, e.Error.Code, e.Error.Message, e.Error.Metadata["param"], want)
		}
	}
	if n := len(h.fakes["anthropic"].Received()); n != 0 {
		t.Fatalf("%d refused requests reached Anthropic", n)
	}
	h.heldIsZero()
	for _, extra := range []string{`"max_tokens":1025,"reasoning_effort":"low",`, `"max_tokens":1024,"reasoning_effort":"none",`} {
		resp, b := h.post(`{"model":"anthropic/claude-sonnet-4.5",` + extra + msgs)
		wantStatus(t, resp, b, http.StatusOK)
	}
	if m := wire(t, h.fakes["anthropic"].Received()[0]); m["thinking"] == nil {
		t.Fatalf("max_tokens 1025 with an effort went without thinking: %v", m)
	}
}
