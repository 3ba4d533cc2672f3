package console

import (
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Chart is one chart of the console and the table of its figures. The
// server renders the table (screen readers, tests, CSV and browsers without
// script read it) and a JSON block that static/charts.js hands to Chart.js,
// the vendored charting library: axes, dates, names and tooltips.
type Chart struct {
	ID       string
	Title    string // the caption, also the chart's accessible name
	Kind     string // bar, hbar (horizontal bars, for long names) or line
	XTitle   string // the category axis: day, month, model…
	YTitle   string // the value axis, NTD
	KeyLabel string // header of the table's first column
	NoData   string // shown instead of an empty chart
	DataText string // summary of the table's <details>
	TotalRow string // when set, the table ends with a row of this name adding up each column
	Labels   []string
	Series   []Series // money, drawn; the first one is the bar's data-value
	Counts   []Counts // whole numbers, in the table and the tooltips only
}

// Series is one set of money figures, one per label.
type Series struct {
	Name   string
	Values []decimal.Decimal
}

// Counts is a set of whole numbers (requests, tokens), one per label; Attr
// names the data-* attribute that carries them on each table row.
type Counts struct {
	Name   string
	Attr   string
	Values []int64
}

// Empty reports whether the chart has nothing to draw: no label, or every
// figure zero (an idle month draws as a "no data" note, not a flat line).
func (c Chart) Empty() bool {
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !v.IsZero() {
				return false
			}
		}
	}
	for _, n := range c.Counts {
		for _, v := range n.Values {
			if v != 0 {
				return false
			}
		}
	}
	return true
}

// ChartCell is one cell of a chart's table: what it shows and, for money,
// the exact figure behind it (its data-value attribute).
type ChartCell struct {
	Text, Value string
}

// ChartRow is one label's row of a chart's table. Value is the first
// series' exact figure; Attrs are the counts' data-* attributes.
type ChartRow struct {
	Label string
	Value string
	Cells []ChartCell
	Attrs map[string]string
}

// Rows lays the chart's figures out as table rows, counts then money.
func (c Chart) Rows() []ChartRow {
	out := make([]ChartRow, len(c.Labels))
	for i, l := range c.Labels {
		r := ChartRow{Label: l, Attrs: map[string]string{}}
		for _, n := range c.Counts {
			v := strconv.FormatInt(n.Values[i], 10)
			r.Cells = append(r.Cells, ChartCell{Text: thousands(n.Values[i])})
			r.Attrs[n.Attr] = v
		}
		for j, s := range c.Series {
			v := s.Values[i]
			if j == 0 {
				r.Value = v.String()
			}
			r.Cells = append(r.Cells, ChartCell{Text: money(v), Value: v.String()})
		}
		out[i] = r
	}
	return out
}

// Footer is the totals row: each column added up.
func (c Chart) Footer() ChartRow {
	r := ChartRow{Label: c.TotalRow, Attrs: map[string]string{}}
	for _, n := range c.Counts {
		var sum int64
		for _, v := range n.Values {
			sum += v
		}
		v := strconv.FormatInt(sum, 10)
		r.Cells = append(r.Cells, ChartCell{Text: thousands(sum)})
		r.Attrs[n.Attr] = v
	}
	for j, s := range c.Series {
		sum := decimal.Zero
		for _, v := range s.Values {
			sum = sum.Add(v)
		}
		if j == 0 {
			r.Value = sum.String()
		}
		r.Cells = append(r.Cells, ChartCell{Text: money(sum), Value: sum.String()})
	}
	return r
}

// chartJSON is what charts.js reads. Money travels as the exact decimal
// (drawn as a number: a chart's height need not be exact) and as the text
// money() makes of it, which the tooltip shows, so a tooltip and the table
// beside it read the same.
type chartJSON struct {
	Kind   string       `json:"kind"`
	X      string       `json:"x"`
	Y      string       `json:"y"`
	Labels []string     `json:"labels"`
	Series []seriesJSON `json:"series"`
	Counts []countsJSON `json:"counts"`
}

type seriesJSON struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
	Text   []string `json:"text"`
}

type countsJSON struct {
	Name   string  `json:"name"`
	Values []int64 `json:"values"`
}

