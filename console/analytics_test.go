package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/projections"
)

// anReq is one completed request a test appends, and against which it sums
// what the analytics API answers.
type anReq struct {
	acct, key, model, provider, upstream string
	at                                   time.Time
	in, out, reasoning, cached, latency  int64
	cost                                 string
}

func (r anReq) endpoint() string { return r.provider + "/" + r.upstream }

func (r anReq) dim(name string) string {
	switch name {
	case "model":
		return r.model
	case "provider":
		return r.provider
	case "endpoint":
		return r.endpoint()
	case "api_key_id":
		return r.key
	}
	panic("no dimension " + name)
}

// bucket is the time bucket a request falls in, as the test reckons it.
func (r anReq) bucket(gran string) string {
	t := r.at.UTC()
	switch gran {
	case "hour":
		return t.Truncate(time.Hour).Format(time.RFC3339)
	case "day":
		return t.Format(time.DateOnly)
	case "week":
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)).Format(time.DateOnly)
	case "month":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	return ""
}

func (e *env) appendRequest(r anReq) {
	e.t.Helper()
	rc := &domain.RequestCompleted{RequestID: "gen-" + uuid.NewString(), KeyID: r.key, AccountID: r.acct, Model: r.model,
		Provider: r.provider, Upstream: r.upstream, LatencyMs: r.latency,
		Usage: domain.Usage{Input: r.in, Output: r.out, Reasoning: r.reasoning, Cached: r.cached},
		Cost:  decimal.RequireFromString(r.cost), StartedAt: r.at.UTC(), Outcome: domain.OutcomeCompleted, Attempts: 1}
	d, err := commands.Event(uuid.New(), r.at, rc)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.cap.Append(e.ctx, domain.UsageStream(r.acct), eventstore.Any(), d); err != nil {
		e.t.Fatal(err)
	}
}

// anSums is what the test expects of one row, summed from its requests.
type anSums struct {
	requests, in, out, reasoning, cached, latency int64
	cost                                          decimal.Decimal
}

// expectRows groups the requests that keep admits by the bucket of gran
// ("" none) and the dimensions, as the API should.
func expectRows(reqs []anReq, gran string, dims []string, keep func(anReq) bool) map[string]*anSums {
	out := map[string]*anSums{}
	for _, r := range reqs {
		if !keep(r) {
			continue
		}
		parts := []string{r.bucket(gran)}
		for _, d := range dims {
			parts = append(parts, r.dim(d))
		}
		k := strings.Join(parts, "|")
		s, ok := out[k]
		if !ok {
			s = &anSums{}
			out[k] = s
		}
		s.requests++
		s.in += r.in
		s.out += r.out
		s.reasoning += r.reasoning
		s.cached += r.cached
		s.latency += r.latency
		s.cost = s.cost.Add(decimal.RequireFromString(r.cost))
	}
	return out
}

type anAnswer struct {
	Data struct {
		Data     []map[string]any `json:"data"`
		Metadata struct {
			QueryTimeMs *float64 `json:"query_time_ms"`
			RowCount    int      `json:"row_count"`
			Truncated   bool     `json:"truncated"`
		} `json:"metadata"`
		Warnings []string `json:"warnings"`
	} `json:"data"`
}

func (e *env) analytics(bearer string, body map[string]any) anAnswer {
	e.t.Helper()
	code, b := e.call("POST", "/api/v1/analytics/query", bearer, body)
	if code != http.StatusOK {
		e.t.Fatalf("query %v: %d %s", body, code, b)
	}
	var a anAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		e.t.Fatal(err)
	}
	if a.Data.Metadata.QueryTimeMs == nil || a.Data.Metadata.RowCount != len(a.Data.Data) {
		e.t.Fatalf("metadata %+v of %d rows: %s", a.Data.Metadata, len(a.Data.Data), b)
	}
	return a
}

var allMetrics = []any{"request_count", "total_usage", "tokens_prompt", "tokens_completion", "tokens_total",
	"reasoning_tokens", "cached_tokens", "avg_usage_per_request", "cache_hit_rate", "avg_latency"}

