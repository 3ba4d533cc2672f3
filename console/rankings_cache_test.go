package console

import (
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
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

// The models ranking keeps the days of its windows by the console's clock:
// a request another instance records as started far ahead of this clock
// drops no day of the window, and days no window reaches are let go once
// the clock has left them behind, however long ago the newest request was.
func TestRankingsWindowsFollowTheClock(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_rank", "排行公司", domain.PlanStarter)
	keyID, _ := e.issueKey("acct_rank")
	ids := e.cat.IDs()
	if len(ids) < 2 {
		t.Fatalf("the catalog has %d models, want two", len(ids))
	}
	inWindow, ahead := ids[0], ids[1]
	e.request("acct_rank", keyID, inWindow, "", testNow.AddDate(0, 0, -6), 100, 50, "1")
	e.request("acct_rank", keyID, ahead, "", testNow.AddDate(0, 0, 60), 100, 50, "1")
	e.sync()
	resp, page := e.browser().get("/rankings")
	if resp.StatusCode != 200 {
		t.Fatalf("rankings: %d", resp.StatusCode)
	}
	models := map[string]bool{}
	for _, m := range elements(t, page, "tr", "data-model") {
		models[m["data-model"]] = true
	}
	if !models[inWindow] || models[ahead] {
		t.Fatalf("the last 7 days by the clock rank %v, want %s and not %s", models, inWindow, ahead)
	}

	// A year on, with no request since (an owner lists their apps): no day
	// before the longest window and its slack is kept.
	e.clock.mu.Lock()
	e.clock.t = e.clock.t.AddDate(1, 0, 0)
	e.clock.mu.Unlock()
	if err := e.cmds.SetRankingsListed(e.ctx, "acct_rank", true); err != nil {
		t.Fatal(err)
	}
	e.sync()
	cut := e.clock.Now().In(projections.Taipei).AddDate(0, 0, -rankKeep).Format("2006-01-02")
	e.views.mu.RLock()
	defer e.views.mu.RUnlock()
	for day := range e.views.ranks.models {
		if day < cut {
			t.Errorf("a year on the rankings keep %s, before %s", day, cut)
		}
	}
}
