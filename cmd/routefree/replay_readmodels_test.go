package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/projections"
)

// replay prints, rebuilt from the first event, what a serve's activity API
// answers (per completed UTC day and key) and what its usage report says
// by key and by app (per Taipei month), each month's usage by key and app
// adding up to its usage.
func TestReplayPrintsTheActivityAndUsageByKeyAServeAnswers(t *testing.T) {
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "ok"}))
	data := t.TempDir()
	store := []string{"--data-dir", data}
	prepareDemo(t, env, store, 1000, "")
	_, owner := issueDemoKey(t, env, store, "--name", "owner", "--management")
	k1, _ := issueDemoKey(t, env, store, "--name", "one")
	k2, _ := issueDemoKey(t, env, store, "--name", "two")

	// Requests of completed UTC days, of today and of 40 days ago (outside
	// the activity, inside the usage), recorded as the gateway records them.
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var reqs []domain.RequestCompleted
	for _, r := range []struct {
		key, app string
		at       time.Time
		cost     string
	}{
		{k1, "看板", today.AddDate(0, 0, -1).Add(time.Hour), "1.25"},
		{k2, "", today.AddDate(0, 0, -1).Add(20 * time.Hour), "0.5"},
		{k1, "My App", today.AddDate(0, 0, -3).Add(2 * time.Hour), "2"},
		{k1, "看板", today.AddDate(0, 0, -3).Add(3 * time.Hour), "0.125"},
		{k2, "My App", today.Add(time.Minute), "0.25"},
		{k1, "", today.AddDate(0, 0, -40), "4"},
	} {
		reqs = append(reqs, domain.RequestCompleted{KeyID: r.key, Model: "routefree/echo", Provider: "openai", Upstream: "up",
			Usage: domain.Usage{Input: 10, Output: 5}, Cost: decimal.RequireFromString(r.cost), StartedAt: r.at, AppTitle: r.app})
	}
	recordRequests(t, data, "gen-replaymodels", reqs)

	p := startServe(t, env, store...)
	get := func(path string, v any) {
		t.Helper()
		code, body := httpDo(t, http.MethodGet, p.base+path, owner, "")
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatal(err)
		}
	}
	// The activity API, key by key: day and key → usage.
	served := map[string]float64{}
	for _, k := range []string{k1, k2} {
		var r struct {
			Data []struct {
				Date  string
				Usage float64
			}
		}
		get("/api/v1/activity?api_key_hash="+k, &r)
		for _, row := range r.Data {
			served[row.Date+" "+k] += row.Usage
		}
	}
	replay := func() string {
		t.Helper()
		return runCLI(t, env, append([]string{"replay"}, store...)...)
	}
	out := replay()
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}

	activity := replaySection(t, out, "ACTIVITY")
	if len(activity) == 0 {
		t.Fatalf("replay prints no activity:\n%s", out)
	}
	replayed := map[string]float64{}
	for _, row := range activity {
		// day, account, key, cost; a day's TOTAL: day, TOTAL, cost.
		if row[1] == "TOTAL" {
			continue
		}
		if len(row) != 4 || row[1] != "acct_demo" {
			t.Fatalf("activity row %q", row)
		}
		replayed[row[0]+" "+row[2]] += decimal.RequireFromString(row[3]).InexactFloat64()
	}
	if len(replayed) != len(served) || len(served) != 3 {
		t.Errorf("replay's activity %v, the activity API's %v; want three days × keys", replayed, served)
	}
	for k, v := range served {
		if replayed[k] != v {
			t.Errorf("activity %s: replay %v, the activity API %v", k, replayed[k], v)
		}
	}

	// The usage by key and app, month by month, against the usage report
	// of that month and the usage by month.
	byKey := map[string]map[string]decimal.Decimal{} // month → key → cost
	byApp := map[string]map[string]decimal.Decimal{} // month → app → cost
	totals := map[string]decimal.Decimal{}
	for _, row := range replaySection(t, out, "KEYS") {
		// month, account, key, quoted app, cost; a month's TOTAL: month, TOTAL, cost.
		cost := decimal.RequireFromString(row[len(row)-1])
		if row[1] == "TOTAL" {
			totals[row[0]] = cost
			continue
		}
		app, err := strconv.Unquote(strings.Join(row[3:len(row)-1], " "))
		if err != nil || row[1] != "acct_demo" {
			t.Fatalf("usage by key and app row %q: %v", row, err)
		}
		if byKey[row[0]] == nil {
			byKey[row[0]], byApp[row[0]] = map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
		}
		byKey[row[0]][row[2]] = byKey[row[0]][row[2]].Add(cost)
		byApp[row[0]][app] = byApp[row[0]][app].Add(cost)
	}
	usage := map[string]decimal.Decimal{}
	for _, row := range replaySection(t, out, "USAGE") {
		if row[1] == "TOTAL" {
			usage[row[0]] = decimal.RequireFromString(row[2])
		}
	}
	if len(totals) == 0 || len(totals) != len(usage) {
		t.Fatalf("replay's usage by key and app of months %v, usage of %v:\n%s", totals, usage, out)
	}
	p = startServe(t, env, store...)
	for month, total := range totals {
		if !total.Equal(usage[month]) {
			t.Errorf("%s: usage by key and app %s, usage %s", month, total, usage[month])
		}
		first, err := time.ParseInLocation("2006-01", month, projections.Taipei)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Data struct {
				Total struct{ Cost decimal.Decimal }
				Keys  []struct {
					KeyID string `json:"key_id"`
					Cost  decimal.Decimal
				} `json:"by_key"`
				Apps []struct {
					Name string
					Cost decimal.Decimal
				} `json:"by_app"`
			}
		}
		get("/admin/api/accounts/acct_demo/usage?from="+first.Format(time.DateOnly)+"&to="+first.AddDate(0, 1, -1).Format(time.DateOnly), &r)
		if !r.Data.Total.Cost.Equal(total) || len(r.Data.Keys) != len(byKey[month]) || len(r.Data.Apps) != len(byApp[month]) {
			t.Errorf("%s: the usage report %+v, replay %s by key %v, by app %v", month, r.Data, total, byKey[month], byApp[month])
		}
		for _, k := range r.Data.Keys {
			if !k.Cost.Equal(byKey[month][k.KeyID]) {
				t.Errorf("%s key %s: the usage report %s, replay %s", month, k.KeyID, k.Cost, byKey[month][k.KeyID])
			}
		}
		for _, a := range r.Data.Apps {
			if !a.Cost.Equal(byApp[month][a.Name]) {
				t.Errorf("%s app %q: the usage report %s, replay %s", month, a.Name, a.Cost, byApp[month][a.Name])
			}
		}
	}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
}

// replaySection is the rows of the section of replay's report whose
// heading starts with name, as fields, column headings left out.
func replaySection(t *testing.T, out, name string) [][]string {
	t.Helper()
	var rows [][]string
	in := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			in = false
		case f[0] == name && !in:
			in = true
		case in && isNumber(f[len(f)-1]):
			rows = append(rows, f)
		}
	}
	return rows
}
