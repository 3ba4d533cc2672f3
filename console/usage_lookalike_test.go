package console

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// Requests recorded before the gateway recorded titles as they read may
// carry a title with a zero-width space or a no-break space. The usage API's
// by_app and the account page's chart of apps show them as the one app
// they read as, as /rankings does.
func TestUsageByAppShowsTitlesThatReadAlikeAsOneApp(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_app", "應用公司", domain.PlanStarter)
	key, secret := e.issueKey("acct_app")
	model := e.cat.IDs()[0]
	e.request("acct_app", key, model, "Cursor", testNow.Add(-time.Hour), 100, 50, "1")
	e.request("acct_app", key, model, "Cursor\u200b", testNow.Add(-time.Hour), 1000, 500, "2")
	e.request("acct_app", key, model, "\u00a0Cursor", testNow.Add(-time.Hour), 10, 5, "4")
	e.sync()

	code, body := e.call("GET", "/admin/api/accounts/acct_app/usage", e.auditor, nil)
	if code != 200 {
		t.Fatalf("usage API: %d %s", code, body)
	}
	var resp struct{ Data UsageReport }
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	apps := resp.Data.Apps
	if len(apps) != 1 || apps[0].Name != "Cursor" || apps[0].Requests != 3 || apps[0].Tokens != 1665 || apps[0].Cost.String() != "7" {
		t.Fatalf("by_app %+v, want Cursor once: 3 requests, 1665 tokens, 7 NTD", apps)
	}

	b := e.browser()
	b.signIn(secret)
	day := projections.DayOf(testNow.Add(-time.Hour))
	resp2, page := b.get("/console/accounts/acct_app?" + url.Values{"from": {day}, "to": {day}}.Encode())
	if resp2.StatusCode != 200 {
		t.Fatalf("account page: %d", resp2.StatusCode)
	}
	bars := chartBars(t, page, "chart-apps")
	if len(bars) != 1 || bars[0]["data-label"] != "Cursor" || bars[0]["data-tokens"] != "1665" {
		t.Fatalf("apps chart %+q, want Cursor once with 1665 tokens", bars)
	}
}
