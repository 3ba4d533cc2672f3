package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// shapeUpstream is an OpenAI-compatible host answering with message, as a
// whole answer or as one delta of a stream.
func shapeUpstream(t *testing.T, message string) string {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(b), `"stream":true`) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":"u1","object":"chat.completion","choices":[{"index":0,"message":`+message+
				`,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, sseEvents(`{"id":"u1","choices":[{"index":0,"delta":`+message+`}]}`,
			`{"id":"u1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}`,
			`[DONE]`))
	}))
	t.Cleanup(up.Close)
	return up.URL
}

// An OpenAI-compatible upstream may write a message's content as an array
// of parts (Mistral's reasoning models do), or a field with another type
// than OpenAI's. Chat relays the answer as it came; /messages and
// /responses answered a 502 "could not be rendered" for a request already
// billed (SDKs retry a 502, and pay again), their streams dropped the text,
// and /completions answered in chat's shape instead of text_completion's.
func TestAnswersOfOtherShapesRenderOnEveryAPI(t *testing.T) {
	cases := []struct{ name, message, text string }{
		{"content parts", `{"role":"assistant","content":[{"type":"text","text":"Hello "},{"type":"text","text":"there"}]}`, "Hello there"},
		{"content a number", `{"role":"assistant","content":5}`, ""},
		{"tool_calls an object", `{"role":"assistant","content":"Hello there","tool_calls":{}}`, "Hello there"},
		{"reasoning a number", `{"role":"assistant","content":"Hello there","reasoning":5}`, "Hello there"},
	}
	type api struct{ path, body, end string }
	apis := []api{
		{"/api/v1/messages", `{"model":"test/compat","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`, "message_stop"},
		{"/api/v1/responses", `{"model":"test/compat","input":"hi"}`, "response.completed"},
		{"/api/v1/completions", `{"model":"test/compat","prompt":"hi"}`, "[DONE]"},
	}
	for _, c := range cases {
		url := shapeUpstream(t, c.message)
		for _, a := range apis {
			for _, stream := range []bool{false, true} {
				name := c.name + strings.TrimPrefix(a.path, "/api/v1")
				if stream {
					name += " stream"
				}
				t.Run(name, func(t *testing.T) {
					h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
						models: map[string][]upstreamSpec{"test/compat": {{kind: "openai", baseURL: url}}}})
					body := a.body
					if stream {
						body = strings.Replace(body, "{", `{"stream":true,`, 1)
					}
					st, b := h.send("POST", a.path, map[string][]string{"Authorization": {"Bearer " + h.key}}, body)
					out := string(b)
					if st != 200 || !strings.Contains(out, c.text) || strings.Contains(out, `"chat.completion`) {
						t.Fatalf("%d %s", st, out)
					}
					if stream && !strings.Contains(out, a.end) {
						t.Fatalf("the stream did not end: %s", out)
					}
					if !stream && c.text != "" && strings.Count(out, c.text) != 1 {
						t.Fatalf("text not rendered once: %s", out)
					}
					if cs := h.completed(); len(cs) != 1 || cs[0].Usage.Output != 3 {
						t.Fatalf("completed: %+v", cs)
					}
				})
			}
		}
	}
}
