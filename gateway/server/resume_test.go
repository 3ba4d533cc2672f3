package server

import (
	"context"
	"strings"
	"testing"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// A suspended account's requests are refused before any upstream is
// called; once resumed, its keys work again.
func TestSuspendedAccountIsRefusedUntilResumed(t *testing.T) {
	h := newHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "ok"}},
	})
	ctx := context.Background()
	body := chatBody("test/openai", 100, false)
	if resp, b := h.post(body); resp.StatusCode != 200 {
		t.Fatalf("before: %d %s", resp.StatusCode, b)
	}
	if err := h.cmds.SuspendAccount(ctx, h.account, "unpaid"); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	calls := len(h.fakes["openai"].Received())
	resp, b := h.post(body)
	wantStatus(t, resp, b, 403)
	if !strings.Contains(string(b), "this account is suspended") {
		t.Fatalf("suspended: %s", b)
	}
	if n := len(h.fakes["openai"].Received()); n != calls {
		t.Fatalf("a suspended account's request reached the upstream (%d calls, was %d)", n, calls)
	}
	if err := h.cmds.ResumeAccount(ctx, h.account, "paid"); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	resp, b = h.post(body)
	wantStatus(t, resp, b, 200)
	if v, _ := h.models.Balances.View(h.account, "", h.srv.cfg.Now()); v.Suspended {
		t.Fatal("the balances model still holds the account suspended")
	}
}