// checkRows compares the rows answered, with every metric, to the sums of
// the requests.
func checkRows(t *testing.T, what string, rows []map[string]any, gran string, dims []string, want map[string]*anSums) {
	t.Helper()
	if len(rows) != len(want) {
		t.Errorf("%s: %d rows, want %d: %v", what, len(rows), len(want), rows)
	}
	for _, row := range rows {
		parts := []string{""}
		if gran != "" {
			parts[0], _ = row["date__"+gran].(string)
		}
		for _, d := range dims {
			v, _ := row[d].(string)
			parts = append(parts, v)
		}
		s, ok := want[strings.Join(parts, "|")]
		if !ok {
			t.Errorf("%s: row %v is not expected (want %v)", what, row, keysOf(want))
			continue
		}
		avgCost := s.cost.Div(decimal.NewFromInt(s.requests)).InexactFloat64()
		exp := map[string]any{"request_count": float64(s.requests), "total_usage": s.cost.InexactFloat64(),
			"tokens_prompt": float64(s.in), "tokens_completion": float64(s.out), "tokens_total": float64(s.in + s.out),
			"reasoning_tokens": float64(s.reasoning), "cached_tokens": float64(s.cached),
			"avg_usage_per_request": avgCost, "cache_hit_rate": float64(s.cached) / float64(s.in),
			"avg_latency": float64(s.latency) / float64(s.requests)}
		for k, v := range exp {
			if !closeTo(row[k], v.(float64)) {
				t.Errorf("%s: row %v: %s = %v, want %v", what, parts, k, row[k], v)
			}
		}
	}
}

func closeTo(got any, want float64) bool {
	f, ok := got.(float64)
	return ok && (f == want || (f-want < 1e-9 && want-f < 1e-9))
}

func keysOf(m map[string]*anSums) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// analyticsSetUp is an account with a management key, two inference keys
// and requests over the last year, beside another account's.
type analyticsSetUp struct {
	*env
	mgmt, plain, keyA, keyB, keyElse, m1, m2 string
	reqs                                     []anReq
}

func newAnalyticsSetUp(t *testing.T) *analyticsSetUp {
	e := newEnv(t, false)
	s := &analyticsSetUp{env: e}
	e.openAccount("acct_an", "分析公司", domain.PlanStarter)
	e.openAccount("acct_else", "別的公司", domain.PlanStarter)
	var err error
	if _, s.mgmt, err = e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_an", Name: "provisioning", Management: true}); err != nil {
		t.Fatal(err)
	}
	s.keyA, s.plain = e.issueKey("acct_an")
	s.keyB, _ = e.issueKey("acct_an")
	s.keyElse, _ = e.issueKey("acct_else")
	s.m1, s.m2 = e.cat.IDs()[0], e.cat.IDs()[1]
	utc := func(mo time.Month, d, h, m int) time.Time { return time.Date(2026, mo, d, h, m, 0, 0, time.UTC) }
	// testNow is 15 March 2026, 02:00 UTC.
	s.reqs = []anReq{
		// Appended first, then dropped as newer requests arrive: the
		// first from the hourly buckets (kept by the day), the second
		// from both.
		{"acct_an", s.keyB, s.m2, "anthropic", "claude-up", utc(1, 20, 3, 0), 70, 30, 0, 0, 600, "0.3"},
		{"acct_an", s.keyB, s.m2, "anthropic", "claude-up", time.Date(2025, 2, 1, 3, 0, 0, 0, time.UTC), 1, 1, 0, 0, 1, "9"},
		{"acct_an", s.keyA, s.m1, "openai", "gpt-up", utc(3, 14, 5, 10), 100, 50, 10, 40, 800, "1.25"},
		{"acct_an", s.keyA, s.m1, "openai", "gpt-up", utc(3, 14, 5, 40), 200, 100, 0, 0, 400, "2.5"},
		{"acct_an", s.keyB, s.m1, "azure-openai", "gpt-az", utc(3, 14, 9, 0), 10, 5, 0, 5, 300, "0.125"},
		{"acct_an", s.keyB, s.m2, "anthropic", "claude-up", utc(3, 10, 23, 59), 7, 3, 0, 0, 1200, "0.5"},
		{"acct_an", s.keyA, s.m2, "anthropic", "claude-up", utc(3, 15, 1, 30), 30, 20, 5, 10, 900, "0.75"},
		{"acct_an", s.keyA, s.m1, "openai", "gpt-up", utc(2, 20, 12, 0), 1000, 10, 0, 500, 100, "3.333"},
		// Kept by the day only (over 31 days ago) …
		{"acct_an", s.keyB, s.m1, "openai", "gpt-up", utc(1, 5, 12, 0), 50, 50, 0, 0, 500, "0.1"},
		{"acct_an", s.keyA, s.m2, "anthropic", "claude-up", time.Date(2025, 12, 20, 8, 0, 0, 0, time.UTC), 60, 40, 20, 0, 700, "0.2"},
		// … and no longer kept at all (over a year ago).
		{"acct_an", s.keyA, s.m1, "openai", "gpt-up", time.Date(2025, 1, 10, 8, 0, 0, 0, time.UTC), 1, 1, 0, 0, 1, "9"},
		{"acct_else", s.keyElse, s.m1, "openai", "gpt-up", utc(3, 14, 5, 0), 1, 1, 0, 0, 1, "9"},
	}
	for _, r := range s.reqs {
		e.appendRequest(r)
	}
	e.sync()
	return s
}

