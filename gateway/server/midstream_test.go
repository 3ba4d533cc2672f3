package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/gateway/tokens"
)

// lastChunk is a stream's final chunk, decoded whole.
func lastChunk(t *testing.T, b []byte) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	last := lines[len(lines)-1]
	var m map[string]any
	if !strings.HasPrefix(last, "data: {") || json.Unmarshal([]byte(last[6:]), &m) != nil {
		t.Fatalf("the stream's last line %q is not a chunk:\n%s", last, b)
	}
	return m
}

const midPrompt = `{"model":"test/fo","stream":true,"messages":[{"role":"user","content":"PROMPT-MARKER tell me"}]}`

// An upstream's own error event after content has gone out ends the stream
// with the gateway's error chunk carrying the upstream's message (cleaned
// of control characters and bounded) and its code or type, as OpenRouter
// forwards a provider's error; what was delivered is billed as before.
func TestMidStreamUpstreamErrorCarriesItsMessage(t *testing.T) {
	long := "Overloaded\x00 \x1bplease\u202e\tretry\r\n" + strings.Repeat("x", 2000)
	for name, c := range map[string]struct {
		kind     string
		script   providertest.Script
		message  string // what the chunk's message must contain
		code     string
		maxBytes int
		// errType is OpenRouter's canonical error_type, which
		// @openrouter/sdk requires in a stream error's metadata.
		errType string
	}{
		"openai":              {"openai", providertest.Script{EventMessage: "The server had an error while processing your request.", EventCode: "internal_error"}, "The server had an error while processing your request.", "internal_error", 0, "server"},
		"openai default":      {"openai", providertest.Script{}, "upstream overloaded", "server_error", 0, "server"},
		"openai 503":          {"openai", providertest.Script{EventMessage: "Service Unavailable", EventCode: "503"}, "Service Unavailable", "503", 0, "provider_overloaded"},
		"openai rate":         {"openai", providertest.Script{EventMessage: "Rate limit reached", EventCode: "rate_limit_exceeded"}, "Rate limit reached", "rate_limit_exceeded", 0, "rate_limit_exceeded"},
		"anthropic":           {"anthropic", providertest.Script{}, "Overloaded", "overloaded_error", 0, "provider_overloaded"},
		"anthropic rate":      {"anthropic", providertest.Script{EventMessage: "Number of request tokens has exceeded your per-minute rate limit", EventCode: "rate_limit_error"}, "per-minute rate limit", "rate_limit_error", 0, "rate_limit_exceeded"},
		"gemini":              {"gemini", providertest.Script{}, "The model is overloaded.", "UNAVAILABLE", 0, "provider_overloaded"},
		"anthropic unclean":   {"anthropic", providertest.Script{EventMessage: long}, "Overloaded please retry xxx", "overloaded_error", 700, "provider_overloaded"},
		"openai unclean code": {"openai", providertest.Script{EventMessage: "bad", EventCode: "code\x07" + strings.Repeat("c", 500)}, "bad", "code " + strings.Repeat("c", 56) + "…", 0, "server"},
	} {
		t.Run(name, func(t *testing.T) {
			s := c.script
			s.Text, s.Chunks, s.CutAfter, s.ErrorEvent = "alpha beta gamma delta epsilon zeta", 6, 3, true
			s.Usage = providertest.Usage{Prompt: 10, Completion: 400}
			h := newHarness(t, twoUpstreams(c.kind, s, Config{}))
			resp, b := h.post(midPrompt)
			wantStatus(t, resp, b, 200)
			if strings.Contains(string(b), "[DONE]") {
				t.Fatal("a broken stream ended with [DONE]")
			}
			last := lastChunk(t, b)
			raw, _ := json.Marshal(last)
			e, _ := last["error"].(map[string]any)
			choices, _ := last["choices"].([]any)
			if e == nil || e["code"] != float64(502) || len(choices) != 1 || choices[0].(map[string]any)["finish_reason"] != "error" || last["id"] == nil {
				t.Fatalf("last chunk %s", raw)
			}
			msg, _ := e["message"].(string)
			if !strings.Contains(msg, c.message) || !strings.Contains(msg, "first") || !strings.Contains(msg, "billed for what was delivered") {
				t.Fatalf("message %q, want the upstream's %q", msg, c.message)
			}
			if c.maxBytes > 0 && len(msg) > c.maxBytes {
				t.Fatalf("message of %d bytes, want at most %d", len(msg), c.maxBytes)
			}
			if strings.ContainsFunc(msg, unicode.IsControl) || strings.Contains(string(raw), "PROMPT-MARKER") {
				t.Fatalf("message %q", msg)
			}
			md, _ := e["metadata"].(map[string]any)
			if md["provider_name"] != "first" || md["provider"] != "first" || md["upstream_code"] != c.code {
				t.Fatalf("metadata %v, want provider first and code %q", md, c.code)
			}
			if md["error_type"] != c.errType || md["provider_code"] != c.code {
				t.Fatalf("metadata %v, want error_type %q and provider_code %q, as OpenRouter's stream errors have them", md, c.errType, c.code)
			}
			if c.kind == "openai" && md["upstream_type"] != "server_error" {
				t.Fatalf("metadata %v, want upstream_type server_error", md)
			}
			if um, _ := md["upstream_message"].(string); !strings.Contains(um, c.message) || strings.ContainsFunc(um, unicode.IsControl) {
				t.Fatalf("metadata.upstream_message %q", um)
			}
			// Billed for what was delivered, as any broken stream.
			ev := h.onlyCompleted(domain.OutcomeUpstreamBrokeMid)
			if u := ev.Usage; !u.Estimated || u.Output <= 0 || u.Output >= 400 || ev.FinishReason != "error" || !ev.Cost.Equal(defaultPrice().Cost(u)) || ev.Provider != "first" {
				t.Fatalf("event %+v", ev)
			}
			if n := len(h.fakes["second"].Received()); n != 0 {
				t.Fatalf("failed over after content: second got %d requests", n)
			}
			h.heldIsZero()
		})
	}
}

