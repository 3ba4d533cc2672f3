package console

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// How long OpenRouter's analytics can look back: hourly buckets for the
// last 31 days, daily ones for the last 365, as OpenRouter keeps its finer
// and its volume data.
const (
	analyticsHourlyDays = 31
	analyticsDailyDays  = 365
)

const (
	hourSecs = int64(time.Hour / time.Second)
	daySecs  = 24 * hourSecs
)

// analyticsRow is what a bucket's requests are told apart by.
type analyticsRow struct{ model, provider, upstream, key string }

// analyticsKey is an account's analyticsRow, its names as indexes into
// the index's one table of names, so that a row costs a few bytes.
type analyticsKey struct{ account, model, provider, upstream, key uint32 }

// analyticsSums adds up the requests of a row, compactly: an index may
// hold a row for each account, model, upstream and key of each hour.
type analyticsSums struct {
	requests, prompt, completion, reasoning, cached, latency int64
	cost                                                     projections.Amount
}

func (t *analyticsSums) add(o analyticsSums) {
	t.requests += o.requests
	t.prompt += o.prompt
	t.completion += o.completion
	t.reasoning += o.reasoning
	t.cached += o.cached
	t.latency += o.latency
	t.cost = t.cost.Plus(o.cost)
}

// analyticsBuckets is bucket start (Unix seconds, UTC) → account and row:
// one map a bucket, so that a bucket is dropped at once and few maps are
// made, however many accounts send a request or two an hour.
type analyticsBuckets map[int64]map[analyticsKey]analyticsSums

// analyticsIndex holds every account's requests summed by UTC hour and by
// UTC day, bounded: buckets older than their window are dropped as newer
// requests arrive, and a request older than both is not counted.
type analyticsIndex struct {
	hours, days analyticsBuckets
	newest      int64 // the newest hour seen
	ids         map[string]uint32
	names       []string // by id: accounts, models, providers, upstreams and keys
}

func newAnalyticsIndex() *analyticsIndex {
	return &analyticsIndex{hours: analyticsBuckets{}, days: analyticsBuckets{}, ids: map[string]uint32{}}
}

// id is a name's index in the table, added when new.
func (x *analyticsIndex) id(name string) uint32 {
	if i, ok := x.ids[name]; ok {
		return i
	}
	i := uint32(len(x.names))
	x.ids[name] = i
	x.names = append(x.names, name)
	return i
}

func (x *analyticsIndex) rowOf(k analyticsKey) analyticsRow {
	return analyticsRow{model: x.names[k.model], provider: x.names[k.provider], upstream: x.names[k.upstream], key: x.names[k.key]}
}

func floorTo(at, step int64) int64 {
	r := at % step
	if r < 0 {
		r += step
	}
	return at - r
}

func (x *analyticsIndex) apply(e *projections.Event) {
	b, ok := e.Body.(*domain.RequestCompleted)
	if !ok {
		return
	}
	t := b.StartedAt
	if t.IsZero() {
		t = e.OccurredAt
	}
	hour := floorTo(t.Unix(), hourSecs)
	if hour > x.newest {
		x.newest = hour
		x.prune()
	}
	add := analyticsSums{requests: 1, prompt: b.Usage.Input, completion: b.Usage.Output, reasoning: b.Usage.Reasoning,
		cached: b.Usage.Cached, latency: b.LatencyMs, cost: projections.AmountOf(b.Cost)}
	hourFloor, dayFloor := x.floors(x.newest)
	day := floorTo(hour, daySecs)
	if day < dayFloor {
		return
	}
	k := analyticsKey{x.id(b.AccountID), x.id(b.Model), x.id(b.Provider), x.id(b.Upstream), x.id(b.KeyID)}
	if hour >= hourFloor {
		x.hours.add(hour, k, add)
	}
	x.days.add(day, k, add)
}

// floors are the oldest hour and day kept when the newest is newest.
func (x *analyticsIndex) floors(newest int64) (hour, day int64) {
	return newest - analyticsHourlyDays*daySecs, floorTo(newest, daySecs) - analyticsDailyDays*daySecs
}

func (b analyticsBuckets) add(at int64, k analyticsKey, t analyticsSums) {
	rows, ok := b[at]
	if !ok {
		rows = map[analyticsKey]analyticsSums{}
		b[at] = rows
	}
	s := rows[k]
	s.add(t)
	rows[k] = s
}

func (x *analyticsIndex) prune() {
	hourFloor, dayFloor := x.floors(x.newest)
	for at := range x.hours {
		if at < hourFloor {
			delete(x.hours, at)
		}
	}
	for at := range x.days {
		if at < dayFloor {
			delete(x.days, at)
		}
	}
}