func between(start, end string) func(anReq) bool {
	s, _ := time.Parse(time.RFC3339, start)
	en, _ := time.Parse(time.RFC3339, end)
	return func(r anReq) bool { return r.acct == "acct_an" && !r.at.Before(s) && r.at.Before(en) }
}

func rng(start, end string) map[string]any { return map[string]any{"start": start, "end": end} }

// OpenRouter's POST /api/v1/analytics/query for a management key: the
// account's requests summed by time bucket and dimension, every metric as
// the requests add up, hourly for the last 31 days and daily for a year;
// other accounts' requests stay out.
func TestAnalyticsQuerySumsTheAccountsRequests(t *testing.T) {
	s := newAnalyticsSetUp(t)
	month := rng("2026-02-13T00:00:00Z", "2026-03-15T02:00:00Z")
	in := between("2026-02-13T00:00:00Z", "2026-03-15T02:00:00Z")

	a := s.analytics(s.mgmt, map[string]any{"metrics": allMetrics, "time_range": month})
	checkRows(t, "totals", a.Data.Data, "", nil, expectRows(s.reqs, "", nil, in))
	if len(a.Data.Warnings) != 0 || a.Data.Metadata.Truncated {
		t.Errorf("totals: %+v", a.Data)
	}

	for _, c := range []struct {
		gran string
		dims []string
	}{
		{"day", []string{"model", "api_key_id"}},
		{"hour", []string{"endpoint"}},
		{"week", []string{"provider"}},
		{"", []string{"model", "provider", "endpoint", "api_key_id"}},
	} {
		body := map[string]any{"metrics": allMetrics, "dimensions": c.dims, "time_range": month}
		if c.gran != "" {
			body["granularity"] = c.gran
		}
		a := s.analytics(s.mgmt, body)
		checkRows(t, fmt.Sprintf("%s by %v", c.gran, c.dims), a.Data.Data, c.gran, c.dims, expectRows(s.reqs, c.gran, c.dims, in))
	}

	// A year, by month: daily buckets reach back 365 days.
	year := rng("2025-03-16T00:00:00Z", "2026-03-16T00:00:00Z")
	a = s.analytics(s.mgmt, map[string]any{"metrics": allMetrics, "granularity": "month", "dimensions": []string{"model"}, "time_range": year})
	checkRows(t, "a year by month", a.Data.Data, "month", []string{"model"}, expectRows(s.reqs, "month", []string{"model"}, between("2025-03-16T00:00:00Z", "2026-03-16T00:00:00Z")))
	if len(a.Data.Data) < 4 {
		t.Errorf("a year by month: %v", a.Data.Data)
	}

	// Without a time range: the last 7 days, from the start of that hour.
	a = s.analytics(s.mgmt, map[string]any{"metrics": allMetrics})
	checkRows(t, "the last 7 days", a.Data.Data, "", nil, expectRows(s.reqs, "", nil, between("2026-03-08T02:00:00Z", "2026-03-16T00:00:00Z")))
}