// A stream cut without an error event keeps the gateway's own message.
func TestMidStreamCutKeepsGatewayMessage(t *testing.T) {
	h := newHarness(t, twoUpstreams("openai", providertest.Script{Text: "a b c d", Chunks: 4, CutAfter: 2}, Config{}))
	resp, b := h.post(midPrompt)
	wantStatus(t, resp, b, 200)
	e, _ := lastChunk(t, b)["error"].(map[string]any)
	if e == nil || e["message"] != "the upstream ended the stream early; you are billed for what was delivered" {
		t.Fatalf("error %v", e)
	}
	// OpenRouter's canonical type, which @openrouter/sdk requires of a
	// stream error's metadata.
	if md, _ := e["metadata"].(map[string]any); md["error_type"] != "provider_unavailable" {
		t.Fatalf("error %v, want metadata.error_type provider_unavailable", e)
	}
}

// On the Messages face the stream ends with Anthropic's error event, which
// carries the upstream's message and RouteFree's metadata.
func TestMessagesStreamUpstreamErrorMidway(t *testing.T) {
	h := msgHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "one two three four", Chunks: 4, CutAfter: 2, ErrorEvent: true, EventMessage: "The engine is currently overloaded"},
	}})
	resp, b := h.postMessages("", h.key, `{"model":"openai/gpt-4.1","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"count"}]}`)
	wantStatus(t, resp, b, 200)
	evs := parseEvents(t, b)
	last := evs[len(evs)-1]
	if last.name != "error" {
		t.Fatalf("events %s\n%s", names(evs), b)
	}
	want(t, last.data, "error.type", "api_error")
	want(t, last.data, "error.metadata.provider_name", "openai")
	want(t, last.data, "error.metadata.upstream_message", "The engine is currently overloaded")
	if msg, _ := jpath(last.data, "error.message"); !strings.Contains(msg.(string), "The engine is currently overloaded") {
		t.Fatalf("message %v", msg)
	}
	h.onlyCompleted(domain.OutcomeUpstreamBrokeMid)
	h.heldIsZero()
}

