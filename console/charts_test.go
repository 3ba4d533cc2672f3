package console

import (
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// Chart.js is served from the binary, with its licence kept beside it.
func TestChartLibraryServed(t *testing.T) {
	lic, err := os.ReadFile("static/vendor/chartjs/LICENSE.md")
	if err != nil || !strings.Contains(string(lic), "MIT License") {
		t.Fatalf("Chart.js licence: %v", err)
	}
	e := newEnv(t, false)
	resp, body := e.browser().get("/console/static/vendor/chartjs/chart.umd.min.js")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || !strings.Contains(body[:200], "Chart.js v4.6.1") {
		t.Fatalf("Chart.js: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body[:min(len(body), 80)])
	}
	if resp.Header.Get("Content-Security-Policy") != ContentSecurityPolicy {
		t.Error("the library is served without the console's CSP")
	}
	if resp, _ := e.browser().get("/console/static/charts.js"); resp.StatusCode != 200 {
		t.Fatalf("charts.js: %d", resp.StatusCode)
	}
}

// A name a customer chose (an app title) reaches the chart's JSON block as
// data: it cannot close the block and run as script.
func TestChartDataCannotBreakOut(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_x", "X", domain.PlanStarter)
	key, secret := e.issueKey("acct_x")
	evil := `</script><script>alert(1)</script><!--`
	e.request("acct_x", key, e.cat.IDs()[0], evil, testNow.Add(-1), 10, 10, "1")
	e.sync()
	b := e.browser()
	b.signIn(secret)
	_, page := b.get("/console/accounts/acct_x?" + url.Values{"from": {"2026-03-15"}, "to": {"2026-03-15"}}.Encode())
	if strings.Contains(page, "<script>alert") {
		t.Fatal("an app title closed the chart's data block")
	}
	d := chartData(t, page, "chart-apps")
	if len(d.Labels) != 1 || d.Labels[0] != evil {
		t.Fatalf("app labels %q", d.Labels)
	}
}