// A range past what is kept is refused, naming the field, rather than
// answered short: hourly buckets for 31 days, daily ones for 365.
func TestAnalyticsRangeBeyondWhatIsKeptIsRefused(t *testing.T) {
	s := newAnalyticsSetUp(t)
	for _, c := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"metrics": []string{"request_count"}, "time_range": rng("2025-01-01T00:00:00Z", "2026-03-01T00:00:00Z")}, "time_range.start"},
		{map[string]any{"metrics": []string{"request_count"}, "granularity": "hour", "time_range": rng("2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z")}, "time_range.start"},
	} {
		code, b := s.call("POST", "/api/v1/analytics/query", s.mgmt, c.body)
		if code != http.StatusBadRequest || !strings.Contains(string(b), c.want) {
			t.Errorf("%v: %d %s, want 400 naming %s", c.body, code, b, c.want)
		}
	}
	// A start within an hour is taken from the start of that hour, and
	// the answer says so: both requests of 05:00–06:00 are counted.
	a := s.analytics(s.mgmt, map[string]any{"metrics": allMetrics, "time_range": rng("2026-03-14T05:30:00Z", "2026-03-14T06:00:00Z")})
	checkRows(t, "05:30–06:00", a.Data.Data, "", nil, expectRows(s.reqs, "", nil, between("2026-03-14T05:00:00Z", "2026-03-14T06:00:00Z")))
	if len(a.Data.Warnings) != 1 || !strings.Contains(a.Data.Warnings[0], "time_range.start") {
		t.Errorf("warnings %q, want one on time_range.start", a.Data.Warnings)
	}
	// Older than 31 days, whole days are counted.
	a = s.analytics(s.mgmt, map[string]any{"metrics": allMetrics, "time_range": rng("2026-01-05T13:00:00Z", "2026-01-06T00:00:00Z")})
	checkRows(t, "5 January from 13:00", a.Data.Data, "", nil, expectRows(s.reqs, "", nil, between("2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z")))
	if len(a.Data.Warnings) != 1 || !strings.Contains(a.Data.Warnings[0], "time_range.start") {
		t.Errorf("warnings %q, want one on time_range.start", a.Data.Warnings)
	}
}

// Filters, as OpenRouter's: eq, neq, in, not_in and the ordered ones on a
// dimension's value, all of them together.
func TestAnalyticsFilters(t *testing.T) {
	s := newAnalyticsSetUp(t)
	month := rng("2026-02-13T00:00:00Z", "2026-03-15T02:00:00Z")
	in := between("2026-02-13T00:00:00Z", "2026-03-15T02:00:00Z")
	for _, c := range []struct {
		filters []map[string]any
		keep    func(anReq) bool
	}{
		{[]map[string]any{{"field": "model", "operator": "eq", "value": s.m1}}, func(r anReq) bool { return r.model == s.m1 }},
		{[]map[string]any{{"field": "provider", "operator": "neq", "value": "openai"}}, func(r anReq) bool { return r.provider != "openai" }},
		{[]map[string]any{{"field": "api_key_id", "operator": "in", "value": []string{s.keyB}}}, func(r anReq) bool { return r.key == s.keyB }},
		{[]map[string]any{{"field": "endpoint", "operator": "not_in", "value": []string{"openai/gpt-up", "nobody/none"}}}, func(r anReq) bool { return r.endpoint() != "openai/gpt-up" }},
		{[]map[string]any{{"field": "provider", "operator": "gte", "value": "azure-openai"}, {"field": "provider", "operator": "lt", "value": "openai"}},
			func(r anReq) bool { return r.provider >= "azure-openai" && r.provider < "openai" }},
		{[]map[string]any{{"field": "provider", "operator": "gt", "value": "anthropic"}, {"field": "model", "operator": "lte", "value": s.m1}},
			func(r anReq) bool { return r.provider > "anthropic" && r.model <= s.m1 }},
	} {
		a := s.analytics(s.mgmt, map[string]any{"metrics": allMetrics, "dimensions": []string{"model"}, "filters": c.filters, "time_range": month})
		want := expectRows(s.reqs, "", []string{"model"}, func(r anReq) bool { return in(r) && c.keep(r) })
		if len(want) == 0 {
			t.Fatalf("%v keeps no request: the case tests nothing", c.filters)
		}
		checkRows(t, fmt.Sprint(c.filters), a.Data.Data, "", []string{"model"}, want)
	}
}