// On the Messages face an upstream's overload or rate limit mid-stream is
// Anthropic's overloaded_error or rate_limit_error event, as Anthropic and
// OpenRouter send them: clients such as Claude Code tell an overload from
// other failures by that type, since a stream's error has no status.
func TestMessagesStreamUpstreamOverloadMidway(t *testing.T) {
	for name, c := range map[string]struct {
		model  string
		script providertest.Script
		typ    string
	}{
		"openai 503":     {"openai/gpt-4.1", providertest.Script{EventMessage: "The engine is currently overloaded", EventCode: "503"}, "overloaded_error"},
		"openai rate":    {"openai/gpt-4.1", providertest.Script{EventMessage: "Rate limit reached", EventCode: "rate_limit_exceeded"}, "rate_limit_error"},
		"claude":         {"anthropic/claude-sonnet-4.6", providertest.Script{}, "overloaded_error"},
		"claude rate":    {"anthropic/claude-sonnet-4.6", providertest.Script{EventMessage: "Rate limited", EventCode: "rate_limit_error"}, "rate_limit_error"},
		"openai unknown": {"openai/gpt-4.1", providertest.Script{EventMessage: "something broke", EventCode: "internal_error"}, "api_error"},
	} {
		t.Run(name, func(t *testing.T) {
			s := c.script
			s.Text, s.Chunks, s.CutAfter, s.ErrorEvent = "one two three four", 4, 2, true
			fake := "openai"
			if strings.HasPrefix(c.model, "anthropic/") {
				fake = "anthropic"
			}
			h := msgHarness(t, harnessOpts{scripts: map[string]providertest.Script{fake: s}})
			resp, b := h.postMessages("", h.key, `{"model":"`+c.model+`","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"count"}]}`)
			wantStatus(t, resp, b, 200)
			evs := parseEvents(t, b)
			last := evs[len(evs)-1]
			if last.name != "error" {
				t.Fatalf("events %s\n%s", names(evs), b)
			}
			want(t, last.data, "error.type", c.typ)
			h.onlyCompleted(domain.OutcomeUpstreamBrokeMid)
			h.heldIsZero()
		})
	}
}

// A stream broken after the model's reasoning went out is billed for that
// reasoning too: the client received it, and the provider charges for it
// as output. The gateway counts it as reasoning tokens, inside the output.
func TestBrokenStreamBillsDeliveredReasoning(t *testing.T) {
	reasoning := strings.Repeat("Weigh each option against the constraints before answering. ", 40)
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			s := providertest.Script{Text: "alpha beta gamma delta", Chunks: 4, CutAfter: 1, Reasoning: reasoning,
				Usage: providertest.Usage{Prompt: 10, Completion: 2000, Reasoning: 1500}}
			h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{kind: s}})
			resp, b := h.post(`{"model":"test/` + kind + `","stream":true,"max_tokens":4000,"reasoning":{"effort":"low"},"messages":[{"role":"user","content":"think"}]}`)
			wantStatus(t, resp, b, 200)
			if !strings.Contains(string(b), "Weigh each option") {
				t.Fatalf("no reasoning delivered:\n%s", b)
			}
			ev := h.onlyCompleted(domain.OutcomeUpstreamBrokeMid)
			u := ev.Usage
			want := int64(tokens.Count(reasoning))
			if !u.Estimated || u.Reasoning < want || u.Output <= u.Reasoning || !ev.Cost.Equal(defaultPrice().Cost(u)) {
				t.Fatalf("usage %+v, cost %s: want at least %d reasoning tokens inside the output", u, ev.Cost, want)
			}
			h.heldIsZero()
		})
	}
}

// A stream whose keep-alives already sent the 200 and whose upstreams then
// all fail ends with the error chunk, its metadata naming OpenRouter's
// error_type for the gateway's answer: every upstream unavailable, or the
// upstream's refusal of the input.
func TestStreamErrorAfterKeepAlivesNamesItsType(t *testing.T) {
	for name, c := range map[string]struct {
		status  int
		code    float64
		errType string
	}{
		"unavailable": {503, 503, "provider_unavailable"},
		"refused":     {400, 400, "invalid_request"},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{cfg: Config{KeepAlive: 20 * time.Millisecond},
				scripts: map[string]providertest.Script{"openai": {Status: c.status, Delay: 200 * time.Millisecond}}})
			resp, b := h.post(`{"model":"test/openai","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
			wantStatus(t, resp, b, 200)
			e, _ := lastChunk(t, b)["error"].(map[string]any)
			md, _ := e["metadata"].(map[string]any)
			if e == nil || e["code"] != c.code || md["error_type"] != c.errType {
				t.Fatalf("error %v, want code %v and metadata.error_type %s:\n%s", e, c.code, c.errType, b)
			}
		})
	}
}
