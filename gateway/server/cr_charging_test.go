package server

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// The charge rules of docs/charging.md, one test per outcome. Prices are
// the harness default: input 10, cached 5, output 20 NTD per million.

// onlyCompleted returns the request's single completed event and checks that
// the balance is what the events say, in the projection and in a replay.
func (h *harness) onlyCompleted(outcome string) *domain.RequestCompleted {
	h.t.Helper()
	evs := h.completed()
	if len(evs) != 1 || evs[0].Outcome != outcome {
		for _, e := range evs {
			h.t.Logf("completed: %+v", *e)
		}
		h.t.Fatalf("%d completed events, want one with outcome %s", len(evs), outcome)
	}
	h.balanceIsHistory()
	return evs[0]
}

// balanceIsHistory: the balance is the top-ups minus the completed events'
// costs, and a replay agrees.
func (h *harness) balanceIsHistory() {
	h.t.Helper()
	want := decimal.Zero
	for _, e := range h.events(domain.TypeCreditsToppedUp) {
		want = want.Add(e.(*domain.CreditsToppedUp).Amount)
	}
	for _, e := range h.events(domain.TypeCreditsAdjusted) {
		want = want.Add(e.(*domain.CreditsAdjusted).Amount)
	}
	for _, e := range h.completed() {
		want = want.Sub(e.Cost)
	}
	h.waitHeldZero()
	if bal := h.balance(); !bal.Equal(want) {
		h.t.Fatalf("balance %s, want %s", bal, want)
	}
	if r := h.replayBalance(); !r.Equal(want) {
		h.t.Fatalf("replayed balance %s, want %s", r, want)
	}
}

// noCharge: nothing was billed and the failure is recorded with outcome.
func (h *harness) noCharge(status int, outcome string) *domain.RequestFailed {
	h.t.Helper()
	if n := len(h.completed()); n != 0 {
		h.t.Fatalf("%d completed events for a request that must not be charged", n)
	}
	f := h.waitFailed(1)[0]
	if f.Status != status || f.Outcome != outcome || f.KeyID != h.keyID || f.AccountID != h.account {
		h.t.Fatalf("failure event %+v, want status %d outcome %s", f, status, outcome)
	}
	h.balanceIsHistory()
	return f
}

func TestChargeCompleted(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "ok", Usage: providertest.Usage{Prompt: 300, Cached: 100, Completion: 50}},
	}})
	resp, b := h.post(chatBody("test/openai", 1000, false))
	wantStatus(t, resp, b, 200)
	e := h.onlyCompleted(domain.OutcomeCompleted)
	// (200 × 10 + 100 × 5 + 50 × 20) / 1e6 = 3500 / 1e6
	if !e.Cost.Equal(dec("0.0035")) || e.Usage.Estimated {
		t.Fatalf("event %+v", e)
	}
}

func TestChargeUpstreamFailedBeforeFirstByte(t *testing.T) {
	t.Run("failover: only the answering upstream is billed", func(t *testing.T) {
		h := newHarness(t, twoUpstreams("openai", providertest.Script{Status: 503}, Config{}))
		resp, b := h.post(chatBody("test/fo", 1000, true))
		wantStatus(t, resp, b, 200)
		e := h.onlyCompleted(domain.OutcomeCompleted)
		// The second fake reports 10 prompt tokens and 3 completion tokens
		// (one per chunk): (10 × 10 + 3 × 20) / 1e6 = 0.00016.
		if e.Attempts != 2 || e.Provider != "second" || !e.Cost.Equal(dec("0.00016")) {
			t.Fatalf("event %+v", e)
		}
	})
	t.Run("every upstream failed: no charge", func(t *testing.T) {
		o := twoUpstreams("openai", providertest.Script{Status: 503}, Config{})
		o.scripts["second"] = providertest.Script{Status: 500}
		h := newHarness(t, o)
		resp, b := h.post(chatBody("test/fo", 1000, false))
		wantStatus(t, resp, b, 503)
		if f := h.noCharge(503, domain.OutcomeUpstreamFailed); f.Attempts != 2 {
			t.Fatalf("attempts %d", f.Attempts)
		}
	})
}

func TestChargeUpstreamBrokeMidStream(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "one two three four", Chunks: 4, CutAfter: 2, Usage: providertest.Usage{Prompt: 10, Completion: 400}},
	}})
	resp, b := h.post(chatBody("test/openai", 1000, true))
	wantStatus(t, resp, b, 200)
	chunks := sseChunks(t, b)
	last := chunks[len(chunks)-1]
	if last.Error == nil || last.Error.Code != 502 || strings.Contains(string(b), "[DONE]") {
		t.Fatalf("a broken stream must end with an error chunk and no [DONE]: %s", b)
	}
	e := h.onlyCompleted(domain.OutcomeUpstreamBrokeMid)
	// The upstream never sent its usage (it would have said 400 tokens):
	// the gateway counts the two delivered chunks itself and says so.
	u := e.Usage
	if !u.Estimated || u.Output <= 0 || u.Output >= 400 || e.FinishReason != "error" {
		t.Fatalf("event %+v", e)
	}
	if want := defaultPrice().Cost(u); !e.Cost.Equal(want) || !e.Cost.IsPositive() {
		t.Fatalf("cost %s, want %s for the delivered %d tokens", e.Cost, want, u.Output)
	}
}

