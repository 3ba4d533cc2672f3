package console

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// chartState is what Chart.js drew of one canvas, and its tooltip at one
// bar, read back from the library's own objects.
type chartState struct {
	Drawn    bool     `json:"drawn"`
	Type     string   `json:"type"`
	Labels   []string `json:"labels"`
	XTitle   string   `json:"xTitle"`
	YTitle   string   `json:"yTitle"`
	YTicks   []string `json:"yTicks"`
	Title    []string `json:"title"`
	Body     []string `json:"body"`
	Footer   []string `json:"footer"`
	CanvasOK bool     `json:"canvasOK"`
}

// readChart shows the tooltip of bar i of the chart on canvas id and
// returns what the library drew.
func readChart(c *chrome, id string, i int) chartState {
	c.t.Helper()
	c.do("chart "+id+" drawn", chromedp.WaitReady(chromedp.CSS("#"+id+"[data-drawn]")))
	js := `(() => {
	  const ch = Chart.getChart(` + "`" + id + "`" + `);
	  if (!ch) return {drawn: false};
	  const horizontal = ch.options.indexAxis === "y";
	  const cat = horizontal ? ch.scales.y : ch.scales.x, val = horizontal ? ch.scales.x : ch.scales.y;
	  const el = ch.getDatasetMeta(0).data[` + itoa(i) + `];
	  ch.tooltip.setActiveElements([{datasetIndex: 0, index: ` + itoa(i) + `}], {x: el.x, y: el.y});
	  ch.update();
	  const tt = ch.tooltip;
	  return {drawn: true, type: ch.config.type, labels: ch.data.labels,
	    xTitle: cat.options.title.text, yTitle: val.options.title.text,
	    yTicks: val.ticks.map(t => String(t.label)),
	    title: tt.title || [], body: (tt.body || []).flatMap(b => b.lines), footer: tt.footer || [],
	    canvasOK: ch.canvas.width > 0 && ch.canvas.height > 0};
	})()`
	return get(c, "read chart "+id, chromedp.Evaluate[chartState](js))
}

func itoa(i int) string { return decimal.NewFromInt(int64(i)).String() }

