package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/gateway/admission"
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
		{"messages", `{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","strict":"yes"}]}`, "tools.strict: must be true or false"},
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

// TestMessagesRefusesWhatAnthropicRefuses: a text block without its text, a
// content block that is null or has no type, a tool without a name, a
// tool schema that is not an object and a tool_choice of a tool without its
// name are 400s, on /messages and on count_tokens, as on Anthropic's API,
// in its terms.
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
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":[null]}]}`,
			"messages.0.content.0.type"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":[{"text":"hi"}]}]}`,
			"messages.0.content.0.type"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"text","text":"and"},null]}]}`,
			"messages.2.content.1.type"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"system":[null],"messages":[{"role":"user","content":"hi"}]}`,
			"system.0.type"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"tools":[null],"messages":[{"role":"user","content":"hi"}]}`,
			"tools.0.name"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"tools":[{"name":"f","input_schema":{"type":"object"}},{"input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"hi"}]}`,
			"tools.1.name"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"tools":[{"name":"f","input_schema":5}],"messages":[{"role":"user","content":"hi"}]}`,
			"tools.0.input_schema"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"tools":[{"name":"f"}],"tool_choice":{"type":"tool"},"messages":[{"role":"user","content":"hi"}]}`,
			"tool_choice.name"},
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

// holdCounter is a ledger that counts the holds asked of it, so a test can
// tell that a refused request never reached the credit hold.
type holdCounter struct {
	admission.Ledger
	holds atomic.Int64
}

func (l *holdCounter) Hold(ctx context.Context, account, key, requestID string, view admission.AccountView, amount decimal.Decimal) (admission.HoldResult, error) {
	l.holds.Add(1)
	return l.Ledger.Hold(ctx, account, key, requestID, view, amount)
}

// TestMessagesRefusesEmptyText: an empty text block, and a message whose
// content is empty other than a final assistant prefill, are 400s on
// /messages and count_tokens, as on Anthropic's API, before any hold or
// upstream call, and nothing is billed.
func TestMessagesRefusesEmptyText(t *testing.T) {
	ledger := &holdCounter{Ledger: admission.NewMemoryLedger(admission.LedgerOptions{})}
	h := newHarness(t, harnessOpts{ledger: ledger, models: map[string][]upstreamSpec{
		"anthropic/claude-sonnet-4.6": {{fake: "anthropic", kind: "anthropic"}},
		"openai/gpt-4.1":              {{fake: "openai", kind: "openai"}},
	}})
	cases := []struct{ body, mention string }{
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":""}]}]}`,
			"messages.0.content.0.text: text content blocks must be non-empty"},
		{`{"model":"openai/gpt-4.1","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":""}]}]}`,
			"messages.0.content.0.text: text content blocks must be non-empty"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"text","text":" \n"}]}]}`,
			"messages.0.content.1.text: text content blocks must contain non-whitespace text"},
		// An empty text beside a tool call, as some SDKs write an assistant turn.
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"text","text":""},{"type":"tool_use","id":"t1","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}]}`,
			"messages.1.content.0.text: text content blocks must be non-empty"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":""}]}]}]}`,
			"messages.0.content.0.content.0.text: text content blocks must be non-empty"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"system":[{"type":"text","text":""}],"messages":[{"role":"user","content":"hi"}]}`,
			"system.0.text: text content blocks must be non-empty"},
		{`{"model":"openai/gpt-4.1","max_tokens":10,"messages":[{"role":"user","content":""}]}`,
			"messages.0: all messages must have non-empty content except for the optional final assistant message"},
		{`{"model":"openai/gpt-4.1","max_tokens":10,"messages":[{"role":"user","content":[]}]}`,
			"messages.0: all messages must have non-empty content except for the optional final assistant message"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":""},{"role":"user","content":"again"}]}`,
			"messages.1: all messages must have non-empty content except for the optional final assistant message"},
		// Content left out or null, even on a final assistant turn.
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user"}]}`, "messages.0.content: field required"},
		{`{"model":"openai/gpt-4.1","max_tokens":10,"messages":[{"role":"user","content":null}]}`, "messages.0.content: field required"},
		{`{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null}]}`,
			"messages.1.content: field required"},
	}
	for _, ep := range endpoints[:2] {
		for _, c := range cases {
			resp, b := ep.post(h, c.body)
			wantStatus(t, resp, b, 400)
			if msg := ep.message(t, b); !strings.Contains(msg, c.mention) {
				t.Errorf("%s %s: message %q does not say %q", ep.name, c.body, msg, c.mention)
			}
		}
	}
	if n := upstreamCalls(h); n != 0 {
		t.Fatalf("%d refused bodies reached an upstream", n)
	}
	if n := ledger.holds.Load(); n != 0 {
		t.Fatalf("%d refused requests took a credit hold", n)
	}
	if evs := h.completed(); len(evs) != 0 {
		t.Fatalf("%d refused requests were billed", len(evs))
	}

	// An empty final assistant turn (a prefill left blank) still goes, on
	// the native and on the translated path, and is billed once each.
	for _, model := range []string{"claude-sonnet-4-6", "openai/gpt-4.1"} {
		resp, b := h.postMessages("", h.key, `{"model":"`+model+`","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":""}]}`)
		wantStatus(t, resp, b, 200)
	}
	if n := upstreamCalls(h); n != 2 {
		t.Fatalf("%d upstream calls for two valid requests", n)
	}
	if evs := h.completed(); len(evs) != 2 {
		t.Fatalf("%d requests billed, want 2", len(evs))
	}
}

