package console

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// The audit page's export link exports what the page shows: its stream,
// type, time range and search, where it exported the whole history
// whatever the page was filtered by. Unfiltered, it exports the whole
// history, and says so in its end record.
func TestAuditExportLinkExportsWhatThePageShows(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_a", "甲公司", domain.PlanStarter)
	e.openAccount("acct_b", "乙公司", domain.PlanStarter)
	keyA, _ := e.issueKey("acct_a")
	keyB, _ := e.issueKey("acct_b")
	model := e.cat.IDs()[0]
	day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, projections.Taipei) }
	for d := 10; d <= 13; d++ {
		e.request("acct_a", keyA, model, "alpha-app", day(d), 10, 5, "0.01")
		e.request("acct_b", keyB, model, "beta-app", day(d), 10, 5, "0.01")
	}
	e.request("acct_a", keyA, model, "beta-app", day(11), 10, 5, "0.01")
	e.sync()
	b := e.browser()
	b.signIn(e.auditor)
	for _, c := range []struct {
		query string
		shown int // the events the page shows
	}{
		{"?stream=usage-acct_a&type=request.completed&since=2026-03-11T00:00&until=2026-03-13T00:00", 3},
		{"?type=request.completed&q=BETA-app", 5},
		{"", 0}, // every event
	} {
		resp, page := b.get("/console/audit" + c.query)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: audit page %d", c.query, resp.StatusCode)
		}
		var shown []string
		for _, row := range elements(t, page, "tr", "data-position") {
			shown = append(shown, row["data-position"])
		}
		if c.shown > 0 && len(shown) != c.shown {
			t.Fatalf("%q: the page shows %d events, want %d", c.query, len(shown), c.shown)
		}
		var link string
		for _, a := range elements(t, page, "a", "href") {
			if strings.HasPrefix(a["href"], "/admin/api/audit/export") {
				link = a["href"]
			}
		}
		if link == "" {
			t.Fatalf("%q: the page offers no export", c.query)
		}
		resp, body := b.get(link)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: GET %s: %d %s", c.query, link, resp.StatusCode, body)
		}
		var exported []string
		got, err := commands.ReadExport(bytes.NewReader([]byte(body)), false, func(a *commands.AuditedEvent) error {
			exported = append(exported, a.Position)
			return nil
		})
		if err != nil {
			t.Fatalf("%q: the export of %s reads back: %v", c.query, link, err)
		}
		if c.shown == 0 { // the whole history
			if !got.WholeHistory || int(got.Events) < len(shown) {
				t.Fatalf("%q: the unfiltered page's export (%s) holds %d events, whole history %v", c.query, link, got.Events, got.WholeHistory)
			}
			continue
		}
		slices.Sort(shown)
		slices.Sort(exported)
		if !slices.Equal(shown, exported) || got.WholeHistory {
			t.Errorf("%q: the page shows events %v, its export (%s) holds %v (whole history %v)", c.query, shown, link, exported, got.WholeHistory)
		}
	}
}
