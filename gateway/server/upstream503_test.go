package server

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// testClock is a gateway clock that moves only when a test moves it.
type testClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.at = c.at.Add(d)
	c.mu.Unlock()
}

// upstreams503 checks a 503 for a model none of whose upstreams served: its
// Retry-After header and metadata.retry_after_seconds, both absent when
// retryAfter is "".
func upstreams503(t *testing.T, resp *http.Response, b []byte, retryAfter string) {
	t.Helper()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if got := resp.Header.Get("Retry-After"); got != retryAfter {
		t.Fatalf("Retry-After %q, want %q: %s", got, retryAfter, b)
	}
	md := decodeError(t, b).Error.Metadata
	if retryAfter == "" {
		if _, ok := md["retry_after_seconds"]; ok {
			t.Fatalf("metadata.retry_after_seconds without a Retry-After: %s", b)
		}
		return
	}
	if md["retry_after_seconds"] != mustFloat(t, retryAfter) {
		t.Fatalf("metadata.retry_after_seconds %v, want %s: %s", md["retry_after_seconds"], retryAfter, b)
	}
}

// When every upstream of a model is cooling down, the 503 says when the
// first of them takes requests again (Retry-After, whole seconds rounded
// up), so that SDKs, which honour it, wait that long rather than retrying
// blindly into open breakers. Upstreams that failed without entering a
// cooldown may be tried again at once: no Retry-After then, the client's
// own backoff decides.
func TestUpstreamsCoolingDown503HasRetryAfter(t *testing.T) {
	for _, kind := range kinds {
		for mode, body := range map[string]string{"unary": foBody, "stream": foStream} {
			t.Run(kind+"/"+mode, func(t *testing.T) {
				clock := &testClock{at: time.Now()}
				o := twoUpstreams(kind, providertest.Script{Status: 503}, Config{Now: clock.Now})
				o.scripts["second"] = providertest.Script{Status: 500}
				h := newHarness(t, o)
				// The harness's breakers open after 3 failures, for a minute.
				for i := 0; i < 2; i++ {
					resp, b := h.post(body)
					upstreams503(t, resp, b, "")
				}
				// The third failure opens both: the cooldown they just entered.
				resp, b := h.post(body)
				upstreams503(t, resp, b, "60")
				// Both cooling: 39.5 s left, rounded up.
				clock.add(20500 * time.Millisecond)
				resp, b = h.post(body)
				upstreams503(t, resp, b, "40")
				if n := len(h.fakes["first"].Received()) + len(h.fakes["second"].Received()); n != 6 {
					t.Fatalf("the open breakers let a request through: %d upstream requests", n)
				}
			})
		}
	}
}

// Cooling down unevenly: the soonest end counts, and an upstream that is
// rate limited with a named Retry-After counts with that moment.
func TestUpstreamsCoolingDownUnevenly(t *testing.T) {
	clock := &testClock{at: time.Now()}
	o := twoUpstreams("openai", providertest.Script{Status: 503}, Config{Now: clock.Now})
	o.scripts["second"] = providertest.Script{Text: "from the second"}
	h := newHarness(t, o)
	// Three requests open the first's breaker; the second answers them.
	for i := 0; i < 3; i++ {
		if resp, b := h.post(foBody); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, b)
		}
	}
	clock.add(30 * time.Second)
	// The second now fails with a 503 (its breaker stays closed): it may be
	// tried again at once, so no Retry-After.
	h.fakes["second"].SetScript(providertest.Script{Status: 503})
	resp, b := h.post(foBody)
	upstreams503(t, resp, b, "")
	// Rate limited for 12 s with the first cooling 30 s more: a 503 (the
	// first's cooldown is an outage's) that says 12.
	h.fakes["second"].SetScript(providertest.Script{Status: 429, RetryAfter: "12"})
	resp, b = h.post(foBody)
	upstreams503(t, resp, b, "12")
}

// The Messages endpoint and embeddings say the same.
func TestUpstreamsCoolingDownOtherEndpoints(t *testing.T) {
	clock := &testClock{at: time.Now()}
	o := twoUpstreams("anthropic", providertest.Script{Status: 503}, Config{Now: clock.Now})
	o.scripts["second"] = providertest.Script{Status: 503}
	h := newHarness(t, o)
	for i := 0; i < 3; i++ {
		h.post(foBody)
	}
	clock.add(59 * time.Second)
	resp, b := h.postMessages("", h.key, `{"model":"test/fo","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("messages: %d Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}

	clock = &testClock{at: time.Now()}
	h = embedHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{"openai/text-embedding-3-small": {
			{fake: "openai", kind: "openai"}, {fake: "gemini", kind: "gemini"}}},
		scripts: map[string]providertest.Script{"openai": {Status: 503}, "gemini": {Status: 502}},
		cfg:     Config{Now: clock.Now},
	})
	for i := 0; i < 2; i++ {
		resp, b := h.postEmbeddings(`{"model":"openai/text-embedding-3-small","input":"hi"}`)
		upstreams503(t, resp, b, "")
	}
	resp, b = h.postEmbeddings(`{"model":"openai/text-embedding-3-small","input":"hi"}`)
	upstreams503(t, resp, b, "60")
}
