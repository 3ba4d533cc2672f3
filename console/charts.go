package console

import (
	"github.com/shopspring/decimal"
)

// Bar is one bar of a chart, with the figures it stands for.
type Bar struct {
	Label      string
	Value      decimal.Decimal // NTD
	Tokens     int64
	Requests   int64
	X, Y, W, H int64
}

// Chart is a server-rendered SVG bar chart. Its figures are also in data-*
// attributes and a table, for screen readers and tests alike.
type Chart struct {
	ID, Label                               string
	DataLabel, KeyLabel, ReqLabel, TokLabel string
	Width, Height                           int64
	Max                                     decimal.Decimal
	Bars                                    []Bar
}

const (
	chartW = 600
	chartH = 180
)

// barChart lays bars out side by side, heights proportional to value
// (computed in decimal: these are money figures, even when drawn).
func barChart(id, label string, bars []Bar) Chart {
	c := Chart{ID: id, Label: label, Width: chartW, Height: chartH, Bars: bars}
	for _, b := range bars {
		if b.Value.GreaterThan(c.Max) {
			c.Max = b.Value
		}
	}
	if len(bars) == 0 {
		return c
	}
	slot := int64(chartW) / int64(len(bars))
	gap := slot / 5
	for i := range c.Bars {
		b := &c.Bars[i]
		b.X, b.W = int64(i)*slot+gap/2, max(slot-gap, 1)
		if c.Max.IsPositive() {
			b.H = b.Value.Mul(decimal.NewFromInt(chartH - 4)).Div(c.Max).Ceil().IntPart()
		}
		b.Y = chartH - b.H
	}
	return c
}

func (s *server) usageCharts(lang string, r UsageReport) (Chart, Chart) {
	days := make([]Bar, len(r.Days))
	for i, d := range r.Days {
		days[i] = Bar{Label: d.Day, Value: d.Cost, Tokens: d.Tokens, Requests: d.Requests}
	}
	models := make([]Bar, len(r.Models))
	for i, m := range r.Models {
		models[i] = Bar{Label: m.Model, Value: m.Cost, Tokens: m.Tokens, Requests: m.Requests}
	}
	dc := barChart("chart-daily", tr(lang, "usage.day"), days)
	mc := barChart("chart-models", tr(lang, "usage.model"), models)
	for _, c := range []*Chart{&dc, &mc} {
		c.DataLabel, c.ReqLabel, c.TokLabel = tr(lang, "chart.data"), tr(lang, "requests"), tr(lang, "tokens")
	}
	dc.KeyLabel, mc.KeyLabel = tr(lang, "day"), tr(lang, "model")
	return dc, mc
}