// order_by, limit (with truncated) and group_limit.
func TestAnalyticsOrderAndLimits(t *testing.T) {
	s := newAnalyticsSetUp(t)
	month := rng("2026-02-13T00:00:00Z", "2026-03-15T02:00:00Z")
	in := between("2026-02-13T00:00:00Z", "2026-03-15T02:00:00Z")
	want := expectRows(s.reqs, "", []string{"endpoint"}, in)
	for _, dir := range []string{"asc", "desc"} {
		a := s.analytics(s.mgmt, map[string]any{"metrics": []string{"total_usage"}, "dimensions": []string{"endpoint"}, "time_range": month,
			"order_by": map[string]any{"field": "total_usage", "direction": dir}})
		if len(a.Data.Data) != len(want) || len(want) < 3 {
			t.Fatalf("%s: %v, want %d rows", dir, a.Data.Data, len(want))
		}
		for i := 1; i < len(a.Data.Data); i++ {
			prev, cur := a.Data.Data[i-1]["total_usage"].(float64), a.Data.Data[i]["total_usage"].(float64)
			if dir == "asc" && prev > cur || dir == "desc" && prev < cur {
				t.Errorf("%s: %v out of order", dir, a.Data.Data)
			}
		}
	}
	// request_count orders without being asked for, as OpenRouter's does.
	a := s.analytics(s.mgmt, map[string]any{"metrics": []string{"total_usage"}, "dimensions": []string{"endpoint"}, "time_range": month,
		"order_by": map[string]any{"field": "request_count", "direction": "desc"}, "limit": 1})
	var most string
	var n int64
	for k, v := range want {
		if v.requests > n {
			most, n = k, v.requests
		}
	}
	if len(a.Data.Data) != 1 || "|"+a.Data.Data[0]["endpoint"].(string) != most || !a.Data.Metadata.Truncated {
		t.Errorf("limit 1 by request_count: %+v, want %s and truncated", a.Data, most)
	}
	a = s.analytics(s.mgmt, map[string]any{"metrics": []string{"total_usage"}, "dimensions": []string{"endpoint"}, "time_range": month, "limit": len(want)})
	if a.Data.Metadata.Truncated || len(a.Data.Data) != len(want) {
		t.Errorf("limit of every row: %+v", a.Data)
	}
	// By date, ascending; one row per model at most.
	a = s.analytics(s.mgmt, map[string]any{"metrics": []string{"request_count"}, "dimensions": []string{"model"}, "granularity": "day", "time_range": month,
		"order_by": map[string]any{"field": "date", "direction": "asc"}, "group_limit": 1})
	models := map[string]bool{}
	for _, r := range s.reqs {
		if in(r) {
			models[r.model] = true
		}
	}
	if len(a.Data.Data) != len(models) || !a.Data.Metadata.Truncated {
		t.Fatalf("group_limit 1: %+v, want a row for each of %v", a.Data, models)
	}
	if a.Data.Data[0]["date__day"].(string) > a.Data.Data[1]["date__day"].(string) {
		t.Errorf("by date ascending: %v", a.Data.Data)
	}
	for _, row := range a.Data.Data {
		first := ""
		for _, r := range s.reqs {
			if in(r) && r.model == row["model"] && (first == "" || r.bucket("day") < first) {
				first = r.bucket("day")
			}
		}
		if row["date__day"] != first {
			t.Errorf("group_limit 1 by date ascending: %v, want its first day %s", row, first)
		}
	}
}