// JSON is the chart's data for charts.js, embedded in the page as a
// <script type="application/json"> block (data, never run: the CSP's
// script-src 'self' does not apply to it).
func (c Chart) JSON() chartJSON {
	j := chartJSON{Kind: c.Kind, X: c.XTitle, Y: c.YTitle, Labels: c.Labels, Series: []seriesJSON{}, Counts: []countsJSON{}}
	if j.Labels == nil {
		j.Labels = []string{}
	}
	for _, s := range c.Series {
		sj := seriesJSON{Name: s.Name, Values: make([]string, len(s.Values)), Text: make([]string, len(s.Values))}
		for i, v := range s.Values {
			sj.Values[i], sj.Text[i] = v.String(), money(v)
		}
		j.Series = append(j.Series, sj)
	}
	for _, n := range c.Counts {
		j.Counts = append(j.Counts, countsJSON{Name: n.Name, Values: n.Values})
	}
	return j
}

// usageChart is a chart of usage tallies: cost drawn, requests and tokens
// in the table and tooltips.
func usageChart(lang, id, title, kind, key string, tallies []Tally) Chart {
	c := Chart{ID: id, Title: title, Kind: kind, XTitle: key, YTitle: tr(lang, "chart.ntd"), KeyLabel: key,
		NoData: tr(lang, "chart.nodata"), DataText: tr(lang, "chart.data"), TotalRow: tr(lang, "total")}
	cost := Series{Name: tr(lang, "chart.cost")}
	req := Counts{Name: tr(lang, "requests"), Attr: "data-requests"}
	tok := Counts{Name: tr(lang, "tokens"), Attr: "data-tokens"}
	for _, t := range tallies {
		c.Labels = append(c.Labels, t.Name)
		cost.Values = append(cost.Values, t.Cost)
		req.Values = append(req.Values, t.Requests)
		tok.Values = append(tok.Values, t.Tokens)
	}
	c.Series, c.Counts = []Series{cost}, []Counts{req, tok}
	return c
}

// usageCharts are the account page's charts: cost by day, model, key and
// app over the chosen range.
func (s *server) usageCharts(lang string, r UsageReport) []Chart {
	days := make([]Tally, len(r.Days))
	for i, d := range r.Days {
		days[i] = Tally{Name: d.Day, Requests: d.Requests, Tokens: d.Tokens, Cost: d.Cost}
	}
	models := make([]Tally, len(r.Models))
	for i, m := range r.Models {
		models[i] = Tally{Name: m.Model, Requests: m.Requests, Tokens: m.Tokens, Cost: m.Cost}
	}
	keys := make([]Tally, len(r.Keys))
	for i, k := range r.Keys {
		keys[i] = Tally{Name: k.Label(), Requests: k.Requests, Tokens: k.Tokens, Cost: k.Cost}
	}
	apps := make([]Tally, len(r.Apps))
	for i, a := range r.Apps {
		apps[i] = a
		if a.Name == "" {
			apps[i].Name = tr(lang, "usage.unnamed")
		}
	}
	return []Chart{
		usageChart(lang, "chart-daily", tr(lang, "usage.day"), "bar", tr(lang, "day"), days),
		usageChart(lang, "chart-models", tr(lang, "usage.model"), "hbar", tr(lang, "model"), models),
		usageChart(lang, "chart-keys", tr(lang, "usage.key"), "hbar", tr(lang, "usage.keyname"), keys),
		usageChart(lang, "chart-apps", tr(lang, "usage.app"), "hbar", tr(lang, "app"), apps),
	}
}

// Cols is the number of columns of the chart's table.
func (c Chart) Cols() int { return 1 + len(c.Counts) + len(c.Series) }

// thousands writes a whole number with thousands separators, as money()
// writes amounts: 12,345.
func thousands(n int64) string {
	s := money(decimal.NewFromInt(n))
	s = strings.Replace(s, "NT$", "", 1)
	return s[:len(s)-3]
}

// BoxClass sizes a horizontal chart's box to its number of bars, in steps,
// by a class of console.css: set by the server, not by script, so that the
// page does not move under the reader (or a click) once the chart is drawn.
func (c Chart) BoxClass() string {
	if c.Kind != "hbar" {
		return ""
	}
	switch n := len(c.Labels); {
	case n <= 3:
		return "rows-3"
	case n <= 6:
		return "rows-6"
	case n <= 12:
		return "rows-12"
	default:
		return "rows-many"
	}
}
