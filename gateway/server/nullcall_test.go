package server

import (
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// An OpenAI-compatible upstream that streamed a tool-call delta of null
// (one without its index, which the gateway numbers) panicked the handler
// after content had gone out: the client's stream stopped without its end,
// and what was delivered was recorded as a failure and never billed. The
// delta goes through as sent and the stream ends as any other.
func TestNullToolCallDeltaMidStreamIsRelayedAndBilled(t *testing.T) {
	up := newWireUpstream(t, sseEvents(
		`{"id":"u1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello there"}}]}`,
		`{"id":"u1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[null]}}]}`,
		`{"id":"u1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}`,
		`[DONE]`))
	for _, path := range []string{"/api/v1/chat/completions", "/api/v1/messages", "/api/v1/responses"} {
		t.Run(strings.TrimPrefix(path, "/api/v1/"), func(t *testing.T) {
			h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
				models: map[string][]upstreamSpec{"test/compat": {{kind: "openai", baseURL: up.srv.URL}}}})
			body := `{"model":"test/compat","stream":true,"max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`
			end := "data: [DONE]"
			switch path {
			case "/api/v1/messages":
				end = "event: message_stop"
			case "/api/v1/responses":
				body, end = `{"model":"test/compat","stream":true,"input":"hi"}`, "event: response.completed"
			}
			st, b := h.send("POST", path, map[string][]string{"Authorization": {"Bearer " + h.key}}, body)
			if st != 200 || !strings.Contains(string(b), "Hello there") || !strings.Contains(string(b), end) {
				t.Fatalf("%d %s", st, b)
			}
			if strings.Contains(h.logs.String(), "panic") {
				t.Fatalf("the handler panicked: %s", h.logs.String())
			}
			c, f := h.completed(), h.failed()
			if len(c) != 1 || len(f) != 0 || c[0].Usage.Output != 3 || !c[0].Cost.IsPositive() {
				t.Fatalf("completed %+v, failed %+v", c, f)
			}
			h.heldIsZero()
		})
	}
}
