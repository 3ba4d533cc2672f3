package server

import (
	"net/http"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// A non-streamed answer comes whole, when the upstream has written all of
// it: a long one (a reasoning model, a long text) is waited for past the
// first-byte timeout that streams have, up to the unary timeout. Abandoned,
// the upstream would go on and bill its generation, and the next upstream
// would be paid for the same answer again.
func TestLongUnaryAnswerIsWaitedFor(t *testing.T) {
	h := newHarness(t, twoUpstreams("openai", providertest.Script{Text: "late but whole", Delay: 600 * time.Millisecond},
		Config{FirstByteTimeout: 150 * time.Millisecond}))
	resp, b := h.post(foBody)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if text := replyText(t, b, false); text != "late but whole" {
		t.Fatalf("reply %q, want the first upstream's", text)
	}
	if n := len(h.fakes["second"].Received()); n != 0 {
		t.Fatalf("the second upstream was asked too (%d requests)", n)
	}
	if evs := h.completed(); len(evs) != 1 || evs[0].Provider != "first" || evs[0].Attempts != 1 || !evs[0].Cost.IsPositive() {
		t.Fatalf("events %+v", evs)
	}
	h.heldIsZero()
}

// Past the unary timeout the answer is a 504 naming the upstream, nothing
// billed, and no other upstream is asked: it would answer after the client
// had given up (the official SDKs wait ten minutes by default).
func TestUnaryAnswerPastItsTimeoutIsA504(t *testing.T) {
	h := newHarness(t, twoUpstreams("openai", providertest.Script{Text: "too late", Delay: 2 * time.Second},
		Config{FirstByteTimeout: 100 * time.Millisecond, UnaryTimeout: 300 * time.Millisecond}))
	resp, b := h.post(foBody)
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	e := decodeError(t, b)
	if e.Error.Code != http.StatusGatewayTimeout || e.Error.Metadata["provider"] != "first" {
		t.Fatalf("error %+v", e.Error)
	}
	if n := len(h.fakes["second"].Received()); n != 0 {
		t.Fatalf("the second upstream was asked (%d requests)", n)
	}
	if evs := h.completed(); len(evs) != 0 {
		t.Fatalf("billed: %+v", evs)
	}
	waitFor(t, func() bool { return len(h.failed()) == 1 })
	if fs := h.failed(); len(fs) != 1 || fs[0].Outcome != domain.OutcomeTimeout || fs[0].Status != http.StatusGatewayTimeout {
		t.Fatalf("failure events %+v", fs)
	}
	h.heldIsZero()
}
