package server

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// Rate limits are GCRA with burst = the per-minute limit (admission/doc.go).
// The gateway's clock is frozen in these tests, so no capacity comes back
// between requests and every header value is exact.

// "hi" in one message is 8 + 2 = 10 bytes, estimated at 10/4 = 2 tokens
// for TPM when no max_tokens is given.
const hiTokens = 2

func limitsHarness(t *testing.T, plan domain.Plan, usage providertest.Usage) *harness {
	return newHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "ok", Usage: usage}},
		plan:    plan,
		cfg:     Config{Now: frozenClock()},
	})
}

func headerInt(t *testing.T, resp *http.Response, name string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(resp.Header.Get(name), 10, 64)
	if err != nil {
		t.Fatalf("header %s = %q", name, resp.Header.Get(name))
	}
	return v
}

// check429 checks a rate-limit refusal: status, Retry-After, error shape and
// metadata, and that it is recorded as a rejected request.
func check429(t *testing.T, resp *http.Response, body []byte, limit string, retryAfter int64) {
	t.Helper()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429: %s", resp.StatusCode, body)
	}
	if got := headerInt(t, resp, "Retry-After"); got != retryAfter {
		t.Fatalf("Retry-After %d, want %d", got, retryAfter)
	}
	e := decodeError(t, body)
	if e.Error.Code != 429 || e.Error.Metadata["limit"] != limit || e.Error.Metadata["retry_after_seconds"] != float64(retryAfter) {
		t.Fatalf("error body %s", body)
	}
}

func TestStarterEleventhRequestInAMinuteIs429(t *testing.T) {
	// The fake reports 10 prompt + 1 completion tokens: each request's
	// estimate of 2 becomes 11 tokens once it settles.
	h := limitsHarness(t, domain.PlanStarter, providertest.Usage{Prompt: 10, Completion: 1})
	for i := int64(1); i <= 10; i++ {
		resp, b := h.post(chatBody("test/openai", 0, false))
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, b)
		}
		if headerInt(t, resp, "X-Ratelimit-Limit-Requests") != 10 || headerInt(t, resp, "X-Ratelimit-Limit-Tokens") != 100_000 {
			t.Fatalf("request %d: limits %s / %s", i, resp.Header.Get("X-Ratelimit-Limit-Requests"), resp.Header.Get("X-Ratelimit-Limit-Tokens"))
		}
		if got := headerInt(t, resp, "X-Ratelimit-Remaining-Requests"); got != 10-i {
			t.Fatalf("request %d: remaining requests %d, want %d", i, got, 10-i)
		}
		// Earlier requests' actual 11 tokens each, plus this one's estimate.
		if got, want := headerInt(t, resp, "X-Ratelimit-Remaining-Tokens"), 100_000-(i-1)*11-hiTokens; got != want {
			t.Fatalf("request %d: remaining tokens %d, want %d", i, got, want)
		}
		if resp.Header.Get("X-Ratelimit-Reset-Requests") == "" {
			t.Fatalf("request %d: no reset header", i)
		}
	}
	resp, b := h.post(chatBody("test/openai", 0, false))
	// Ten requests fill the minute; the next slot frees 60 s / 10 = 6 s on.
	check429(t, resp, b, "rpm", 6)
	if headerInt(t, resp, "X-Ratelimit-Remaining-Requests") != 0 || resp.Header.Get("X-Ratelimit-Reset-Requests") != "1m0s" {
		t.Fatalf("429 headers: remaining %s, reset %s", resp.Header.Get("X-Ratelimit-Remaining-Requests"), resp.Header.Get("X-Ratelimit-Reset-Requests"))
	}
	f := h.waitFailed(1)[0]
	if f.Status != 429 || f.Outcome != domain.OutcomeRejected || f.Reason != "rate_limited_rpm" || f.KeyID != h.keyID {
		t.Fatalf("failure event %+v", f)
	}
	h.heldIsZero()
}