// The account page's charts, drawn by Chart.js in a real browser under the
// console's CSP: titled axes, dates and model names on them, money ticks,
// tooltips that say what the table beside the chart says; and an account
// without usage gets a "no data" note instead of an empty chart.
func TestBrowserCharts(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_ch", "圖表公司", domain.PlanStarter)
	keyID, secret := e.issueKey("acct_ch")
	seedUsage(e, "acct_ch", keyID)
	e.openAccount("acct_idle", "閒置公司", domain.PlanStarter)
	c := newChrome(t)
	c.signIn(e.srv.URL, e.auditor)

	for _, lang := range []string{langZH, langEN} {
		q := url.Values{"from": {"2026-03-01"}, "to": {"2026-03-15"}, "lang": {lang}}
		c.do("account page "+lang, chromedp.Navigate(e.srv.URL+"/console/accounts/acct_ch?"+q.Encode()),
			chromedp.WaitVisible(chromedp.CSS("#chart-daily")))
		html := get(c, "html", chromedp.OuterHTML(chromedp.CSS("html")))
		rows := chartBars(t, html, "chart-daily")

		// Day 2026-03-04 has usage: its tooltip is the table's row.
		day := -1
		for i, r := range rows {
			if r["data-label"] == "2026-03-04" {
				day = i
			}
		}
		if day < 0 {
			t.Fatalf("no 2026-03-04 row: %v", rows)
		}
		st := readChart(c, "chart-daily", day)
		if !st.Drawn || !st.CanvasOK || st.Type != "bar" {
			t.Fatalf("%s: daily chart not drawn: %+v", lang, st)
		}
		if len(st.Labels) != 15 || st.Labels[0] != "2026-03-01" || st.Labels[14] != "2026-03-15" {
			t.Errorf("%s: category axis labels %v", lang, st.Labels)
		}
		if st.XTitle != tr(lang, "day") || st.YTitle != tr(lang, "chart.ntd") {
			t.Errorf("%s: axis titles %q / %q", lang, st.XTitle, st.YTitle)
		}
		if len(st.YTicks) < 2 || st.YTicks[0] != "NT$0" || !strings.HasPrefix(st.YTicks[len(st.YTicks)-1], "NT$") {
			t.Errorf("%s: value ticks %v", lang, st.YTicks)
		}
		r := rows[day]
		wantBody := tr(lang, "chart.cost") + ": " + money(decimal.RequireFromString(r["data-value"]))
		if len(st.Title) != 1 || st.Title[0] != "2026-03-04" || len(st.Body) != 1 || st.Body[0] != wantBody {
			t.Errorf("%s: tooltip %v %v, want 2026-03-04 %q", lang, st.Title, st.Body, wantBody)
		}
		wantFooter := []string{tr(lang, "requests") + ": " + r["data-requests"], tr(lang, "tokens") + ": " + groupThousands(r["data-tokens"])}
		if strings.Join(st.Footer, "|") != strings.Join(wantFooter, "|") {
			t.Errorf("%s: tooltip footer %v, want %v", lang, st.Footer, wantFooter)
		}

		// Models by name on the category axis of a horizontal chart.
		models := chartBars(t, html, "chart-models")
		ms := readChart(c, "chart-models", 0)
		if !ms.Drawn || len(ms.Labels) != len(models) || ms.Labels[0] != models[0]["data-label"] || ms.XTitle != tr(lang, "model") {
			t.Errorf("%s: model chart %+v, table %v", lang, ms, models)
		}
		if !strings.Contains(ms.Labels[0], "/") {
			t.Errorf("%s: model axis shows %q, not a model name", lang, ms.Labels[0])
		}
		apps := readChart(c, "chart-apps", 0)
		if !apps.Drawn || !contains(apps.Labels, tr(lang, "usage.unnamed")) {
			t.Errorf("%s: app chart labels %v", lang, apps.Labels)
		}
		c.artefacts("charts-" + lang)
	}

	// The staff dashboard: used and invoiced side by side, with a legend.
	c.do("dashboard", chromedp.Navigate(e.srv.URL+"/console/dashboard?from=2026-03-01&to=2026-03-15"),
		chromedp.WaitReady(chromedp.CSS("#chart-revenue[data-drawn]")))
	rev := get(c, "revenue", chromedp.Evaluate[map[string]any](`(() => { const ch = Chart.getChart("chart-revenue");
	  return {sets: ch.data.datasets.map(d => d.label), legend: ch.options.plugins.legend.display, x: ch.scales.x.options.title.text,
	    last: ch.data.labels[ch.data.labels.length - 1]}; })()`))
	if sets, _ := rev["sets"].([]any); len(sets) != 2 || sets[0] != tr(langEN, "dash.used") || sets[1] != tr(langEN, "dash.invoiced") ||
		rev["legend"] != true || rev["x"] != tr(langEN, "month") || rev["last"] != "2026-03" {
		t.Errorf("revenue chart %v", rev)
	}
	if st := readChart(c, "chart-usage", 3); !st.Drawn || st.Title[0] != "2026-03-04" {
		t.Errorf("dashboard usage chart %+v", st)
	}
	c.artefacts("dashboard-en")

	// No usage: a note, no canvas, and the table says so too.
	c.do("idle account", chromedp.Navigate(e.srv.URL+"/console/accounts/acct_idle"), chromedp.WaitVisible(chromedp.CSS("#chart-daily-nodata")))
	if n := get(c, "canvases", chromedp.Evaluate[int](`document.querySelectorAll("canvas").length`)); n != 0 {
		t.Errorf("an account without usage draws %d charts", n)
	}
	if txt := get(c, "note", chromedp.Evaluate[string](`document.getElementById("chart-daily-nodata").textContent`)); txt != tr(langEN, "chart.nodata") {
		t.Errorf("no-data note %q", txt) // the language chosen above sticks
	}

	// The customer sees the same charts, on a phone too.
	c.signOut()
	c.do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	c.signIn(e.srv.URL, secret)
	c.do("customer", chromedp.WaitVisible(chromedp.CSS("#chart-daily")))
	if get(c, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)) {
		t.Errorf("the account page scrolls sideways on a phone (artefacts: %s)", c.artefacts("phone-overflow"))
	}
	if st := readChart(c, "chart-daily", 0); !st.Drawn || !st.CanvasOK {
		t.Errorf("phone: chart not drawn: %+v", st)
	}
	c.artefacts("charts-phone")
	time.Sleep(100 * time.Millisecond)
	if v := c.violations(); len(v) > 0 {
		t.Fatalf("console errors or CSP violations (artefacts: %s):\n%s", c.artefacts("violations"), strings.Join(v, "\n"))
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// groupThousands writes an integer as en-US does: 12,345.
func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