// A management key limited to some models sees only the requests of the
// keys within its limits, as it lists only those keys; an api_key_id
// outside them is answered with no rows and a warning, as OpenRouter
// answers a hash it cannot resolve.
func TestAnalyticsOfALimitedManagementKeyCoverItsKeysOnly(t *testing.T) {
	s := newAnalyticsSetUp(t)
	_, lead, err := s.cmds.IssueKey(s.ctx, domain.KeyIssued{AccountID: "acct_an", Name: "lead", Management: true, Models: []string{s.m1}})
	if err != nil {
		t.Fatal(err)
	}
	within, _, err := s.cmds.IssueKey(s.ctx, domain.KeyIssued{AccountID: "acct_an", Name: "within", Models: []string{s.m1}})
	if err != nil {
		t.Fatal(err)
	}
	r := anReq{"acct_an", within, s.m1, "openai", "gpt-up", time.Date(2026, 3, 14, 7, 0, 0, 0, time.UTC), 11, 12, 0, 0, 100, "0.42"}
	s.appendRequest(r)
	s.reqs = append(s.reqs, r)
	s.sync()
	month := rng("2026-02-13T00:00:00Z", "2026-03-15T02:00:00Z")
	a := s.analytics(lead, map[string]any{"metrics": allMetrics, "dimensions": []string{"api_key_id"}, "time_range": month})
	checkRows(t, "the limited key", a.Data.Data, "", []string{"api_key_id"}, expectRows(s.reqs, "", []string{"api_key_id"}, func(r anReq) bool { return r.key == within }))
	a = s.analytics(lead, map[string]any{"metrics": []string{"request_count"}, "time_range": month,
		"filters": []map[string]any{{"field": "api_key_id", "operator": "in", "value": []string{s.keyA, within}}}})
	if len(a.Data.Data) != 1 || a.Data.Data[0]["request_count"] != 1.0 || len(a.Data.Warnings) != 1 || !strings.Contains(a.Data.Warnings[0], s.keyA) {
		t.Errorf("a key outside its limits, asked for: %+v", a.Data)
	}
	// The account's unlimited management key sees every key's, and another
	// account's key is a warning too.
	a = s.analytics(s.mgmt, map[string]any{"metrics": []string{"request_count"}, "time_range": month,
		"filters": []map[string]any{{"field": "api_key_id", "operator": "eq", "value": s.keyElse}}})
	if len(a.Data.Data) != 0 || len(a.Data.Warnings) != 1 {
		t.Errorf("another account's key: %+v", a.Data)
	}
}

