package server

import (
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// A Starter key that used its minute and is moved to Business may go on at
// once: its ten requests are ten of Business's hundred.
func TestUpgradeLiftsTheRateLimitOnTheNextRequest(t *testing.T) {
	h := limitsHarness(t, domain.PlanStarter, providertest.Usage{Prompt: 10, Completion: 1})
	for i := 1; i <= 10; i++ {
		if resp, b := h.post(chatBody("test/openai", 0, false)); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, b)
		}
	}
	resp, b := h.post(chatBody("test/openai", 0, false))
	check429(t, resp, b, "rpm", 6)
	h.changePlan(domain.PlanChanged{Plan: domain.PlanBusiness})
	resp, b = h.post(chatBody("test/openai", 0, false))
	if resp.StatusCode != 200 {
		t.Fatalf("after the upgrade: %d %s", resp.StatusCode, b)
	}
	if headerInt(t, resp, "X-Ratelimit-Limit-Requests") != 100 || headerInt(t, resp, "X-Ratelimit-Remaining-Requests") != 89 {
		t.Fatalf("after the upgrade: limit %s, remaining %s", resp.Header.Get("X-Ratelimit-Limit-Requests"), resp.Header.Get("X-Ratelimit-Remaining-Requests"))
	}
	h.heldIsZero()
}

// The same through two instances sharing Redis: the upgrade recorded at
// one applies to the next request at the other.
func TestTwoInstancesUpgradeLiftsTheRateLimit(t *testing.T) {
	sh := openShared(t)
	now := frozenClock()
	h := newHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "ok"}},
		plan:    domain.PlanStarter,
		store:   sh.stores[0], ledger: sh.ledgers[0], limiter: sh.limiters[0],
		cfg: Config{Now: now},
	})
	in := h.addInstance(sh.stores[1], sh.ledgers[1], sh.limiters[1], Config{Now: now})
	counts := burst(t, []string{h.http.URL}, h.key, chatBody("test/openai", 0, false), 11)
	if counts[200] != 10 || counts[429] != 1 {
		t.Fatalf("statuses %v: want 10 × 200 and 1 × 429", counts)
	}
	h.changePlan(domain.PlanChanged{Plan: domain.PlanBusiness})
	in.catchUp()
	status, hdr, b, err := postTo(in.http.URL, h.key, chatBody("test/openai", 0, false))
	if err != nil || status != 200 || hdr.Get("X-Ratelimit-Limit-Requests") != "100" || hdr.Get("X-Ratelimit-Remaining-Requests") != "89" {
		t.Fatalf("after the upgrade: %d limit %q remaining %q: %s %v", status, hdr.Get("X-Ratelimit-Limit-Requests"), hdr.Get("X-Ratelimit-Remaining-Requests"), b, err)
	}
	h.waitHeldZero()
}
