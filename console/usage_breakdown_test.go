package console

import (
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// Random usage over keys, models, app titles (some requests send none) and
// days, some outside the range asked: usage by day, by model, by key and by
// app each add up to the range's total, which is the sum of the requests
// made in it; the page's tables say the same.
func TestUsageBreakdownsAddUp(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	e := newEnv(t, false)
	e.openAccount("acct_sum", "加總公司", domain.PlanStarter)
	var keys []string
	for range 3 {
		id, _ := e.issueKey("acct_sum")
		keys = append(keys, id)
	}
	e.openAccount("acct_noise", "別家", domain.PlanStarter)
	noiseKey, _ := e.issueKey("acct_noise")
	models := e.cat.IDs()[:4]
	titles := []string{"", "Kanban AI", "翻譯小幫手", "Report bot"}
	from, to := "2026-03-03", "2026-03-12"
	want := Tally{}
	n := 40 + rng.IntN(60)
	for i := 0; i < n; i++ {
		// Days 1..15 of March, at any minute: the edges of Taipei days too.
		at := time.Date(2026, 3, 1, 0, 0, 0, 0, projections.Taipei).Add(time.Duration(rng.IntN(15*24*60)) * time.Minute)
		in, out := int64(rng.IntN(5000)), int64(rng.IntN(2000))
		cost := decimal.New(int64(rng.IntN(5_000_000)), -5) // up to NT$50 with five decimals
		e.request("acct_sum", keys[rng.IntN(len(keys))], models[rng.IntN(len(models))], titles[rng.IntN(len(titles))], at, in, out, cost.String())
		if day := projections.DayOf(at); day >= from && day <= to {
			want.Requests++
			want.Tokens += in + out
			want.Cost = want.Cost.Add(cost)
		}
		if i%10 == 0 {
			e.request("acct_noise", noiseKey, models[0], "Kanban AI", at, 10, 10, "1")
		}
	}
	e.sync()

	code, body := e.call("GET", "/admin/api/accounts/acct_sum/usage?"+url.Values{"from": {from}, "to": {to}}.Encode(), e.auditor, nil)
	if code != 200 {
		t.Fatalf("usage API: %d %s", code, body)
	}
	var resp struct{ Data UsageReport }
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	r := resp.Data
	if want.Requests == 0 {
		t.Fatal("no request fell in the range")
	}
	if r.Total.Requests != want.Requests || r.Total.Tokens != want.Tokens || !r.Total.Cost.Equal(want.Cost) {
		t.Fatalf("total %+v, the requests made add up to %+v", r.Total, want)
	}
	sums := map[string]Tally{}
	add := func(name string, req, tok int64, cost decimal.Decimal) {
		s := sums[name]
		s.Requests += req
		s.Tokens += tok
		s.Cost = s.Cost.Add(cost)
		sums[name] = s
	}
	for _, d := range r.Days {
		add("day", d.Requests, d.Tokens, d.Cost)
	}
	for _, m := range r.Models {
		add("model", m.Requests, m.Tokens, m.Cost)
	}
	for _, k := range r.Keys {
		add("key", k.Requests, k.Tokens, k.Cost)
	}
	unnamed := false
	for _, a := range r.Apps {
		add("app", a.Requests, a.Tokens, a.Cost)
		unnamed = unnamed || a.Name == ""
	}
	if !unnamed {
		t.Error("requests without a title are not counted under an unnamed app")
	}
	for _, by := range []string{"day", "model", "key", "app"} {
		if s := sums[by]; s.Requests != want.Requests || s.Tokens != want.Tokens || !s.Cost.Equal(want.Cost) {
			t.Errorf("usage by %s adds up to %+v, total %+v", by, s, want)
		}
	}
	if len(r.Days) != 10 || len(r.Keys) == 0 || len(r.Keys) > 3 {
		t.Errorf("%d days, %d keys", len(r.Days), len(r.Keys))
	}

	// The page: each chart's table ends with the same total.
	b := e.browser()
	b.signIn(e.finance)
	_, page := b.get("/console/accounts/acct_sum?" + url.Values{"from": {from}, "to": {to}}.Encode())
	for _, id := range []string{"chart-daily", "chart-models", "chart-keys", "chart-apps"} {
		var sum decimal.Decimal
		for _, row := range chartBars(t, page, id) {
			sum = sum.Add(decimal.RequireFromString(row["data-value"]))
		}
		foot := elements(t, tableHTML(t, page, id+"-table"), "tr", "data-total")
		if len(foot) != 1 || !decimal.RequireFromString(foot[0]["data-total"]).Equal(want.Cost) || !sum.Equal(want.Cost) {
			t.Errorf("%s: rows add up to %s, footer %v, want %s", id, sum, foot, want.Cost)
		}
	}
	if got := attrOf(t, page, "p", "id", "usage-total", "data-total"); !decimal.RequireFromString(got).Equal(want.Cost) {
		t.Errorf("page total %s, want %s", got, want.Cost)
	}
}
