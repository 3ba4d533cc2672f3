package console

import (
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
)

// Requests recorded before the gateway recorded titles as they read may
// carry a title with a zero-width space or a no-break space: /rankings
// showed such a title as a second app beside the first, reading the same.
// It ranks them as the one app they read as.
func TestRankingsShowTitlesThatReadAlikeAsOneApp(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_real", "真品公司", domain.PlanStarter)
	e.openAccount("acct_alike", "仿品公司", domain.PlanStarter)
	real, _ := e.issueKey("acct_real")
	alike, _ := e.issueKey("acct_alike")
	model := e.cat.IDs()[0]
	e.request("acct_real", real, model, "Cursor", testNow.Add(-time.Hour), 100, 50, "1")
	e.request("acct_alike", alike, model, "Cursor\u200b", testNow.Add(-time.Hour), 1000, 500, "1")
	e.request("acct_alike", alike, model, "\u00a0Cursor", testNow.Add(-time.Hour), 10, 5, "1")
	for _, acct := range []string{"acct_real", "acct_alike"} {
		if err := e.cmds.SetRankingsListed(e.ctx, acct, true); err != nil {
			t.Fatal(err)
		}
	}
	e.sync()
	resp, page := e.browser().get("/rankings")
	if resp.StatusCode != 200 {
		t.Fatalf("rankings: %d", resp.StatusCode)
	}
	rows := elements(t, page, "tr", "data-app")
	if len(rows) != 1 || rows[0]["data-app"] != "Cursor" {
		t.Fatalf("apps ranked: %+q, want Cursor once", rows)
	}
	if cells := elements(t, page, "td", "data-tokens"); cells[0]["data-tokens"] != "1665" { // the apps' table comes first
		t.Errorf("tokens: %+q, want the three titles' 1665", cells[0])
	}
}