// GET /api/v1/analytics/meta is the list of what a query takes: every
// metric, dimension, operator and granularity it lists is accepted, and
// none else.
func TestAnalyticsMetaListsWhatQueryTakes(t *testing.T) {
	s := newAnalyticsSetUp(t)
	code, b := s.call("GET", "/api/v1/analytics/meta", s.mgmt, nil)
	if code != http.StatusOK {
		t.Fatalf("meta: %d %s", code, b)
	}
	type named struct {
		Name         string `json:"name"`
		DisplayLabel string `json:"display_label"`
	}
	var meta struct {
		Data struct {
			Metrics []struct {
				Name          string `json:"name"`
				DisplayLabel  string `json:"display_label"`
				DisplayFormat string `json:"display_format"`
				IsRate        *bool  `json:"is_rate"`
			} `json:"metrics"`
			Dimensions []named `json:"dimensions"`
			Operators  []struct {
				Name      string `json:"name"`
				ValueType string `json:"value_type"`
			} `json:"operators"`
			Granularities []named `json:"granularities"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	var metrics []any
	rates := 0
	for _, m := range meta.Data.Metrics {
		if m.DisplayLabel == "" || m.IsRate == nil || m.DisplayFormat == "" {
			t.Errorf("metric %+v lacks a field", m)
		}
		if m.IsRate != nil && *m.IsRate {
			rates++
		}
		metrics = append(metrics, m.Name)
	}
	if !reflect.DeepEqual(metrics, allMetrics) || rates != 3 {
		t.Errorf("metrics %v (%d rates), want %v", metrics, rates, allMetrics)
	}
	month := rng("2026-02-13T00:00:00Z", "2026-03-15T02:00:00Z")
	for _, d := range meta.Data.Dimensions {
		if d.DisplayLabel == "" {
			t.Errorf("dimension %+v has no label", d)
		}
		s.analytics(s.mgmt, map[string]any{"metrics": metrics, "dimensions": []string{d.Name}, "time_range": month})
	}
	for _, g := range meta.Data.Granularities {
		if g.DisplayLabel == "" {
			t.Errorf("granularity %+v has no label", g)
		}
		s.analytics(s.mgmt, map[string]any{"metrics": metrics, "granularity": g.Name, "time_range": month})
	}
	for _, o := range meta.Data.Operators {
		var v any = s.m1
		if o.ValueType == "array" {
			v = []string{s.m1}
		}
		s.analytics(s.mgmt, map[string]any{"metrics": metrics, "time_range": month, "filters": []map[string]any{{"field": "model", "operator": o.Name, "value": v}}})
	}
	if len(meta.Data.Dimensions) != 4 || len(meta.Data.Operators) != 8 || len(meta.Data.Granularities) != 4 {
		t.Errorf("meta: %s", b)
	}
}

// What the query cannot take is a 400 naming the field; an inference key
// is refused (403) as on /api/v1/activity, no key 401.
func TestAnalyticsRefusals(t *testing.T) {
	s := newAnalyticsSetUp(t)
	m := []string{"request_count"}
	day := rng("2026-03-14T00:00:00Z", "2026-03-15T00:00:00Z")
	with := func(k string, v any) map[string]any {
		return map[string]any{"metrics": m, "time_range": day, k: v}
	}
	filter := func(f map[string]any) map[string]any { return with("filters", []map[string]any{f}) }
	for _, c := range []struct {
		body any
		want string
	}{
		{map[string]any{}, "metrics"},
		{map[string]any{"metrics": []string{}}, "metrics"},
		{map[string]any{"metrics": "request_count"}, "metrics"},
		{map[string]any{"metrics": []any{"request_count", 5}}, "metrics[1]"},
		{map[string]any{"metrics": []string{"request_count", "colour"}}, "metrics[1]"},
		{map[string]any{"metrics": []string{"request_count", "request_count"}}, "metrics[1]"},
		{with("dimensions", []string{"colour"}), "dimensions[0]"},
		{with("dimensions", "model"), "dimensions"},
		{with("granularity", "minute"), "granularity"},
		{with("granularity", "fortnight"), "granularity"},
		{with("time_range", rng("2026-03-15T00:00:00Z", "2026-03-14T00:00:00Z")), "time_range"},
		{with("time_range", rng("2026-03-14T00:00:00Z", "2026-03-14T00:00:00Z")), "time_range"},
		{with("time_range", rng("2026-03-14", "2026-03-15T00:00:00Z")), "time_range.start"},
		{with("time_range", rng("2026-03-14T00:00:00Z", "2026-03-15T00:00Z")), "time_range.end"},
		{with("time_range", map[string]any{"start": "2026-03-14T00:00:00Z"}), "time_range.end"},
		{with("time_range", map[string]any{"start": "2026-03-14T00:00:00Z", "end": 5}), "time_range.end"},
		{filter(map[string]any{"field": "colour", "operator": "eq", "value": "x"}), "filters[0].field"},
		{filter(map[string]any{"field": "total_usage", "operator": "gt", "value": 5}), "filters[0].field"},
		{filter(map[string]any{"field": "model", "operator": "like", "value": "x"}), "filters[0].operator"},
		{filter(map[string]any{"field": "model", "operator": "eq", "value": 5}), "filters[0].value"},
		{filter(map[string]any{"field": "model", "operator": "eq", "value": []string{"x"}}), "filters[0].value"},
		{filter(map[string]any{"field": "model", "operator": "in", "value": "x"}), "filters[0].value"},
		{filter(map[string]any{"field": "model", "operator": "in", "value": []string{}}), "filters[0].value"},
		{filter(map[string]any{"field": "model", "operator": "in", "value": []any{"x", 5}}), "filters[0].value[1]"},
		{filter(map[string]any{"field": "model", "operator": "eq"}), "filters[0].value"},
		{filter(map[string]any{"field": "model", "operator": "in", "value": []string{"x"}, "include_unset": true}), "filters[0].include_unset"},
		{filter(map[string]any{"field": "model", "operator": "eq", "value": "x", "colour": 1}), "filters[0].colour"},
		{with("filters", "model"), "filters"},
		{with("order_by", map[string]any{"field": "tokens_prompt", "direction": "desc"}), "order_by.field"},
		{with("order_by", map[string]any{"field": "date", "direction": "desc"}), "order_by.field"},
		{with("order_by", map[string]any{"field": "request_count", "direction": "up"}), "order_by.direction"},
		{with("order_by", map[string]any{"field": "request_count"}), "order_by.direction"},
		{with("limit", 0), "limit"},
		{with("limit", 10001), "limit"},
		{with("limit", 2.5), "limit"},
		{with("limit", "10"), "limit"},
		{with("group_limit", 0), "group_limit"},
		{with("colour", 1), "colour"},
		{with("classifier_dimensions", map[string]any{"classifier_id": "x"}), "classifier_dimensions"},
		{[]string{"request_count"}, "JSON object"},
	} {
		code, b := s.call("POST", "/api/v1/analytics/query", s.mgmt, c.body)
		if code != http.StatusBadRequest || !strings.Contains(string(b), c.want) {
			t.Errorf("%v: %d %s, want 400 naming %s", c.body, code, b, c.want)
		}
	}
	for _, path := range []string{"/api/v1/analytics/meta", "/api/v1/analytics/query"} {
		method := map[bool]string{true: "GET", false: "POST"}[strings.HasSuffix(path, "meta")]
		body := map[string]any{"metrics": m}
		if code, b := s.call(method, path, s.plain, body); code != http.StatusForbidden || !strings.Contains(string(b), "management key") {
			t.Errorf("%s with an inference key: %d %s, want 403", path, code, b)
		}
		if code, _ := s.call(method, path, "", body); code != http.StatusUnauthorized {
			t.Errorf("%s without a key: %d, want 401", path, code)
		}
	}
}

// The index is a projection: the console's read model rebuilt from the
// store, as after a restart, answers every query alike.
func TestAnalyticsAfterReplayAnswerAlike(t *testing.T) {
	s := newAnalyticsSetUp(t)
	views := NewViews(projections.NewAccounts())
	runner, err := projections.NewRunner(s.store, nil, views)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-runner.Running()
	if err := caughtUp(s.ctx, runner); err != nil {
		t.Fatal(err)
	}
	start, end := time.Date(2025, 3, 16, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	for _, g := range []string{"", "day", "month"} {
		q := AnalyticsQuery{Metrics: []string{"request_count", "total_usage", "avg_usage_per_request"}, Dimensions: []string{"model", "api_key_id"},
			Granularity: g, Start: start, End: end, Limit: 1000, RangeGiven: true}
		before, err := s.views.QueryAnalytics("acct_an", q, s.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		after, err := views.QueryAnalytics("acct_an", q, s.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(before.Rows) == 0 || !reflect.DeepEqual(before, after) {
			t.Errorf("by %q: before %+v, after replay %+v", g, before, after)
		}
	}
	// What is kept stays within its window, however long the history.
	for _, v := range []*Views{s.views, views} {
		v.mu.RLock()
		hourFloor, dayFloor := v.analytics.floors(v.analytics.newest)
		for at := range v.analytics.hours {
			if at < hourFloor {
				t.Errorf("an hour kept from %s", time.Unix(at, 0).UTC())
			}
		}
		for at := range v.analytics.days {
			if at < dayFloor {
				t.Errorf("a day kept from %s", time.Unix(at, 0).UTC())
			}
		}
		if len(v.analytics.hours) == 0 || len(v.analytics.days) == 0 {
			t.Errorf("nothing kept")
		}
		v.mu.RUnlock()
	}
}
