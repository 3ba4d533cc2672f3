package server

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// upstream429 checks a 429 that upstream rate limits decided: OpenRouter's
// shape, the provider named, the Retry-After header when one is known,
// told apart from the key's own limit, nothing billed.
func (h *harness) upstream429(resp *http.Response, b []byte, provider, retryAfter string) {
	h.t.Helper()
	if resp.StatusCode != http.StatusTooManyRequests {
		h.t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	e := decodeError(h.t, b)
	md := e.Error.Metadata
	if e.Error.Code != 429 || md["provider_name"] != provider || md["provider"] != provider || md["limit"] != "upstream" {
		h.t.Fatalf("error %s", b)
	}
	if got := resp.Header.Get("Retry-After"); got != retryAfter {
		h.t.Fatalf("Retry-After %q, want %q: %s", got, retryAfter, b)
	}
	if retryAfter != "" && md["retry_after_seconds"] != mustFloat(h.t, retryAfter) {
		h.t.Fatalf("metadata.retry_after_seconds %v, want %s", md["retry_after_seconds"], retryAfter)
	}
	if len(h.completed()) != 0 {
		h.t.Fatal("a rate-limited request was billed")
	}
	h.heldIsZero()
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// When every upstream answered 429 the client gets a 429, as OpenRouter
// answers, with the soonest Retry-After the upstreams named, so that its
// SDK backs off rather than treating it as an outage.
func TestEveryUpstream429Is429(t *testing.T) {
	for _, kind := range kinds {
		for mode, body := range map[string]string{"unary": foBody, "stream": foStream} {
			t.Run(kind+"/"+mode, func(t *testing.T) {
				o := twoUpstreams(kind, providertest.Script{Status: 429, RetryAfter: "20"}, Config{})
				o.scripts["second"] = providertest.Script{Status: 429, RetryAfter: "7"}
				h := newHarness(t, o)
				resp, b := h.post(body)
				h.upstream429(resp, b, "second", "7")
				e := decodeError(t, b)
				if tried, _ := e.Error.Metadata["attempts"].([]any); len(tried) != 2 || e.Error.Metadata["upstream_status"] != float64(429) {
					t.Fatalf("metadata %v", e.Error.Metadata)
				}
				waitFor(t, func() bool { return len(h.failed()) == 1 })
				if f := h.failed()[0]; f.Status != 429 || f.Attempts != 2 || f.Outcome != domain.OutcomeUpstreamFailed || f.Reason != "upstreams_rate_limited" {
					t.Fatalf("failed event %+v", f)
				}
			})
		}
	}
}

// Without a Retry-After from one of them, none is sent: the client's own
// backoff decides.
func TestUpstream429WithoutRetryAfter(t *testing.T) {
	o := twoUpstreams("anthropic", providertest.Script{Status: 429, RetryAfter: "5"}, Config{})
	o.scripts["second"] = providertest.Script{Status: 429}
	h := newHarness(t, o)
	resp, b := h.post(foBody)
	h.upstream429(resp, b, "second", "")
}

// Rate limits mixed with an outage stay a 503.
func TestUpstream429MixedWithOutageIs503(t *testing.T) {
	for name, second := range map[string]providertest.Script{"503": {Status: 503}, "500": {Status: 500}} {
		t.Run(name, func(t *testing.T) {
			o := twoUpstreams("openai", providertest.Script{Status: 429, RetryAfter: "5"}, Config{})
			o.scripts["second"] = second
			h := newHarness(t, o)
			resp, b := h.post(foBody)
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "" {
				t.Fatalf("status %d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
			}
		})
	}
}

// Upstreams cooling down after 429s (their breakers open) count as rate
// limited: the 429's Retry-After is when the first of them takes requests
// again. One cooling down after an outage makes it a 503.
func TestUpstreamsCoolingAfter429sIs429(t *testing.T) {
	o := twoUpstreams("openai", providertest.Script{Status: 429, RetryAfter: "90"}, Config{})
	o.scripts["second"] = providertest.Script{Status: 429, RetryAfter: "2"}
	h := newHarness(t, o)
	// The harness's breakers open after 3 failures, for a minute.
	for i := 0; i < 3; i++ {
		resp, b := h.post(foBody)
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, b)
		}
	}
	resp, b := h.post(foBody)
	// first: 90 s named by the upstream, past its cooldown; second: its
	// minute of cooldown, the sooner.
	h.upstream429(resp, b, "second", "60")
	if n := len(h.fakes["first"].Received()) + len(h.fakes["second"].Received()); n != 6 {
		t.Fatalf("the open breakers let a request through: %d upstream requests", n)
	}

	o = twoUpstreams("openai", providertest.Script{Status: 503}, Config{})
	o.scripts["second"] = providertest.Script{Status: 429, RetryAfter: "2"}
	h = newHarness(t, o)
	for i := 0; i < 3; i++ {
		h.post(foBody)
	}
	if resp, b := h.post(foBody); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("cooling after 503s with the other rate limited: %d %s", resp.StatusCode, b)
	}
}

// Across a models fallback list the same rule holds: 429 only when every
// model's upstreams were rate limited.
func TestFallbackModelsRateLimited(t *testing.T) {
	for name, c := range map[string]struct {
		b    providertest.Script
		want int
	}{
		"both limited":         {providertest.Script{Status: 429, RetryAfter: "3"}, http.StatusTooManyRequests},
		"fallback is down":     {providertest.Script{Status: 503}, http.StatusServiceUnavailable},
		"fallback answers":     {providertest.Script{Text: "ok"}, http.StatusOK},
		"fallback answers 504": {providertest.Script{Status: 504}, http.StatusServiceUnavailable},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{
				models:  map[string][]upstreamSpec{"test/a": {{fake: "a", kind: "openai"}}, "test/b": {{fake: "b", kind: "gemini"}}},
				scripts: map[string]providertest.Script{"a": {Status: 429, RetryAfter: "9"}, "b": c.b},
			})
			resp, b := h.post(`{"model":"test/a","models":["test/b"],"messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.want, b)
			}
			if c.want == http.StatusTooManyRequests {
				h.upstream429(resp, b, "b", "3")
			}
		})
	}
}

// Embeddings follow the same rule.
func TestEmbeddingsUpstreams429Is429(t *testing.T) {
	h := embedHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{"openai/text-embedding-3-small": {
			{fake: "openai", kind: "openai"}, {fake: "gemini", kind: "gemini"}}},
		scripts: map[string]providertest.Script{"openai": {Status: 429, RetryAfter: "4"}, "gemini": {Status: 429, RetryAfter: "6"}},
	})
	resp, b := h.postEmbeddings(`{"model":"openai/text-embedding-3-small","input":"hi"}`)
	h.upstream429(resp, b, "gemini", "4")
}

// An OpenAI-format upstream that says, in its stream before any content,
// that it is rate limited (code 429 or rate_limit_exceeded) is rate
// limited as one that answered 429 would be: when every upstream says so,
// the client gets a 429.
func TestStreamRateLimitEventBeforeContentIsA429(t *testing.T) {
	for _, code := range []string{"429", "rate_limit_exceeded"} {
		t.Run(code, func(t *testing.T) {
			limited := providertest.Script{Text: "never", ErrorFirst: true, EventMessage: "Rate limit reached", EventCode: code}
			o := twoUpstreams("openai", limited, Config{})
			o.scripts["second"] = limited
			h := newHarness(t, o)
			resp, b := h.post(foStream)
			if resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if e := decodeError(t, b); e.Error.Metadata["limit"] != "upstream" {
				t.Fatalf("error %+v", e.Error)
			}
		})
	}
}
