package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// openFirstBreaker opens the breaker of "first" (three 503s, each request
// answered by "second"), moves the clock past its cooldown, and has
// "first" answer again, slowly.
func openFirstBreaker(t *testing.T, clock *testClock, slow time.Duration) *harness {
	t.Helper()
	h := newHarness(t, twoUpstreams("openai", providertest.Script{Status: 503}, Config{Now: clock.Now}))
	for i := 0; i < 3; i++ {
		if resp, b := h.post(foBody); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, b)
		}
	}
	h.fakes["first"].SetScript(providertest.Script{Text: "from the first", Delay: slow})
	clock.add(61 * time.Second)
	return h
}

// A half-open breaker lets one trial request through and keeps the
// upstream to it until its outcome is known, however long the upstream
// takes to answer: a second request meanwhile goes to the next upstream,
// not to one that may still be down, even once the trial has run for
// longer than the cooldown. The trial's success closes the breaker.
func TestHalfOpenBreakerSendsOneTrialAtATime(t *testing.T) {
	clock := &testClock{at: time.Now()}
	h := openFirstBreaker(t, clock, 1500*time.Millisecond)

	trial := make(chan reply, 1)
	go func() {
		resp, b := h.post(foBody)
		trial <- reply{status: resp.StatusCode, body: b}
	}()
	h.waitReceived("first", 4)
	// The trial has now waited, on the gateway's clock, longer than the
	// cooldown (a slow upstream within the 60 s first-byte wait or the
	// 10-minute unary one).
	clock.add(2 * time.Minute)
	for i := 0; i < 2; i++ {
		resp, b := h.post(foBody)
		if resp.StatusCode != 200 || replyText(t, b, false) != "from the second" {
			t.Fatalf("request beside the trial: %d %s", resp.StatusCode, b)
		}
	}
	if n := len(h.fakes["first"].Received()); n != 4 {
		t.Fatalf("a second trial went out beside the first: the upstream got %d requests, want 4", n)
	}
	r := <-trial
	if r.status != 200 || replyText(t, r.body, false) != "from the first" {
		t.Fatalf("trial: %d %s", r.status, r.body)
	}
	// The trial answered: the breaker is closed, the first upstream serves.
	h.fakes["first"].SetScript(providertest.Script{Text: "from the first"})
	if resp, b := h.post(foBody); resp.StatusCode != 200 || replyText(t, b, false) != "from the first" {
		t.Fatalf("after the trial's success: %d %s", resp.StatusCode, b)
	}
	h.waitHeldZero()
}

// A trial whose client leaves before the upstream answers tells nothing
// of the upstream: it frees the upstream for the next trial as it ends,
// rather than keeping it out until a bound runs out.
func TestAbandonedTrialFreesTheUpstream(t *testing.T) {
	clock := &testClock{at: time.Now()}
	h := openFirstBreaker(t, clock, 3*time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, "POST", h.http.URL+"/api/v1/chat/completions", strings.NewReader(foBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+h.key)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	h.waitReceived("first", 4)
	cancel()
	<-done
	h.fakes["first"].SetScript(providertest.Script{Text: "from the first"})
	// The gateway ends the abandoned request in the background.
	eventually(t, "the next request to be the upstream's trial", func() bool {
		resp, b := h.post(foBody)
		return resp.StatusCode == 200 && replyText(t, b, false) == "from the first"
	})
	h.waitHeldZero()
}
