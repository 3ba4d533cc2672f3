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
