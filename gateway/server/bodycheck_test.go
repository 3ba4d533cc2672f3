package server

import (
	"net/http"
	"strings"
	"testing"
)

// Every endpoint refuses what chat refuses, in its own error shape, and
// says what is wrong in the client's terms.

// bodyHarness serves a chat model, an embedding model and an Anthropic
// model, each from its own fake.
func bodyHarness(t *testing.T) *harness {
	return newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"openai/gpt-4.1":                {{fake: "openai", kind: "openai"}},
		"openai/text-embedding-3-small": {{fake: "embed", kind: "openai"}},
		"anthropic/claude-sonnet-4.6":   {{fake: "anthropic", kind: "anthropic"}},
	}})
}

// endpoint posts a body to one of the endpoints that decode their body
// themselves, and checks a refusal's shape.
type endpoint struct {
	name    string
	post    func(h *harness, body string) (*http.Response, []byte)
	message func(t *testing.T, b []byte) string // the refusal's message, once its shape is checked
}

func openAIMessage(t *testing.T, b []byte) string {
	t.Helper()
	e := decodeError(t, b)
	if e.Error.Code != 400 {
		t.Fatalf("error code %d: %s", e.Error.Code, b)
	}
	return e.Error.Message
}

func anthropicMessage(t *testing.T, b []byte) string {
	t.Helper()
	m := decodeMap(t, b)
	want(t, m, "type", "error")
	want(t, m, "error.type", "invalid_request_error")
	msg, _ := jpath(m, "error.message")
	s, _ := msg.(string)
	return s
}

var endpoints = []endpoint{
	{"messages", func(h *harness, body string) (*http.Response, []byte) { return h.postMessages("", h.key, body) }, anthropicMessage},
	{"count_tokens", func(h *harness, body string) (*http.Response, []byte) {
		return h.postMessages("/count_tokens", h.key, body)
	}, anthropicMessage},
	{"embeddings", (*harness).postEmbeddings, openAIMessage},
	{"completions", (*harness).postCompletions, openAIMessage},
}

// validBody is a body each endpoint accepts, with text standing in for the
// one string the client wrote (already JSON-escaped).
func validBody(endpoint, text string) string {
	switch endpoint {
	case "messages", "count_tokens":
		return `{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"` + text + `"}]}`
	case "embeddings":
		return `{"model":"openai/text-embedding-3-small","input":"` + text + `"}`
	}
	return `{"model":"openai/gpt-4.1","max_tokens":10,"prompt":"` + text + `"}`
}

// upstreamCalls is how many requests the fakes have received.
func upstreamCalls(h *harness) int {
	n := 0
	for _, f := range h.fakes {
		n += len(f.Received())
	}
	return n
}

func TestEveryEndpointRefusesInvalidUTF8(t *testing.T) {
	h := bodyHarness(t)
	for _, ep := range endpoints {
		// A sanity check that the body is otherwise fine.
		if resp, b := ep.post(h, validBody(ep.name, "hello")); resp.StatusCode != 200 {
			t.Fatalf("%s: a valid body: %d %s", ep.name, resp.StatusCode, b)
		}
	}
	before := upstreamCalls(h)
	for _, ep := range endpoints {
		for name, text := range map[string]string{
			"lone surrogate escape": `\ud800`,
			"raw 0xff byte":         "a\xffb",
			"low surrogate first":   `\udc00\ud800`,
		} {
			resp, b := ep.post(h, validBody(ep.name, text))
			wantStatus(t, resp, b, 400)
			if msg := ep.message(t, b); !strings.Contains(msg, "UTF-8") && !strings.Contains(msg, "surrogate") {
				t.Fatalf("%s, %s: message %q", ep.name, name, msg)
			}
		}
	}
	if n := upstreamCalls(h) - before; n != 0 {
		t.Fatalf("%d invalid bodies reached an upstream", n)
	}
}

