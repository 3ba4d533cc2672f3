package console

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/projections"
)

// Requests costing less than a cent each, either side of a Taipei midnight
// that ends a month: each usage table's CSV gives its rows to the
// decimal, so that they add up to its total row, which is the total of the
// usage API; the days are Taipei's.
func TestUsageCSVRowsAddUpToTheirTotal(t *testing.T) {
	e := newEnv(t, false)
	mgmtID, mgmt, childID := managedAccount(e, "acct_cents")
	e.clock.t = time.Date(2026, 3, 2, 12, 0, 0, 0, projections.Taipei)
	models := e.cat.IDs()[:3]
	for i, at := range []time.Time{
		time.Date(2026, 2, 28, 23, 59, 0, 0, projections.Taipei),
		time.Date(2026, 3, 1, 0, 1, 0, 0, projections.Taipei),
		time.Date(2026, 3, 2, 9, 0, 0, 0, projections.Taipei),
	} {
		key := mgmtID
		if i == 1 {
			key = childID
		}
		e.request("acct_cents", key, models[i], "app", at, 10, 10, "0.004")
	}
	e.sync()
	q := url.Values{"from": {"2026-02-28"}, "to": {"2026-03-02"}}.Encode()
	var api struct{ Data UsageReport }
	code, body := e.call("GET", "/admin/api/accounts/acct_cents/usage?"+q, mgmt, nil)
	if err := json.Unmarshal(body, &api); code != 200 || err != nil || !api.Data.Total.Cost.Equal(decimal.RequireFromString("0.012")) {
		t.Fatalf("usage API: %d %s", code, body)
	}

	b := e.browser()
	b.signIn(mgmt)
	_, page := b.get("/console/accounts/acct_cents?" + q)
	for _, id := range []string{"chart-daily-table", "chart-models-table", "chart-keys-table", "chart-apps-table"} {
		recs := getCSV(t, b, csvLink(t, page, id))
		if len(recs) < 3 {
			t.Fatalf("%s: %v", id, recs)
		}
		cost := len(recs[0]) - 1 // the cost is the last column
		sum := decimal.Zero
		for _, r := range recs[1 : len(recs)-1] {
			sum = sum.Add(decimal.RequireFromString(r[cost]))
		}
		total := decimal.RequireFromString(recs[len(recs)-1][cost])
		if !sum.Equal(total) || !total.Equal(api.Data.Total.Cost) {
			t.Errorf("%s: rows add up to %s, total row %s, usage API %s: %v", id, sum, total, api.Data.Total.Cost, recs)
		}
	}
	days := getCSV(t, b, csvLink(t, page, "chart-daily-table"))
	for i, want := range [][2]string{{"2026-02-28", "0.004"}, {"2026-03-01", "0.004"}, {"2026-03-02", "0.004"}} {
		if r := days[i+1]; r[0] != want[0] || !decimal.RequireFromString(r[len(r)-1]).Equal(decimal.RequireFromString(want[1])) {
			t.Errorf("day %d: %v, want %v", i, r, want)
		}
	}
}

// The keys table isolates each name on the page, with invisible
// direction marks that keep a right-to-left name from reordering the
// prefix after it; its CSV holds the name as given, without them.
func TestUsageCSVKeyNamesAsGiven(t *testing.T) {
	e := newEnv(t, false)
	mgmtID, mgmt, childID := managedAccount(e, "acct_names")
	e.clock.t = time.Date(2026, 3, 2, 12, 0, 0, 0, projections.Taipei)
	model := e.cat.IDs()[0]
	e.request("acct_names", mgmtID, model, "app", time.Date(2026, 3, 2, 9, 0, 0, 0, projections.Taipei), 10, 10, "0.5")
	e.request("acct_names", childID, model, "app", time.Date(2026, 3, 2, 9, 5, 0, 0, projections.Taipei), 10, 10, "0.25")
	e.sync()
	b := e.browser()
	b.signIn(mgmt)
	_, page := b.get("/console/accounts/acct_names?from=2026-03-02&to=2026-03-02")
	if !strings.Contains(page, "\u2068owner\u2069") {
		t.Fatal("the page no longer isolates the key names")
	}
	recs := getCSV(t, b, csvLink(t, page, "chart-keys-table"))
	names := map[string]bool{}
	for _, r := range recs[1 : len(recs)-1] {
		if strings.ContainsAny(r[0], "\u2066\u2067\u2068\u2069") {
			t.Errorf("a key cell holds direction marks: %q", r[0])
		}
		names[strings.SplitN(r[0], " (", 2)[0]] = true
	}
	if !names["owner"] || !names["app"] || len(names) != 2 {
		t.Fatalf("key names in the CSV: %q", recs)
	}
}