// A compressed body (Content-Encoding: gzip) is refused with 415 naming
// the encoding, before any upstream is called: read as it came, it failed
// with "not valid UTF-8 (byte 1)", which told the client nothing.
func TestEveryEndpointRefusesAnEncodedBody(t *testing.T) {
	h := bodyHarness(t)
	paths := map[string]string{"chat": "/api/v1/chat/completions", "completions": "/api/v1/completions",
		"embeddings": "/api/v1/embeddings", "messages": "/api/v1/messages", "count_tokens": "/api/v1/messages/count_tokens"}
	before := upstreamCalls(h)
	for name, path := range paths {
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		_, _ = zw.Write([]byte(validBody(name, "hello")))
		_ = zw.Close()
		req, _ := http.NewRequest("POST", h.http.URL+path, &zb)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		req.Header.Set("Authorization", "Bearer "+h.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType || !bytes.Contains(b, []byte("Content-Encoding gzip")) || !bytes.Contains(b, []byte(`"error"`)) {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
		}
	}
	if n := upstreamCalls(h) - before; n != 0 {
		t.Fatalf("%d encoded bodies reached an upstream", n)
	}
}

// A client's mistake that is not one of OpenAI's named statuses (a wrong
// method, a body too large or sent compressed) was typed api_error, which
// reads as the gateway's fault; OpenAI types every client error
// invalid_request_error.
func TestClientErrorsAreInvalidRequests(t *testing.T) {
	h := newHarness(t, harnessOpts{cfg: Config{MaxBodyBytes: 1 << 10}})
	big := `{"model":"test/openai","messages":[{"role":"user","content":"` + strings.Repeat("x", 2<<10) + `"}]}`
	clientMistakes(t, h.http.URL+"/api/v1/chat/completions", "Authorization", "Bearer "+h.key, big, "invalid_request_error")
}

// On /messages the same mistakes take Anthropic's types: request_too_large
// for a body over the limit, invalid_request_error for any other 4XX.
func TestMessagesClientErrorsTakeAnthropicsTypes(t *testing.T) {
	h := msgHarness(t, harnessOpts{cfg: Config{MaxBodyBytes: 1 << 10}})
	big := oneMessage("claude-sonnet-4-6", strings.Repeat("x", 2<<10), `,"max_tokens":10`)
	clientMistakes(t, h.http.URL+"/api/v1/messages", "x-api-key", h.key, big, "request_too_large")
}

// clientMistakes sends url a wrong method, a body over the 1 KiB limit and a
// compressed body, and checks each answer's error type: tooLarge for the
// body over the limit, invalid_request_error for the others.
func clientMistakes(t *testing.T, url, keyHeader, key, big, tooLarge string) {
	t.Helper()
	for _, c := range []struct {
		method, encoding, body, typ string
		status                      int
	}{
		{http.MethodGet, "", "", "invalid_request_error", http.StatusMethodNotAllowed},
		{http.MethodPost, "", big, tooLarge, http.StatusRequestEntityTooLarge},
		{http.MethodPost, "gzip", `{}`, "invalid_request_error", http.StatusUnsupportedMediaType},
	} {
		req, _ := http.NewRequest(c.method, url, strings.NewReader(c.body))
		req.Header.Set(keyHeader, key)
		req.Header.Set("Content-Type", "application/json")
		if c.encoding != "" {
			req.Header.Set("Content-Encoding", c.encoding)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantStatus(t, resp, b, c.status)
		want(t, decodeMap(t, b), "error.type", c.typ)
	}
}