// analyticsMetric is one metric of the analytics API, computed from the
// sums of a row's requests: a rate is a ratio of sums, never a sum.
type analyticsMetric struct {
	name, label, format string
	rate, whole         bool // whole: a count, written as an integer
	of                  func(t *analyticsSums) decimal.Decimal
}

func ratio(a, b decimal.Decimal) decimal.Decimal {
	if b.IsZero() {
		return decimal.Zero
	}
	return a.Div(b)
}

func count(n int64) decimal.Decimal { return decimal.NewFromInt(n) }

// analyticsMetrics are the metrics in OpenRouter's names where they mean
// the same; money is NTD.
var analyticsMetrics = []analyticsMetric{
	{"request_count", "Request Count", "number", false, true, func(t *analyticsSums) decimal.Decimal { return count(t.requests) }},
	{"total_usage", "Spend (NTD)", "currency", false, false, func(t *analyticsSums) decimal.Decimal { return t.cost.Decimal() }},
	{"tokens_prompt", "Prompt Tokens", "number", false, true, func(t *analyticsSums) decimal.Decimal { return count(t.prompt) }},
	{"tokens_completion", "Completion Tokens", "number", false, true, func(t *analyticsSums) decimal.Decimal { return count(t.completion) }},
	{"tokens_total", "Total Tokens", "number", false, true, func(t *analyticsSums) decimal.Decimal { return count(t.prompt + t.completion) }},
	{"reasoning_tokens", "Reasoning Tokens", "number", false, true, func(t *analyticsSums) decimal.Decimal { return count(t.reasoning) }},
	{"cached_tokens", "Cached Tokens", "number", false, true, func(t *analyticsSums) decimal.Decimal { return count(t.cached) }},
	{"avg_usage_per_request", "Average Spend per Request (NTD)", "currency", true, false, func(t *analyticsSums) decimal.Decimal {
		return ratio(t.cost.Decimal(), count(t.requests))
	}},
	{"cache_hit_rate", "Cache Hit Rate", "percent", true, false, func(t *analyticsSums) decimal.Decimal {
		return ratio(count(t.cached), count(t.prompt))
	}},
	{"avg_latency", "Average Latency (ms)", "latency", true, false, func(t *analyticsSums) decimal.Decimal {
		return ratio(count(t.latency), count(t.requests))
	}},
}

func metricNamed(name string) (analyticsMetric, bool) {
	for _, m := range analyticsMetrics {
		if m.name == name {
			return m, true
		}
	}
	return analyticsMetric{}, false
}

// analyticsDimensions: endpoint is the upstream, as the activity API's
// endpoint_id; api_key_id the key's ID, the hash the keys API shows.
var analyticsDimensions = []struct {
	name, label string
	of          func(r analyticsRow) string
}{
	{"model", "Model", func(r analyticsRow) string { return r.model }},
	{"provider", "Provider", func(r analyticsRow) string { return r.provider }},
	{"endpoint", "Endpoint (upstream)", func(r analyticsRow) string { return endpointID(r.model, r.provider, r.upstream) }},
	{"api_key_id", "API Key", func(r analyticsRow) string { return r.key }},
}

func dimensionIndex(name string) int {
	for i, d := range analyticsDimensions {
		if d.name == name {
			return i
		}
	}
	return -1
}

// analyticsGranularities are those the buckets kept answer exactly: no
// minutes.
var analyticsGranularities = []struct{ name, label string }{
	{"hour", "Hour"}, {"day", "Day"}, {"week", "Week"}, {"month", "Month"},
}

// analyticsOperators: eq, neq and the ordered ones take one value, in and
// not_in a list.
var analyticsOperators = []struct{ name, valueType string }{
	{"eq", "scalar"}, {"neq", "scalar"}, {"in", "array"}, {"not_in", "array"},
	{"gt", "scalar"}, {"gte", "scalar"}, {"lt", "scalar"}, {"lte", "scalar"},
}

// AnalyticsFilter keeps the rows whose dimension Field compares with
// Values by Op (one value but for in and not_in).
type AnalyticsFilter struct {
	Field, Op string
	Values    []string
}

func (f AnalyticsFilter) admits(v string) bool {
	switch f.Op {
	case "eq":
		return v == f.Values[0]
	case "neq":
		return v != f.Values[0]
	case "in":
		return slices.Contains(f.Values, v)
	case "not_in":
		return !slices.Contains(f.Values, v)
	case "gt":
		return v > f.Values[0]
	case "gte":
		return v >= f.Values[0]
	case "lt":
		return v < f.Values[0]
	case "lte":
		return v <= f.Values[0]
	}
	return false
}

