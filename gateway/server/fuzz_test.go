package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzChatEndpoint posts arbitrary bodies to a whole in-process gateway.
// Whatever the body: no panic, no 5xx but the upstream ones (502/503), the
// error shape on every error, and every credit hold given back.
func FuzzChatEndpoint(f *testing.F) {
	for _, s := range []string{
		`{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"test/anthropic","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]}`,
		`{"model":"test/gemini","max_tokens":5,"stop":["x"],"seed":1,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}`,
		`{"model":"test/anthropic","messages":[{"role":"user","content":"q"},{"role":"assistant","content":"prefill "}]}`,
		`{"model":"test/openai","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"required","messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"r"}]}`,
		`{"model":"test/gemini","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}},"messages":[{"role":"user","content":"q"}]}`,
		`{"model":"test/openai","provider":{"order":["x"]},"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"test/openai","max_tokens":99999999999,"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"test/openai","n":3,"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"test/anthropic","n":2,"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"test/openai","messages":[]}`,
		`{"model":"test/openai","messages":[{"role":"robot","content":"hi"}]}`,
		`{"model":"test/openai","messages":[{"role":"user","content":null}]}`,
		`{"model":"nobody/none","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":1,"messages":{}}`,
		`{"model":"test/openai","temperature":"hot","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"test/openai","messages":[{"role":"user","content":"hi"}]`,
		`[]`, `null`, `"x"`, ``, `{}`, "\x00\xff",
		// Deep, wide, not UTF-8, absurd token counts. Small enough for the
		// fuzzer to mutate quickly: bodies of megabytes have their own tests
		// (TestDeeplyNestedBodyIsRefusedCheaply, chat's FuzzNesting).
		`{"model":"test/openai","messages":[{"role":"user","content":"hi"}],"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
		`{"model":"test/openai","messages":[{"role":"user","content":"hi"}],"x":[` + strings.Repeat(`{"a":[]},`, 200) + `1]}`,
		"{\"model\":\"test/openai\",\"messages\":[{\"role\":\"user\",\"content\":\"\xc3\x28\"}]}",
		`{"model":"test/openai","messages":[{"role":"user","content":"\udfff"}]}`,
		`{"model":"test/openai","max_tokens":9e15,"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"test/openai","max_completion_tokens":4097,"messages":[{"role":"user","content":"hi"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h := newHarness(t, harnessOpts{})
		resp, b := h.post(string(body))
		h.keptPromises(body, resp, b)
	})
}

// FuzzResponsesEndpoint posts arbitrary bodies to /api/v1/responses, whose
// translation to the chat shape is its own parser: the same promises as
// for chat (no panic, no 5xx but the upstream ones, the error shape, every
// hold given back).
func FuzzResponsesEndpoint(f *testing.F) {
	for _, s := range []string{
		`{"model":"test/openai","input":"hi"}`,
		`{"model":"test/anthropic","stream":true,"instructions":"be brief","input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]}]}`,
		`{"model":"test/gemini","max_output_tokens":5,"input":[{"role":"developer","content":"x"},{"role":"user","content":"q"}]}`,
		`{"model":"test/openai","tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],"tool_choice":"required","input":[{"role":"user","content":"q"},{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"r"}]}`,
		`{"model":"test/openai","previous_response_id":"resp_1","input":"hi"}`,
		`{"model":"test/openai","input":[{"type":"item_reference","id":"x"}]}`,
		`{"model":"test/openai","text":{"format":{"type":"json_schema","name":"x","schema":{"type":"object"}}},"input":"q"}`,
		`{"model":"test/openai","reasoning":{"effort":"high"},"input":"q"}`,
		`{"model":"test/openai","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,AAAA"}]}]}`,
		`{"model":"test/openai","input":[]}`, `{"model":"test/openai","input":null}`, `{"model":"test/openai","input":7}`,
		`{"model":"test/openai","input":[{"role":"robot","content":"hi"}]}`,
		`{"model":"test/openai","max_output_tokens":99999999999,"input":"hi"}`,
		`{"model":1,"input":{}}`, `[]`, `null`, ``, `{}`, "\x00\xff",
		`{"model":"test/openai","input":[` + strings.Repeat(`{"role":"user","content":[]},`, 100) + `1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h := newHarness(t, harnessOpts{})
		resp, b := h.postResponses(string(body))
		h.keptPromises(body, resp, b)
	})
}

// keptPromises checks a fuzzed request's answer: no 5xx but the upstream
// ones, the error shape on every error, valid JSON, no panic logged, and
// every credit hold given back.
func (h *harness) keptPromises(body []byte, resp *http.Response, b []byte) {
	t := h.t
	t.Helper()
	st := resp.StatusCode
	if st >= 500 && st != 502 && st != 503 {
		t.Fatalf("status %d for %q: %s", st, body, b)
	}
	if st >= 400 {
		e := decodeError(t, b)
		if e.Error.Code != st || e.Error.Message == "" {
			t.Fatalf("error body %s for status %d", b, st)
		}
	} else if st == 200 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && !json.Valid(b) {
		t.Fatalf("invalid JSON response %q", b)
	}
	if strings.Contains(h.logs.String(), "panic") {
		t.Fatalf("panic logged for %q: %s", body, h.logs.String())
	}
	h.heldSoonZero()
}

// heldSoonZero waits for the deferred release of a request whose error
// response may reach the client just before the handler's cleanup ran.
func (h *harness) heldSoonZero() {
	h.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		held, n, err := h.ledger.Held(context.Background(), h.account)
		if err != nil {
			h.t.Fatal(err)
		}
		if n == 0 && held.IsZero() {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("holds left: %d totalling %s", n, held)
		}
	}
}