func TestChargeClientDisconnected(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "a b c d e f g h i j", Chunks: 10, ChunkDelay: 50 * time.Millisecond, Usage: providertest.Usage{Prompt: 10, Completion: 1000}},
	}})
	resp, _ := openStream(t, h.http.URL, h.key, chatBody("test/openai", 1000, true))
	resp.Body.Close()
	h.waitHeldZero()
	e := h.onlyCompleted(domain.OutcomeClientDisconnected)
	// Billed for what the upstream produced until the client left: counted
	// by the gateway, far below the 1000 tokens of a finished answer.
	u := e.Usage
	if !u.Estimated || u.Output <= 0 || u.Output >= 1000 {
		t.Fatalf("event %+v", e)
	}
	if want := defaultPrice().Cost(u); !e.Cost.Equal(want) || !e.Cost.IsPositive() {
		t.Fatalf("cost %s, want %s", e.Cost, want)
	}
}

func TestChargeTimeout(t *testing.T) {
	h := newHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "late", Delay: 2 * time.Second}},
		cfg:     Config{FirstByteTimeout: 100 * time.Millisecond, UnaryTimeout: 100 * time.Millisecond},
	})
	for _, stream := range []bool{false, true} {
		resp, b := h.post(chatBody("test/openai", 1000, stream))
		wantStatus(t, resp, b, http.StatusGatewayTimeout)
		if e := decodeError(t, b); e.Error.Metadata["attempts"] == nil {
			t.Fatalf("504 without the attempts: %s", b)
		}
	}
	if n := len(h.completed()); n != 0 {
		t.Fatalf("%d completed events for timed-out requests", n)
	}
	fs := h.waitFailed(2)
	for _, f := range fs {
		if f.Outcome != domain.OutcomeTimeout || f.Status != 504 || (f.Reason != "upstreams_timed_out" && f.Reason != "upstream_timed_out") {
			t.Fatalf("failure event %+v", f)
		}
	}
	h.balanceIsHistory()
}

func TestChargeRejected(t *testing.T) {
	cases := []struct {
		name   string
		o      harnessOpts
		status int
		send   func(h *harness) (*http.Response, []byte)
	}{
		{"402 credits", harnessOpts{credit: "0.01"}, 402, func(h *harness) (*http.Response, []byte) { return h.post(chatBody("test/openai", 1000, false)) }},
		{"400 unknown model", harnessOpts{}, 400, func(h *harness) (*http.Response, []byte) { return h.post(chatBody("a/b", 1000, false)) }},
		{"429 rpm", harnessOpts{cfg: Config{Now: frozenClock()}}, 429, func(h *harness) (*http.Response, []byte) {
			h.changePlan(domain.PlanChanged{Plan: domain.PlanEnterprise, RPM: 1, TPM: 100_000})
			r, b := h.post(chatBody("test/openai", 1000, false))
			if r.StatusCode != 200 {
				h.t.Fatalf("first request %d %s", r.StatusCode, b)
			}
			return h.post(chatBody("test/openai", 1000, false))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.o)
			resp, b := c.send(h)
			wantStatus(t, resp, b, c.status)
			fs := h.waitFailed(1)
			if fs[0].Status != c.status || fs[0].Outcome != domain.OutcomeRejected {
				t.Fatalf("failure event %+v", fs[0])
			}
			h.balanceIsHistory()
		})
	}
	t.Run("401 records nothing", func(t *testing.T) {
		h := newHarness(t, harnessOpts{})
		resp, b := h.postKey("sk-rf-unknown", chatBody("test/openai", 1000, false))
		wantStatus(t, resp, b, 401)
		// A later request's failure is recorded: by then the 401's would be.
		resp, b = h.post(chatBody("a/b", 1000, false))
		wantStatus(t, resp, b, 400)
		if fs := h.waitFailed(1); fs[0].Status != 400 {
			t.Fatalf("a 401 without an account was recorded: %+v", fs[0])
		}
	})
}

// TestChargingDocNamesEveryOutcome keeps docs/charging.md in step with the
// outcomes the gateway records.
func TestChargingDocNamesEveryOutcome(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "charging.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{domain.OutcomeCompleted, domain.OutcomeUpstreamFailed, domain.OutcomeUpstreamBrokeMid,
		domain.OutcomeClientDisconnected, domain.OutcomeTimeout, domain.OutcomeRejected, domain.OutcomeShutdown} {
		if !strings.Contains(string(b), "`"+o+"`") {
			t.Errorf("docs/charging.md does not name outcome %s", o)
		}
	}
}
