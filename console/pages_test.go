package console

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// seedUsage gives an account requests over several Taipei days and models,
// some from named apps; it returns the number of requests.
func seedUsage(e *env, acct, key string) int {
	models := e.cat.IDs()
	n := 0
	for d := 0; d < 6; d++ {
		day := time.Date(2026, 3, 2+d*2, 9, 30, 0, 0, projections.Taipei)
		for i := 0; i <= d%3; i++ {
			m := models[(d+i)%min(3, len(models))]
			title := []string{"Kanban AI", "翻譯小幫手", ""}[(d+i)%3]
			e.request(acct, key, m, title, day.Add(time.Duration(i)*time.Hour), int64(100*(d+1)), int64(50*(i+1)), strconv.Itoa(d+1)+".125")
			n++
		}
	}
	// One just before midnight Taipei (still 3/13 there, 3/13 15:59 UTC).
	e.request(acct, key, models[0], "Kanban AI", time.Date(2026, 3, 13, 23, 59, 0, 0, projections.Taipei), 10, 10, "0.5")
	e.sync()
	return n + 1
}

// The day and model charts show exactly what the usage projection holds.
func TestUsageChartsMatchProjection(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_u", "用量公司", domain.PlanStarter)
	keyID, secret := e.issueKey("acct_u")
	seedUsage(e, "acct_u", keyID)
	e.openAccount("acct_other", "別家", domain.PlanStarter)
	otherKey, _ := e.issueKey("acct_other")
	e.request("acct_other", otherKey, e.cat.IDs()[0], "Other App", testNow.Add(-time.Hour), 999, 999, "77")
	e.sync()

	from, to := "2026-03-01", "2026-03-15"
	rows, err := e.models.Usage.DailyByAccount(e.ctx, "acct_u", from, to)
	if err != nil {
		t.Fatal(err)
	}
	wantDay := map[string]decimal.Decimal{}
	wantTok := map[string]int64{}
	for _, r := range rows {
		wantDay[r.Period] = wantDay[r.Period].Add(r.Cost)
		wantTok[r.Period] += r.TokensIn + r.TokensOut
	}
	byModel, err := e.models.Usage.ByModel(e.ctx, "acct_u", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(wantDay) < 5 || len(byModel) < 2 {
		t.Fatalf("seed too thin: %d days, %d models", len(wantDay), len(byModel))
	}
	for _, who := range []string{e.auditor, secret} { // staff and the customer see the same charts
		b := e.browser()
		b.signIn(who)
		resp, page := b.get("/console/accounts/acct_u?" + url.Values{"from": {from}, "to": {to}}.Encode())
		if resp.StatusCode != 200 {
			t.Fatalf("account page: %d", resp.StatusCode)
		}
		bars := chartBars(t, page, "chart-daily")
		if len(bars) != 15 {
			t.Fatalf("daily chart has %d bars, want 15 days", len(bars))
		}
		for _, bar := range bars {
			v := decimal.RequireFromString(bar["data-value"])
			if !v.Equal(wantDay[bar["data-label"]]) || bar["data-tokens"] != strconv.FormatInt(wantTok[bar["data-label"]], 10) {
				t.Errorf("day %s: chart %s NTD %s tokens, projection %s NTD %d tokens", bar["data-label"], v, bar["data-tokens"], wantDay[bar["data-label"]], wantTok[bar["data-label"]])
			}
		}
		mbars := chartBars(t, page, "chart-models")
		if len(mbars) != len(byModel) {
			t.Fatalf("model chart has %d bars, projection %d models", len(mbars), len(byModel))
		}
		for i, r := range byModel {
			if mbars[i]["data-label"] != r.Model || !decimal.RequireFromString(mbars[i]["data-value"]).Equal(r.Cost) || mbars[i]["data-requests"] != strconv.FormatInt(r.Requests, 10) {
				t.Errorf("model %s: chart %v, projection %+v", r.Model, mbars[i], r)
			}
		}
		// Each chart's JSON block, which charts.js draws, holds the figures
		// of the table beside it.
		for _, id := range []string{"chart-daily", "chart-models"} {
			rows := chartBars(t, page, id)
			data := chartData(t, page, id)
			if len(data.Labels) != len(rows) || len(data.Series) != 1 {
				t.Fatalf("%s: JSON has %d labels and %d series, table %d rows", id, len(data.Labels), len(data.Series), len(rows))
			}
			for i, r := range rows {
				if data.Labels[i] != r["data-label"] || data.Series[0].Values[i] != r["data-value"] || data.Series[0].Text[i] != money(decimal.RequireFromString(r["data-value"])) {
					t.Errorf("%s: JSON %q %s %s, table %v", id, data.Labels[i], data.Series[0].Values[i], data.Series[0].Text[i], r)
				}
			}
		}
		// Usage by app, from the requests' X-Title; those without one are
		// "unnamed" (未命名).
		apps := map[string]string{}
		for _, r := range chartBars(t, page, "chart-apps") {
			apps[r["data-label"]] = r["data-value"]
		}
		if _, ok := apps["Kanban AI"]; !ok || len(apps) != 3 {
			t.Errorf("apps on the page: %v", apps)
		}
		if _, ok := apps[tr(langZH, "usage.unnamed")]; !ok {
			t.Errorf("no unnamed app on the page: %v", apps)
		}
		if strings.Contains(page, "Other App") {
			t.Error("another account's app shows on this account's page")
		}
	}
	var appTokens int64
	err = e.models.KeyUsage.Each(e.ctx, "acct_u", "2026-03-02", "2026-03-13", func(r *projections.KeyUsageRow) {
		if r.App != "" {
			appTokens += r.TokensIn + r.TokensOut
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if appTokens == 0 {
		t.Fatal("no app usage folded")
	}
}

// chartBars returns the rows of the table beside the chart id: one per
// bar, with its label and figures in data-* attributes.
func chartBars(t *testing.T, page, id string) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, r := range elements(t, tableHTML(t, page, id+"-table"), "tr", "data-label") {
		out = append(out, r)
	}
	return out
}

// tableHTML cuts the table with the given id out of a page.
func tableHTML(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `<table class="chart-data" id="`+id+`"`)
	if i < 0 {
		if i = strings.Index(page, `<table id="`+id+`"`); i < 0 {
			t.Fatalf("no table %s", id)
		}
	}
	end := strings.Index(page[i:], "</table>")
	return page[i : i+end+len("</table>")]
}

// chartData decodes the JSON block charts.js draws the chart id from.
func chartData(t *testing.T, page, id string) chartJSON {
	t.Helper()
	start := `<script type="application/json" id="` + id + `-data">`
	i := strings.Index(page, start)
	if i < 0 {
		t.Fatalf("no data block for chart %s", id)
	}
	body := page[i+len(start):]
	body = body[:strings.Index(body, "</script>")]
	var d chartJSON
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("chart %s: %v in %s", id, err, body)
	}
	return d
}

// Rankings name apps by title and models, never an account or a key.
func TestRankingsShowNoAccountOrKey(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_secret_corp", "機密客戶股份有限公司", domain.PlanStarter)
	keyID, secret := e.issueKey("acct_secret_corp")
	seedUsage(e, "acct_secret_corp", keyID)
	if err := e.cmds.SetRankingsListed(e.ctx, "acct_secret_corp", true); err != nil {
		t.Fatal(err)
	}
	e.sync()
	resp, page := e.browser().get("/rankings?days=30")
	if resp.StatusCode != 200 {
		t.Fatalf("rankings: %d", resp.StatusCode)
	}
	apps := elements(t, page, "tr", "data-app")
	if len(apps) != 2 || apps[0]["data-app"] == "" {
		t.Fatalf("ranked apps: %v", apps)
	}
	var window []string // the 30 Taipei days ending today, as the page has them
	for d := 29; d >= 0; d-- {
		window = append(window, projections.DayOf(testNow.AddDate(0, 0, -d)))
	}
	tokens := map[string]int64{}
	err := e.models.KeyUsage.Each(e.ctx, "acct_secret_corp", window[0], window[len(window)-1], func(r *projections.KeyUsageRow) {
		if r.App != "" {
			tokens[r.App] += r.TokensIn + r.TokensOut
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if top := apps[0]["data-app"]; len(tokens) != 2 || tokens[top] <= tokens[apps[1]["data-app"]] {
		t.Fatalf("top app on the page %q, the model's tokens by app %v", top, tokens)
	}
	if len(elements(t, page, "tr", "data-model")) == 0 {
		t.Fatal("no models ranked")
	}
	for _, leak := range []string{"acct_secret_corp", "機密客戶", keyID, secret, secret[:12]} {
		if strings.Contains(page, leak) {
			t.Errorf("rankings page shows %q", leak)
		}
	}
}

func TestModelsPageSearchAndLanguage(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	_, all := b.get("/models")
	rows := elements(t, all, "tr", "data-model")
	if len(rows) != len(e.cat.IDs()) {
		t.Fatalf("models page lists %d of %d models", len(rows), len(e.cat.IDs()))
	}
	if !strings.Contains(all, `lang="zh-TW"`) || !strings.Contains(all, "模型") {
		t.Fatal("the default language is not Traditional Chinese")
	}
	want := e.cat.IDs()[0]
	_, found := b.get("/models?q=" + url.QueryEscape(strings.ToUpper(want)))
	got := elements(t, found, "tr", "data-model")
	if len(got) == 0 || len(got) >= len(rows) && len(rows) > 1 {
		t.Fatalf("search %q found %d rows", want, len(got))
	}
	for _, r := range got {
		if !strings.Contains(strings.ToLower(r["data-model"]), strings.ToLower(want)) {
			m, _ := e.cat.Get(r["data-model"])
			if !strings.Contains(strings.ToLower(m.Name), strings.ToLower(want)) {
				t.Errorf("search %q matched %q", want, r["data-model"])
			}
		}
	}
	_, en := b.get("/models?lang=en")
	if !strings.Contains(en, `lang="en"`) || !strings.Contains(en, "Models") {
		t.Fatal("?lang=en is not English")
	}
	// The choice sticks through its cookie.
	if _, again := b.get("/rankings"); !strings.Contains(again, "Top apps by tokens") {
		t.Fatal("the language cookie was not kept")
	}
}
