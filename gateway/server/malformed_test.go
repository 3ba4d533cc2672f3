package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// errorIn200 is each provider's error body, sent with a 200 as some hosts
// do when they fail after their headers went out.
var errorIn200 = map[string]string{
	"openai":    `{"error":{"message":"the model is overloaded","type":"server_error","code":500}}`,
	"anthropic": `{"type":"error","error":{"type":"overloaded_error","message":"the model is overloaded"}}`,
	"gemini":    `{"error":{"code":503,"message":"the model is overloaded","status":"UNAVAILABLE"}}`,
}

// A 200 whose body is an error, not an answer, was once served as an
// empty completion (choices null or one empty message) and billed as a
// completed request. It is the upstream failing, as with a 5xx: the next
// upstream answers, and with none left the client gets the error in
// OpenRouter's shape, unbilled.
func TestErrorBodyIn200IsAnUpstreamFailure(t *testing.T) {
	for kind, body := range errorIn200 {
		t.Run(kind, func(t *testing.T) {
			base := rawUpstream(t, "application/json", body)
			if kind == "openai" {
				base += "/v1"
			}
			h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
				"test/fails-over": {{fake: kind, kind: kind, baseURL: base}, {fake: "good", kind: "openai"}},
				"test/only":       {{fake: kind, kind: kind, baseURL: base}},
			}})
			resp, b := h.post(`{"model":"test/fails-over","messages":[{"role":"user","content":"hi"}]}`)
			var out struct {
				Provider string
				Choices  []struct{ Message struct{ Content string } }
			}
			if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || out.Provider != "good" ||
				len(out.Choices) != 1 || out.Choices[0].Message.Content != "Hello from the fake." {
				t.Fatalf("fails over: %d %s", resp.StatusCode, b)
			}
			resp, b = h.post(`{"model":"test/only","messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode < 500 {
				t.Fatalf("only upstream: %d %s", resp.StatusCode, b)
			}
			if e := decodeError(t, b); e.Error.Code != resp.StatusCode || !strings.Contains(string(b), `"attempts":[{"error":"http_5`) {
				t.Fatalf("only upstream: error %s", b)
			}
			h.catchUp()
			if evs := h.completed(); len(evs) != 1 || evs[0].Provider != "good" {
				t.Fatalf("billed %+v", evs)
			}
		})
	}
}