func TestBusinessAllowsOneHundredRequestsAMinute(t *testing.T) {
	h := limitsHarness(t, domain.PlanBusiness, providertest.Usage{})
	counts := burst(t, []string{h.http.URL}, h.key, chatBody("test/openai", 0, false), 100)
	if counts[200] != 100 {
		t.Fatalf("statuses %v: want 100 × 200", counts)
	}
	resp, b := h.post(chatBody("test/openai", 0, false))
	// A slot frees every 60 s / 100 = 0.6 s: Retry-After rounds up to 1.
	check429(t, resp, b, "rpm", 1)
	if headerInt(t, resp, "X-Ratelimit-Limit-Requests") != 100 {
		t.Fatalf("limit header %s", resp.Header.Get("X-Ratelimit-Limit-Requests"))
	}
}

func TestEnterpriseCustomLimitsFromChangePlan(t *testing.T) {
	h := limitsHarness(t, domain.PlanStarter, providertest.Usage{Prompt: 10, Completion: 1})
	h.changePlan(domain.PlanChanged{Plan: domain.PlanEnterprise, RPM: 3, TPM: 2000})
	// An estimate over the whole TPM can never fit: 429 without Retry-After,
	// and it takes nothing. max_tokens 2500 + 2 = 2502 > 2000.
	resp, b := h.post(chatBody("test/openai", 2500, false))
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "" {
		t.Fatalf("too large: %d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	e := decodeError(t, b)
	if e.Error.Metadata["estimated_tokens"] != float64(2502) || e.Error.Metadata["tokens_per_minute"] != float64(2000) {
		t.Fatalf("too-large metadata %v", e.Error.Metadata)
	}
	for i := int64(1); i <= 3; i++ {
		resp, b := h.post(chatBody("test/openai", 0, false))
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, b)
		}
		if headerInt(t, resp, "X-Ratelimit-Limit-Requests") != 3 || headerInt(t, resp, "X-Ratelimit-Limit-Tokens") != 2000 ||
			headerInt(t, resp, "X-Ratelimit-Remaining-Requests") != 3-i {
			t.Fatalf("request %d headers %v", i, resp.Header)
		}
	}
	resp, b = h.post(chatBody("test/openai", 0, false))
	check429(t, resp, b, "rpm", 20) // 60 s / 3
	h.waitFailed(2)
}

func TestTPMCountsActualUsage(t *testing.T) {
	// Each request is estimated at 2 tokens but uses 10 + 600 = 610.
	h := limitsHarness(t, domain.PlanEnterprise, providertest.Usage{Prompt: 10, Completion: 600})
	h.changePlan(domain.PlanChanged{Plan: domain.PlanEnterprise, RPM: 1000, TPM: 1000})
	resp, b := h.post(chatBody("test/openai", 0, false))
	if resp.StatusCode != 200 || headerInt(t, resp, "X-Ratelimit-Remaining-Tokens") != 1000-hiTokens {
		t.Fatalf("first: %d, remaining %s: %s", resp.StatusCode, resp.Header.Get("X-Ratelimit-Remaining-Tokens"), b)
	}
	// The first request's 610 actual tokens count, not its estimate of 2:
	// 1000 − 610 − 2 = 388.
	resp, b = h.post(chatBody("test/openai", 0, false))
	if resp.StatusCode != 200 || headerInt(t, resp, "X-Ratelimit-Remaining-Tokens") != 1000-610-hiTokens {
		t.Fatalf("second: %d, remaining %s: %s", resp.StatusCode, resp.Header.Get("X-Ratelimit-Remaining-Tokens"), b)
	}
	// Now 2 × 610 = 1220 tokens are in the window, over the 1000 a minute
	// allows: the third waits until 1220 + 2 tokens fit, i.e.
	// (1222 − 1000) × 60 s / 1000 = 13.32 s → Retry-After 14. Counted by
	// estimates alone (2 + 2 + 2) it would have passed.
	resp, b = h.post(chatBody("test/openai", 0, false))
	check429(t, resp, b, "tpm", 14)
	if headerInt(t, resp, "X-Ratelimit-Remaining-Tokens") != 0 {
		t.Fatalf("remaining tokens %s", resp.Header.Get("X-Ratelimit-Remaining-Tokens"))
	}
}

