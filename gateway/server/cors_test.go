package server

import (
	"net/http"
	"strings"
	"testing"
)

// OpenRouter's API answers browsers of any origin (a web app calling it
// with its user's key), and RouteFree's answered them nothing: a page's
// fetch of /api/v1/chat/completions failed at its preflight. /api/v1 now
// answers CORS for any origin, without credentials (its callers present
// keys, not cookies), and exposes the headers clients read; other paths
// (the console, the admin API) answer none, and a request without an
// Origin (a server's SDK) gets no CORS header at all.
func TestAPIAnswersBrowsersOfAnyOrigin(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/m": {{fake: "m", kind: "openai"}}}})
	do := func(method, path string, hdr map[string]string, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, h.http.URL+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	const origin = "https://app.example"
	pre := do("OPTIONS", "/api/v1/chat/completions", map[string]string{"Origin": origin,
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type,x-title,http-referer"}, "")
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(strings.ToLower(pre.Header.Get("Access-Control-Allow-Headers")), "authorization") ||
		pre.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight: %d %v", pre.StatusCode, pre.Header)
	}
	post := do("POST", "/api/v1/chat/completions", map[string]string{"Origin": origin, "Authorization": "Bearer " + h.key,
		"Content-Type": "application/json"}, `{"model":"test/m","messages":[{"role":"user","content":"hi"}]}`)
	if post.StatusCode != http.StatusOK || post.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(post.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
		t.Fatalf("a browser's request: %d %v", post.StatusCode, post.Header)
	}
	if r := do("GET", "/admin/api/accounts", map[string]string{"Origin": origin}, ""); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("a path outside /api/v1 answers CORS: %v", r.Header)
	}
	if r := do("GET", "/api/v1/models", nil, ""); r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Vary") != "" {
		t.Fatalf("a request without an Origin got CORS headers: %v", r.Header)
	}
}
