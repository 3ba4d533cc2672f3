package console

import (
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
)

// The public rankings page reads the key usage of every listed account: a
// flood of views reads it once a minute, not once a view. What a minute
// brings shows after it; an owner who opts out leaves the page at once.
func TestRankingsAreReadOnceAMinuteAndAnOptOutShowsAtOnce(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_listed", "上榜公司", domain.PlanStarter)
	keyID, _ := e.issueKey("acct_listed")
	e.request("acct_listed", keyID, e.cat.IDs()[0], "Kanban AI", testNow.Add(-time.Hour), 100, 50, "1")
	if err := e.cmds.SetRankingsListed(e.ctx, "acct_listed", true); err != nil {
		t.Fatal(err)
	}
	e.sync()
	apps := func() map[string]bool {
		t.Helper()
		resp, page := e.browser().get("/rankings")
		if resp.StatusCode != 200 {
			t.Fatalf("rankings: %d", resp.StatusCode)
		}
		out := map[string]bool{}
		for _, a := range elements(t, page, "tr", "data-app") {
			out[a["data-app"]] = true
		}
		return out
	}
	if got := apps(); len(got) != 1 || !got["Kanban AI"] {
		t.Fatalf("apps ranked: %v", got)
	}
	// A new app's requests within the minute: the page read before stands.
	e.request("acct_listed", keyID, e.cat.IDs()[0], "翻譯小幫手", testNow.Add(-time.Minute), 100, 50, "1")
	e.sync()
	if got := apps(); len(got) != 1 {
		t.Fatalf("within the minute the ranking was read again: %v", got)
	}
	e.clock.mu.Lock()
	e.clock.t = e.clock.t.Add(rankCacheFor)
	e.clock.mu.Unlock()
	if got := apps(); len(got) != 2 || !got["翻譯小幫手"] {
		t.Fatalf("after a minute: %v, want the new app too", got)
	}
	// Opting out empties the page at once, cached or not.
	if err := e.cmds.SetRankingsListed(e.ctx, "acct_listed", false); err != nil {
		t.Fatal(err)
	}
	e.sync()
	if got := apps(); len(got) != 0 {
		t.Fatalf("after opting out: %v", got)
	}
}
