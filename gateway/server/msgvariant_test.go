package server

import (
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// OpenRouter's model variants (:nitro, :floor) on the Messages endpoints:
// count_tokens answered 404 for a model that /messages serves, and
// /messages sent "anthropic/…:nitro" through the translation for other
// providers, refusing Anthropic's server tools that it passes to an
// Anthropic upstream without the variant; Anthropic's own names for a
// model ("claude-sonnet-4-6") took no variant at all.
func TestMessagesEndpointsTakeModelVariants(t *testing.T) {
	h := msgHarness(t, harnessOpts{plan: domain.PlanEnterprise})
	count := func(model string) (int, string) {
		resp, b := h.postMessages("/count_tokens", h.key, `{"model":"`+model+`","messages":[{"role":"user","content":"how many tokens is this?"}]}`)
		return resp.StatusCode, string(b)
	}
	st, plain := count("anthropic/claude-sonnet-4.6")
	if st != 200 {
		t.Fatalf("count_tokens: %d %s", st, plain)
	}
	for _, m := range []string{"anthropic/claude-sonnet-4.6:nitro", "anthropic/claude-sonnet-4.6:floor", "claude-sonnet-4-6:nitro"} {
		if st, b := count(m); st != 200 || b != plain {
			t.Errorf("count_tokens %s: %d %s, want 200 %s", m, st, b, plain)
		}
	}
	// A variant not offered is refused as /messages refuses it.
	st, b := count("anthropic/claude-sonnet-4.6:free")
	if st != 400 || !strings.Contains(b, ":free") || !strings.Contains(b, "invalid_request_error") {
		t.Errorf("count_tokens :free: %d %s", st, b)
	}
	resp, mb := h.postMessages("", h.key, `{"model":"anthropic/claude-sonnet-4.6:free","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 400 || !strings.Contains(string(mb), ":free") {
		t.Errorf("messages :free: %d %s", resp.StatusCode, mb)
	}

	tools := `"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":2}]`
	resp, mb = h.postMessages("", h.key, `{"model":"anthropic/claude-sonnet-4.6:nitro","max_tokens":50,`+tools+`,"messages":[{"role":"user","content":"news?"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("server tool with :nitro: %d %s", resp.StatusCode, mb)
	}
	want(t, wire(t, h.fakes["anthropic"].Last()), "tools.0.type", "web_search_20250305")
	// Anthropic's own name for the model takes a variant too.
	resp, mb = h.postMessages("", h.key, `{"model":"claude-sonnet-4-6:floor","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("claude-sonnet-4-6:floor: %d %s", resp.StatusCode, mb)
	}
	if c := h.completed(); len(c) != 2 || c[0].Model != "anthropic/claude-sonnet-4.6" || c[1].Model != "anthropic/claude-sonnet-4.6" {
		t.Fatalf("completed: %+v", c)
	}
	h.heldIsZero()
}

// count_tokens, documented to check its body as /messages does, counted a
// turn whose role is neither "user" nor "assistant" (a "system" turn, a
// typo), which /messages refuses with a 400.
func TestCountTokensRefusesWhatMessagesRefusesInRoles(t *testing.T) {
	h := msgHarness(t, harnessOpts{plan: domain.PlanEnterprise})
	for _, role := range []string{"system", "tool", "User", ""} {
		body := `{"model":"anthropic/claude-sonnet-4.6","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"` + role + `","content":"x"}]}`
		_, mb := h.postMessages("", h.key, body)
		resp, cb := h.postMessages("/count_tokens", h.key, body)
		if resp.StatusCode != 400 || !strings.Contains(string(cb), "messages.1.role") || !strings.Contains(string(cb), "invalid_request_error") {
			t.Errorf("count_tokens with role %q: %d %s (/messages: %s)", role, resp.StatusCode, cb, mb)
		}
	}
}

// A count_tokens body that cannot be counted (a system or a content of the
// wrong type) took a request from the key's requests per minute before it
// was refused: a client retrying a bad body ran its key into 429s, where
// every other endpoint's refusal takes nothing.
func TestCountTokensRefusalTakesNoRequestFromTheLimit(t *testing.T) {
	h := msgHarness(t, harnessOpts{}) // starter: 10 requests a minute
	bad := []string{
		`{"model":"anthropic/claude-sonnet-4.6","system":5,"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"anthropic/claude-sonnet-4.6","messages":[{"role":"user","content":5}]}`,
		`{"model":"anthropic/claude-sonnet-4.6","messages":[{"role":"user","content":[5]}]}`,
	}
	for i := 0; i < 12; i++ {
		resp, b := h.postMessages("/count_tokens", h.key, bad[i%len(bad)])
		if resp.StatusCode != 400 || !strings.Contains(string(b), "invalid_request_error") {
			t.Fatalf("bad body %d: %d %s", i, resp.StatusCode, b)
		}
	}
	resp, b := h.postMessages("/count_tokens", h.key, `{"model":"anthropic/claude-sonnet-4.6","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Remaining-Requests") != "9" {
		t.Fatalf("after the refusals: %d (remaining %q) %s", resp.StatusCode, resp.Header.Get("X-Ratelimit-Remaining-Requests"), b)
	}
}

// count_tokens counted content blocks that /messages refuses for a model
// with no Anthropic upstream (a server tool's blocks, a block type of no
// API, an image without its source, a tool call in the user's turn): a client sizing a request got a count
// for one it could not send. It now refuses them with /messages' own
// answer, and counts them where /messages takes them (an Anthropic
// upstream gets the body as sent).
func TestCountTokensRefusesWhatMessagesRefusesInContentBlocks(t *testing.T) {
	h := msgHarness(t, harnessOpts{plan: domain.PlanEnterprise})
	turns := []string{
		`{"role":"user","content":[{"type":"video","text":"x"}]}`,
		`{"role":"user","content":"news?"},{"role":"assistant","content":[{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"news"}}]}`,
		`{"role":"user","content":"news?"},{"role":"assistant","content":[{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","url":"https://example.com","title":"t","encrypted_content":"e"}]}]}`,
		`{"role":"user","content":[{"type":"image"}]}`,
		`{"role":"user","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{}}]}`,
	}
	for i, turn := range turns {
		body := `{"model":"openai/gpt-4.1","max_tokens":10,"messages":[` + turn + `]}`
		mresp, mb := h.postMessages("", h.key, body)
		if mresp.StatusCode != 400 || !strings.Contains(string(mb), "messages.") {
			t.Fatalf("body %d: /messages answered %d %s", i, mresp.StatusCode, mb)
		}
		resp, cb := h.postMessages("/count_tokens", h.key, body)
		if resp.StatusCode != 400 || string(cb) != string(mb) {
			t.Errorf("body %d: count_tokens answered %d %s, /messages %d %s", i, resp.StatusCode, cb, mresp.StatusCode, mb)
		}
	}
	// Refused before anything reaches an upstream.
	if n := len(h.fakes["openai"].Received()); n != 0 {
		t.Fatalf("the upstream got %d requests", n)
	}
	// An Anthropic upstream takes a server tool's blocks: counted there.
	body := `{"model":"anthropic/claude-sonnet-4.6","messages":[` + turns[1] + `]}`
	if resp, b := h.postMessages("/count_tokens", h.key, body); resp.StatusCode != 200 || !strings.Contains(string(b), "input_tokens") {
		t.Fatalf("count_tokens, Anthropic upstream: %d %s", resp.StatusCode, b)
	}
}