// AnalyticsQuery is a checked query of POST /api/v1/analytics/query.
type AnalyticsQuery struct {
	Metrics, Dimensions []string
	Granularity         string    // "": totals over the range
	Start, End          time.Time // [Start, End)
	RangeGiven          bool      // false: the default range, whose bounds need no warning
	Filters             []AnalyticsFilter
	OrderBy             string // "": by date (newest first) with a granularity, else by the first metric
	Asc                 bool
	Limit, GroupLimit   int // GroupLimit 0: none
	// Keys, when not nil, are the only keys whose requests count: those
	// of a management key limited to some models, spend or time.
	Keys map[string]bool
}

// AnalyticsResult is the answer's rows, in order, whether rows were left
// out by limit or group_limit, and what the caller should know of it.
type AnalyticsResult struct {
	Rows      []map[string]any
	Truncated bool
	Warnings  []string
}

type analyticsGroup struct {
	bucket int64
	dims   [4]string
}

// QueryAnalytics answers q over an account's requests.
func (v *Views) QueryAnalytics(account string, q AnalyticsQuery, now time.Time) (AnalyticsResult, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	x := v.analytics
	src, start, end, warnings, err := x.window(q, now)
	if err != nil {
		return AnalyticsResult{}, err
	}
	dims := make([]int, len(q.Dimensions))
	for i, d := range q.Dimensions {
		dims[i] = dimensionIndex(d)
	}
	sums := map[analyticsGroup]*analyticsSums{}
	acct, ok := x.ids[account]
	for at, rows := range src {
		if !ok || at < start || at >= end {
			continue
		}
		for k, t := range rows {
			if k.account != acct {
				continue
			}
			row := x.rowOf(k)
			if !q.admits(row) {
				continue
			}
			g := analyticsGroup{bucket: bucketOf(at, q.Granularity)}
			for i, d := range dims {
				g.dims[i] = analyticsDimensions[d].of(row)
			}
			s, ok := sums[g]
			if !ok {
				s = &analyticsSums{}
				sums[g] = s
			}
			s.add(t)
		}
	}
	groups := make([]analyticsGroup, 0, len(sums))
	for g := range sums {
		groups = append(groups, g)
	}
	q.sort(groups, sums)
	groups, truncated := q.cut(groups)
	res := AnalyticsResult{Rows: make([]map[string]any, 0, len(groups)), Truncated: truncated, Warnings: warnings}
	for _, g := range groups {
		res.Rows = append(res.Rows, q.row(g, sums[g]))
	}
	return res, nil
}

func (q *AnalyticsQuery) admits(row analyticsRow) bool {
	if q.Keys != nil && !q.Keys[row.key] {
		return false
	}
	for _, f := range q.Filters {
		if !f.admits(analyticsDimensions[dimensionIndex(f.Field)].of(row)) {
			return false
		}
	}
	return true
}

// window picks the buckets that answer q — hourly within the last 31 days
// or when asked by the hour, daily otherwise — and the range as whole
// buckets. A bound within a bucket is widened to it, with a warning; a
// range older than what is kept is refused.
func (x *analyticsIndex) window(q AnalyticsQuery, now time.Time) (analyticsBuckets, int64, int64, []string, error) {
	newest := max(floorTo(now.Unix(), hourSecs), x.newest)
	hourFloor, dayFloor := x.floors(newest)
	src, step, unit := x.hours, hourSecs, "hour"
	start := floorTo(q.Start.Unix(), hourSecs)
	if start < hourFloor {
		if q.Granularity == "hour" {
			return nil, 0, 0, nil, rangeRefusal(fmt.Sprintf("hourly usage is kept for the last %d days, from %s: ask from then on, or by day, week or month",
				analyticsHourlyDays, time.Unix(hourFloor, 0).UTC().Format(time.RFC3339)))
		}
		src, step, unit = x.days, daySecs, "day"
		if start = floorTo(q.Start.Unix(), daySecs); start < dayFloor {
			return nil, 0, 0, nil, rangeRefusal(fmt.Sprintf("usage is kept by the day for the last %d days, from %s: ask from then on",
				analyticsDailyDays, time.Unix(dayFloor, 0).UTC().Format(time.DateOnly)))
		}
	}
	end := -floorTo(-q.End.Unix(), step) // rounded up to a whole bucket
	if q.End.Nanosecond() > 0 && end == q.End.Unix() {
		end += step
	}
	var warnings []string
	if q.RangeGiven && !q.Start.Equal(time.Unix(start, 0)) {
		warnings = append(warnings, fmt.Sprintf("time_range.start %s was taken from the start of its %s, %s: usage is kept by the %s",
			q.Start.UTC().Format(time.RFC3339Nano), unit, time.Unix(start, 0).UTC().Format(time.RFC3339), unit))
	}
	if q.RangeGiven && !q.End.Equal(time.Unix(end, 0)) && q.End.Before(now) {
		warnings = append(warnings, fmt.Sprintf("time_range.end %s was taken to the end of its %s, %s: usage is kept by the %s",
			q.End.UTC().Format(time.RFC3339Nano), unit, time.Unix(end, 0).UTC().Format(time.RFC3339), unit))
	}
	if !q.Start.Before(now) {
		warnings = append(warnings, "time_range starts after now: there is no usage there yet")
	}
	return src, start, end, warnings, nil
}

