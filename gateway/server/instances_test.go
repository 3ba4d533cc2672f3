package server

import (
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// Two gateway instances share one history (PostgreSQL: one schema, two
// Store objects, two projection runners) and one admission state (Redis:
// one key prefix, two clients), as two processes behind a load balancer.

func TestTwoInstancesRaceExactlyTwentySucceed(t *testing.T) {
	sh := openShared(t)
	o := exactCreditOpts()
	o.store, o.ledger, o.limiter = sh.stores[0], sh.ledgers[0], sh.limiters[0]
	h := newHarness(t, o)
	h.changePlan(highLimits)
	in := h.addInstance(sh.stores[1], sh.ledgers[1], sh.limiters[1], Config{})
	in.catchUp()
	counts := burst(t, []string{h.http.URL, in.http.URL}, h.key, chatBody("test/openai", 1000, false), 100)
	checkExactlyTwenty(t, h, counts, 200)
	// The second instance's projection agrees with the first and a replay.
	in.catchUp()
	v, _ := in.models.Balances.View(h.account, "", in.srv.cfg.Now())
	if !v.Balance.IsZero() {
		t.Fatalf("second instance sees balance %s, want 0", v.Balance)
	}
}

func TestTwoInstancesShareOneRateLimit(t *testing.T) {
	sh := openShared(t)
	now := frozenClock() // both instances' clocks agree (as NTP gives)
	h := newHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "ok"}},
		plan:    domain.PlanStarter,
		store:   sh.stores[0], ledger: sh.ledgers[0], limiter: sh.limiters[0],
		cfg: Config{Now: now},
	})
	in := h.addInstance(sh.stores[1], sh.ledgers[1], sh.limiters[1], Config{Now: now})
	// Starter allows 10 a minute in all: 10 at each instance at once gives
	// 10 successes in total, never 20.
	urls := []string{h.http.URL, in.http.URL}
	counts := burst(t, urls, h.key, chatBody("test/openai", 0, false), 10)
	if counts[200] != 10 || counts[429] != 10 {
		t.Fatalf("statuses %v: want 10 × 200 and 10 × 429", counts)
	}
	// Either instance goes on refusing: the window is full for both.
	for _, u := range urls {
		status, hdr, b, err := postTo(u, h.key, chatBody("test/openai", 0, false))
		if err != nil || status != 429 || hdr.Get("Retry-After") != "6" || hdr.Get("X-Ratelimit-Remaining-Requests") != "0" {
			t.Fatalf("%s: %d Retry-After %q remaining %q: %s %v", u, status, hdr.Get("Retry-After"), hdr.Get("X-Ratelimit-Remaining-Requests"), b, err)
		}
	}
	if n := len(h.completed()); n != 10 {
		t.Fatalf("%d completed events, want 10", n)
	}
	h.waitFailed(12)
	h.waitHeldZero()
}