// goInternals are words of Go's decoder that mean nothing to a client.
var goInternals = []string{"Go struct", "Go value", "msgRequest", "msgTurn", "embedRequest", "legacyRequest", "server.", "unmarshal"}

func TestDecodeErrorsNameTheField(t *testing.T) {
	h := bodyHarness(t)
	cases := []struct {
		endpoint, body, mention string
	}{
		{"messages", `{"model":"claude-sonnet-4-6","max_tokens":1e9,"messages":[{"role":"user","content":"hi"}]}`, "max_tokens: must be an integer"},
		{"messages", `{"model":"claude-sonnet-4-6","max_tokens":"10","messages":[{"role":"user","content":"hi"}]}`, "max_tokens: must be an integer"},
		{"messages", `[]`, "JSON object"},
		{"messages", `{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":5,"content":"hi"}]}`, "messages.role: must be a string"},
		{"count_tokens", `{"model":"claude-sonnet-4-6","messages":"hi"}`, "messages: must be an array"},
		{"count_tokens", `5`, "JSON object"},
		{"embeddings", `{"model":"openai/text-embedding-3-small","input":"hi","dimensions":1.5}`, "dimensions: must be an integer"},
		{"embeddings", `{"model":5,"input":"hi"}`, "model: must be a string"},
		{"embeddings", `[]`, "JSON object"},
		{"embeddings", `{"model":`, "not valid JSON"},
		{"completions", `{"model":"openai/gpt-4.1","prompt":"hi","stream":"yes"}`, "stream: must be true or false"},
		{"completions", `"hi"`, "JSON object"},
	}
	for _, c := range cases {
		var ep endpoint
		for _, e := range endpoints {
			if e.name == c.endpoint {
				ep = e
			}
		}
		resp, b := ep.post(h, c.body)
		wantStatus(t, resp, b, 400)
		msg := ep.message(t, b)
		if !strings.Contains(msg, c.mention) {
			t.Errorf("%s %s: message %q does not say %q", c.endpoint, c.body, msg, c.mention)
		}
		for _, w := range goInternals {
			if strings.Contains(msg, w) {
				t.Errorf("%s %s: message %q shows %q", c.endpoint, c.body, msg, w)
			}
		}
	}
	if n := upstreamCalls(h); n != 0 {
		t.Fatalf("%d invalid bodies reached an upstream", n)
	}
}

// TestMessagesRefusesWhatAnthropicRefuses: a text block without its text and
// a tool schema that is not an object are 400s, on /messages and on
// count_tokens, as on Anthropic's API.
func TestMessagesRefusesWhatAnthropicRefuses(t *testing.T) {
	h := bodyHarness(t)
	cases := []struct{ body, mention string }{
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text"}]}]}`,
			"messages.0.content.0.text"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"text","text":null}]}]}`,
			"messages.0.content.1.text"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"system":[{"type":"text"}],"messages":[{"role":"user","content":"hi"}]}`,
			"system.0.text"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text"}]}]}]}`,
			"messages.0.content.0.content.0.text"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"tools":[{"name":"f","input_schema":5}],"messages":[{"role":"user","content":"hi"}]}`,
			"tools.0.input_schema"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"tools":[{"name":"f","input_schema":"{}"}],"messages":[{"role":"user","content":"hi"}]}`,
			"tools.0.input_schema"},
	}
	for _, ep := range endpoints[:2] {
		for _, c := range cases {
			resp, b := ep.post(h, c.body)
			wantStatus(t, resp, b, 400)
			if msg := ep.message(t, b); !strings.Contains(msg, c.mention) {
				t.Errorf("%s %s: message %q does not name %s", ep.name, c.body, msg, c.mention)
			}
		}
	}
	if n := upstreamCalls(h); n != 0 {
		t.Fatalf("%d invalid bodies reached an upstream", n)
	}
	// A text block with its text and an object schema still go.
	resp, b := h.postMessages("", h.key, `{"model":"claude-sonnet-4-6","max_tokens":10,"tools":[{"name":"f","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}`)
	wantStatus(t, resp, b, 200)
}
