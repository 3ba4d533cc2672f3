package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// An upstream refusing the gateway's key may quote the key in its error
// message (OpenAI-compatible hosts and proxies do). That message went to
// the customer whole, in the 502's message: the operator's upstream key,
// in clear, in another party's hands. The key is taken out of what an
// upstream says before anyone sees it.
func TestUpstreamKeyQuotedInItsRefusalIsNotShown(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + r.Header.Get("X-Api-Key") + r.Header.Get("X-Goog-Api-Key")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"message":"Incorrect API key provided: `+key+`. Check it and try again."}}`)
	}))
	t.Cleanup(echo.Close)
	for _, kind := range []string{"openai", "anthropic", "gemini"} {
		t.Run(kind, func(t *testing.T) {
			h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
				"test/m":         {{fake: "m", kind: kind, baseURL: echo.URL}},
				"test/embedding": {{fake: "e", kind: kind, baseURL: echo.URL}},
			}})
			for _, c := range []struct{ path, body string }{
				{"/api/v1/chat/completions", `{"model":"test/m","messages":[{"role":"user","content":"hi"}]}`},
				{"/api/v1/chat/completions", `{"model":"test/m","stream":true,"messages":[{"role":"user","content":"hi"}]}`},
				{"/api/v1/embeddings", `{"model":"test/embedding","input":"hi"}`},
				{"/api/v1/messages", `{"model":"test/m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`},
			} {
				if kind == "anthropic" && strings.Contains(c.path, "embeddings") {
					continue // Anthropic serves no embeddings
				}
				st, b := h.send("POST", c.path, map[string][]string{"Authorization": {"Bearer " + h.key}}, c.body)
				if st != http.StatusBadGateway || !strings.Contains(string(b), "Incorrect API key provided") {
					t.Fatalf("%s: %d %s", c.body, st, b)
				}
				if strings.Contains(string(b), "upstream-secret") {
					t.Fatalf("%s: the upstream key is shown: %s", c.body, b)
				}
			}
			if strings.Contains(h.logs.String(), "upstream-secret") {
				t.Fatalf("the upstream key is logged: %s", h.logs.String())
			}
		})
	}
}