func rangeRefusal(why string) error {
	return echo.NewHTTPError(http.StatusBadRequest, "time_range.start: "+why)
}

// bucketOf is the start of the bucket of gran that at falls in: weeks
// start on Monday, all in UTC; 0 without a granularity.
func bucketOf(at int64, gran string) int64 {
	switch gran {
	case "hour":
		return floorTo(at, hourSecs)
	case "day":
		return floorTo(at, daySecs)
	case "week":
		d := time.Unix(floorTo(at, daySecs), 0).UTC()
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)).Unix()
	case "month":
		t := time.Unix(at, 0).UTC()
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).Unix()
	}
	return 0
}

// bucketLabel writes a bucket as its hour (RFC 3339) or its first day.
func bucketLabel(at int64, gran string) string {
	t := time.Unix(at, 0).UTC()
	if gran == "hour" {
		return t.Format(time.RFC3339)
	}
	return t.Format(time.DateOnly)
}

// sort orders the groups by order_by, then by date (newest first) and the
// dimensions, so that an answer is the same each time.
func (q *AnalyticsQuery) sort(groups []analyticsGroup, sums map[analyticsGroup]*analyticsSums) {
	field, asc := q.OrderBy, q.Asc
	switch {
	case field != "":
	case q.Granularity != "":
		field = "date"
	case len(q.Metrics) > 0:
		field = q.Metrics[0]
	default:
		field = "request_count"
	}
	m, isMetric := metricNamed(field)
	dim := dimensionIndex(field)
	if dim >= 0 {
		dim = slices.Index(q.Dimensions, field)
	}
	sort.Slice(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		c := 0
		switch {
		case isMetric:
			c = m.of(sums[a]).Cmp(m.of(sums[b]))
		case dim >= 0:
			c = compare(a.dims[dim], b.dims[dim])
		default: // date
			c = compare(a.bucket, b.bucket)
		}
		if c != 0 {
			return c < 0 == asc
		}
		if a.bucket != b.bucket {
			return a.bucket > b.bucket
		}
		for k := range q.Dimensions {
			if a.dims[k] != b.dims[k] {
				return a.dims[k] < b.dims[k]
			}
		}
		return false
	})
}

func compare[T int64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cut keeps at most GroupLimit rows of each combination of dimensions and
// Limit rows in all, saying whether any were left out.
func (q *AnalyticsQuery) cut(groups []analyticsGroup) ([]analyticsGroup, bool) {
	truncated := false
	if q.GroupLimit > 0 && len(q.Dimensions) > 0 {
		seen := map[[4]string]int{}
		kept := groups[:0]
		for _, g := range groups {
			if seen[g.dims]++; seen[g.dims] > q.GroupLimit {
				truncated = true
				continue
			}
			kept = append(kept, g)
		}
		groups = kept
	}
	if len(groups) > q.Limit {
		return groups[:q.Limit], true
	}
	return groups, truncated
}

// row writes a group as the API answers it: its bucket (date__hour, …),
// dimensions and metrics; counts as integers, money (NTD) and rates as
// numbers, as the activity API writes amounts.
func (q *AnalyticsQuery) row(g analyticsGroup, t *analyticsSums) map[string]any {
	out := make(map[string]any, 1+len(q.Dimensions)+len(q.Metrics))
	if q.Granularity != "" {
		out["date__"+q.Granularity] = bucketLabel(g.bucket, q.Granularity)
	}
	for i, d := range q.Dimensions {
		out[d] = g.dims[i]
	}
	for _, name := range q.Metrics {
		m, _ := metricNamed(name)
		v := m.of(t)
		if m.whole {
			out[name] = v.IntPart()
		} else {
			out[name] = v.InexactFloat64()
		}
	}
	return out
}