// A key refused for tokens that waits what X-Ratelimit-Reset-Tokens says
// (or Retry-After) is admitted: the headers round the wait up, never down.
func TestWaitingTheResetHeaderIsEnough(t *testing.T) {
	clock := &testClock{at: time.Now()}
	h := newHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "ok", Usage: providertest.Usage{Prompt: 10, Completion: 1114}}},
		plan:    domain.PlanEnterprise,
		cfg:     Config{Now: clock.Now},
	})
	h.changePlan(domain.PlanChanged{Plan: domain.PlanEnterprise, RPM: 1000, TPM: 1000})
	// The first request uses 1124 tokens: 1124 × 60 ms = 67.44 s of backlog.
	resp, b := h.post(chatBody("test/openai", 0, false))
	if resp.StatusCode != 200 {
		t.Fatalf("first: %d %s", resp.StatusCode, b)
	}
	// One estimated at the whole minute's 1000 tokens (998 + 2) fits only
	// once the backlog is gone, 67.44 s on.
	whole := chatBody("test/openai", 998, false)
	resp, b = h.post(whole)
	check429(t, resp, b, "tpm", 68)
	if got := resp.Header.Get("X-Ratelimit-Reset-Tokens"); got != "1m8s" {
		t.Fatalf("X-Ratelimit-Reset-Tokens %q, want 1m8s", got)
	}
	// One request of 1000 a minute: 60 ms, under a second, in milliseconds.
	if got := resp.Header.Get("X-Ratelimit-Reset-Requests"); got != "60ms" {
		t.Fatalf("X-Ratelimit-Reset-Requests %q, want 60ms", got)
	}
	reset, err := time.ParseDuration(resp.Header.Get("X-Ratelimit-Reset-Tokens"))
	if err != nil {
		t.Fatal(err)
	}
	clock.add(reset)
	resp, b = h.post(whole)
	if resp.StatusCode != 200 {
		t.Fatalf("after waiting the %s the header said: %d %s", reset, resp.StatusCode, b)
	}
}

// A stream's tokens beyond its estimate count from when its usage is known,
// its end: a stream longer than a minute leaves them in the current window,
// not in a minute already past.
func TestLongStreamTokensCountWhenItEnds(t *testing.T) {
	clock := &testClock{at: time.Now()}
	h := newHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "one two three four", Chunks: 4, ChunkDelay: 200 * time.Millisecond,
			Usage: providertest.Usage{Prompt: 10, Completion: 890}}},
		plan: domain.PlanEnterprise,
		cfg:  Config{Now: clock.Now},
	})
	h.changePlan(domain.PlanChanged{Plan: domain.PlanEnterprise, RPM: 1000, TPM: 1000})
	resp, r := openStream(t, h.http.URL, h.key, chatBody("test/openai", 0, true))
	if got := headerInt(t, resp, "X-Ratelimit-Remaining-Tokens"); got != 1000-hiTokens {
		t.Fatalf("stream: remaining tokens %d, want %d", got, 1000-hiTokens)
	}
	// The stream runs on for a minute and a half before its usage comes.
	clock.add(90 * time.Second)
	rest, _ := io.ReadAll(r)
	resp.Body.Close()
	if !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Fatalf("stream did not complete: %q", rest)
	}
	// Its 900 tokens less the estimate of 2 taken at its start are in this
	// minute, beside the next request's own estimate.
	resp, b := h.post(chatBody("test/openai", 0, false))
	if resp.StatusCode != 200 {
		t.Fatalf("after the stream: %d %s", resp.StatusCode, b)
	}
	if got, want := headerInt(t, resp, "X-Ratelimit-Remaining-Tokens"), int64(1000-(900-hiTokens)-hiTokens); got != want {
		t.Fatalf("after the stream: remaining tokens %d, want %d", got, want)
	}
}
