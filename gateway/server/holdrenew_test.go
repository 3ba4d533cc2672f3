package server

import (
	"context"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// A request that runs longer than a hold lasts keeps its credit held until
// it ends: a unary answer waited for (up to the unary timeout, on each of
// several upstreams) or a long stream would otherwise let its hold expire
// and other requests spend the credit it is about to cost. Both ledgers:
// the one instance's own, and the Redis one instances share, whose holds
// serve makes short so that a dead instance's lapse soon.
//
// The hold lasts 1.5 s, renewed every 0.5 s: a renewal may come a second
// late on a loaded machine before the hold lapses, and the request runs
// past two of its lives.
func TestLongRequestKeepsItsHold(t *testing.T) {
	const ttl = 1500 * time.Millisecond
	ledgers := map[string]func(t *testing.T) admission.Ledger{
		"memory": func(*testing.T) admission.Ledger {
			return admission.NewMemoryLedger(admission.LedgerOptions{HoldTTL: ttl})
		},
		"redis": func(t *testing.T) admission.Ledger {
			c, prefix := testenv.Redis(t)
			return admission.NewRedisLedger(c, prefix, admission.LedgerOptions{HoldTTL: ttl})
		},
	}
	for _, tc := range []struct {
		name   string
		script providertest.Script
		body   string
	}{
		{"unary", providertest.Script{Text: "slow", Delay: 4500 * time.Millisecond},
			`{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`},
		{"stream", providertest.Script{Text: "a b c d e", Chunks: 5, ChunkDelay: 900 * time.Millisecond},
			`{"model":"test/openai","stream":true,"messages":[{"role":"user","content":"hi"}]}`},
	} {
		for lname, ledger := range ledgers {
			t.Run(tc.name+"/"+lname, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, harnessOpts{
					models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
					scripts: map[string]providertest.Script{"openai": tc.script},
					ledger:  ledger(t),
				})
				done := make(chan struct{})
				go func() {
					defer close(done)
					resp, b := h.post(tc.body)
					if resp.StatusCode != 200 {
						t.Errorf("status %d: %s", resp.StatusCode, b)
					}
				}()
				time.Sleep(2 * ttl) // well past the hold's first expiry
				_, n, err := h.ledger.Held(context.Background(), h.account)
				if err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					t.Errorf("holds while the request runs past %s: %d, want 1", ttl, n)
				}
				<-done
				h.heldIsZero()
				if got := len(h.completed()); got != 1 {
					t.Fatalf("completed events: %d", got)
				}
			})
		}
	}
}
