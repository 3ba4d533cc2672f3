package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/domain"
)

// Bounds of a query, as OpenRouter's.
const (
	analyticsDefaultLimit = 1000
	analyticsMaxLimit     = 10000
	analyticsMaxFilters   = 20
	analyticsDefaultDays  = 7 // the range of a query that gives none
)

// orAnalyticsMeta is OpenRouter's GET /api/v1/analytics/meta: what a
// query may ask for, the one list the query checks against.
func (s *server) orAnalyticsMeta(c echo.Context) error {
	type metric struct {
		Name          string `json:"name"`
		DisplayLabel  string `json:"display_label"`
		IsRate        bool   `json:"is_rate"`
		DisplayFormat string `json:"display_format"`
	}
	type named struct {
		Name         string `json:"name"`
		DisplayLabel string `json:"display_label"`
	}
	type operator struct {
		Name      string `json:"name"`
		ValueType string `json:"value_type"`
	}
	var out struct {
		Metrics       []metric   `json:"metrics"`
		Dimensions    []named    `json:"dimensions"`
		Operators     []operator `json:"operators"`
		Granularities []named    `json:"granularities"`
	}
	for _, m := range analyticsMetrics {
		out.Metrics = append(out.Metrics, metric{m.name, m.label, m.rate, m.format})
	}
	for _, d := range analyticsDimensions {
		out.Dimensions = append(out.Dimensions, named{d.name, d.label})
	}
	for _, o := range analyticsOperators {
		out.Operators = append(out.Operators, operator{o.name, o.valueType})
	}
	for _, g := range analyticsGranularities {
		out.Granularities = append(out.Granularities, named{g.name, g.label})
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// orAnalyticsQuery is OpenRouter's POST /api/v1/analytics/query over the
// account's requests, those of the keys within the caller's limits.
func (s *server) orAnalyticsQuery(c echo.Context) error {
	began := time.Now()
	b, err := readJSON(c)
	if err != nil {
		return err
	}
	now := s.deps.now()
	q, err := decodeAnalyticsQuery(b, now)
	if err != nil {
		return err
	}
	p := principal(c)
	q.Keys = s.analyticsScope(p)
	warnings := s.unknownKeys(p.AccountID, q)
	res, err := s.deps.Views.QueryAnalytics(p.AccountID, q, now)
	if err != nil {
		return err
	}
	warnings = append(warnings, res.Warnings...)
	if warnings == nil {
		warnings = []string{}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": map[string]any{
		"data": res.Rows,
		"metadata": map[string]any{"query_time_ms": time.Since(began).Milliseconds(), "row_count": len(res.Rows),
			"truncated": res.Truncated},
		"warnings": warnings,
	}})
}

// analyticsScope is the keys whose requests a management key limited to
// some models, spend or time sees: those within its limits, as the keys
// API lists (nil: every request of the account).
func (s *server) analyticsScope(p auth.Principal) map[string]bool {
	own, ok := s.keyOfAccount(p.AccountID, p.KeyID)
	if !ok {
		return map[string]bool{}
	}
	o := issuedOf(own)
	if len(o.Models) == 0 && !o.SpendLimit.IsPositive() && o.ExpiresAt == nil {
		return nil
	}
	keys := map[string]bool{}
	for _, k := range s.deps.Models.Keys.ByAccount(p.AccountID) {
		if domain.KeyWithin(o, issuedOf(k)) == nil {
			keys[k.KeyID] = true
		}
	}
	return keys
}

// unknownKeys warns of api_key_id values that are no key the caller sees,
// as OpenRouter warns of a hash it cannot resolve: they match nothing.
func (s *server) unknownKeys(account string, q AnalyticsQuery) []string {
	var out []string
	for _, f := range q.Filters {
		if f.Field != "api_key_id" || !slices.Contains([]string{"eq", "neq", "in", "not_in"}, f.Op) {
			continue
		}
		for _, id := range f.Values {
			_, ok := s.keyOfAccount(account, id)
			if !ok || q.Keys != nil && !q.Keys[id] {
				out = append(out, fmt.Sprintf("api_key_id %s is not a key of this account that this management key sees: it matches no request", domain.Quote(id)))
			}
		}
	}
	return out
}

func badField(field, format string, args ...any) error {
	return echo.NewHTTPError(http.StatusBadRequest, field+": "+fmt.Sprintf(format, args...))
}

// decodeAnalyticsQuery reads and checks a query body: whatever it may not
// ask is a 400 naming the field, rather than left out of the answer.
func decodeAnalyticsQuery(b []byte, now time.Time) (AnalyticsQuery, error) {
	q := AnalyticsQuery{Limit: analyticsDefaultLimit}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(b, &body); err != nil || body == nil {
		return q, echo.NewHTTPError(http.StatusBadRequest, "the request body must be a JSON object")
	}
	known := []string{"metrics", "dimensions", "granularity", "time_range", "filters", "order_by", "limit", "group_limit"}
	fields := make([]string, 0, len(body))
	for f := range body {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		switch {
		case f == "classifier_dimensions" || f == "classifier_filters":
			return q, badField(f, "RouteFree has no classifiers")
		case !slices.Contains(known, f):
			return q, echo.NewHTTPError(http.StatusBadRequest, "unknown field "+f)
		}
	}
	null := func(f string) bool { raw, ok := body[f]; return !ok || string(raw) == "null" }
	var err error
	if null("metrics") {
		return q, badField("metrics", "at least one metric is required (GET /api/v1/analytics/meta lists them)")
	}
	if q.Metrics, err = nameList("metrics", body["metrics"], "metric", func(n string) bool { _, ok := metricNamed(n); return ok }); err != nil {
		return q, err
	}
	if len(q.Metrics) == 0 {
		return q, badField("metrics", "at least one metric is required (GET /api/v1/analytics/meta lists them)")
	}
	if !null("dimensions") {
		if q.Dimensions, err = nameList("dimensions", body["dimensions"], "dimension", func(n string) bool { return dimensionIndex(n) >= 0 }); err != nil {
			return q, err
		}
	}
	if !null("granularity") {
		if q.Granularity, err = granularity(body["granularity"]); err != nil {
			return q, err
		}
	}
	q.Start, q.End = now.Truncate(time.Hour).AddDate(0, 0, -analyticsDefaultDays), now
	if !null("time_range") {
		if q.Start, q.End, err = timeRange(body["time_range"]); err != nil {
			return q, err
		}
		q.RangeGiven = true
	}
	if !null("filters") {
		if q.Filters, err = filters(body["filters"]); err != nil {
			return q, err
		}
	}
	if !null("order_by") {
		if err := q.orderBy(body["order_by"]); err != nil {
			return q, err
		}
	}
	if !null("limit") {
		if q.Limit, err = rowCount("limit", body["limit"]); err != nil {
			return q, err
		}
	}
	if !null("group_limit") {
		if q.GroupLimit, err = rowCount("group_limit", body["group_limit"]); err != nil {
			return q, err
		}
	}
	return q, nil
}

// nameList reads a list of metric or dimension names, each known and
// given once.
func nameList(field string, raw json.RawMessage, what string, known func(string) bool) ([]string, error) {
	var items []json.RawMessage
	if err := orField(field, raw, &items, "an array of "+what+" names"); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		at := fmt.Sprintf("%s[%d]", field, i)
		var name string
		if err := orField(at, item, &name, "a string, a "+what+" name"); err != nil {
			return nil, err
		}
		if !known(name) {
			return nil, badField(at, "unknown %s %s: GET /api/v1/analytics/meta lists them", what, domain.Quote(name))
		}
		if slices.Contains(out, name) {
			return nil, badField(at, "%s is given twice", name)
		}
		out = append(out, name)
	}
	return out, nil
}

func granularity(raw json.RawMessage) (string, error) {
	var g string
	if err := orField("granularity", raw, &g, "hour, day, week or month"); err != nil {
		return "", err
	}
	for _, k := range analyticsGranularities {
		if k.name == g {
			return g, nil
		}
	}
	if g == "minute" {
		return "", badField("granularity", "minute is not offered: usage is kept by the hour for %d days and by the day for %d; one of hour, day, week or month", analyticsHourlyDays, analyticsDailyDays)
	}
	return "", badField("granularity", "unknown granularity %s: one of hour, day, week or month", domain.Quote(g))
}

// timeRange reads {start, end}, two RFC 3339 instants with seconds, end
// after start.
func timeRange(raw json.RawMessage) (time.Time, time.Time, error) {
	var r map[string]json.RawMessage
	if err := orField("time_range", raw, &r, "an object with start and end"); err != nil {
		return time.Time{}, time.Time{}, err
	}
	for k := range r {
		if k != "start" && k != "end" {
			return time.Time{}, time.Time{}, echo.NewHTTPError(http.StatusBadRequest, "unknown field time_range."+k)
		}
	}
	var at [2]time.Time
	for i, k := range []string{"start", "end"} {
		field := "time_range." + k
		v, ok := r[k]
		if !ok {
			return time.Time{}, time.Time{}, badField(field, "is required, an RFC 3339 instant such as 2026-05-01T00:00:00Z")
		}
		var s string
		if err := orField(field, v, &s, "an RFC 3339 instant such as 2026-05-01T00:00:00Z"); err != nil {
			return time.Time{}, time.Time{}, err
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, time.Time{}, badField(field, "%s is not an RFC 3339 instant with seconds, such as 2026-05-01T00:00:00Z", domain.Quote(s))
		}
		at[i] = t.UTC()
	}
	if !at[1].After(at[0]) {
		return time.Time{}, time.Time{}, badField("time_range", "end (%s) must be after start (%s)", at[1].Format(time.RFC3339Nano), at[0].Format(time.RFC3339Nano))
	}
	return at[0], at[1], nil
}

func filters(raw json.RawMessage) ([]AnalyticsFilter, error) {
	var items []map[string]json.RawMessage
	if err := orField("filters", raw, &items, "an array of {field, operator, value}"); err != nil {
		return nil, err
	}
	if len(items) > analyticsMaxFilters {
		return nil, badField("filters", "at most %d filters, got %d", analyticsMaxFilters, len(items))
	}
	out := make([]AnalyticsFilter, len(items))
	for i, item := range items {
		f, err := filter(fmt.Sprintf("filters[%d]", i), item)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

func filter(at string, item map[string]json.RawMessage) (AnalyticsFilter, error) {
	var f AnalyticsFilter
	if item == nil {
		return f, badField(at, "must be an object {field, operator, value}")
	}
	for k := range item {
		if !slices.Contains([]string{"field", "operator", "value", "include_unset"}, k) {
			return f, echo.NewHTTPError(http.StatusBadRequest, "unknown field "+at+"."+k)
		}
	}
	for _, k := range []string{"field", "operator", "value"} {
		if _, ok := item[k]; !ok {
			return f, badField(at+"."+k, "is required")
		}
	}
	if err := orField(at+".field", item["field"], &f.Field, "a string, a dimension name"); err != nil {
		return f, err
	}
	if dimensionIndex(f.Field) < 0 {
		if _, ok := metricNamed(f.Field); ok {
			return f, badField(at+".field", "%s is a metric: filters take a dimension (model, provider, endpoint or api_key_id)", f.Field)
		}
		return f, badField(at+".field", "unknown dimension %s: GET /api/v1/analytics/meta lists them", domain.Quote(f.Field))
	}
	if err := orField(at+".operator", item["operator"], &f.Op, "a string, an operator"); err != nil {
		return f, err
	}
	i := slices.IndexFunc(analyticsOperators, func(o struct{ name, valueType string }) bool { return o.name == f.Op })
	if i < 0 {
		return f, badField(at+".operator", "unknown operator %s: one of eq, neq, in, not_in, gt, gte, lt, lte", domain.Quote(f.Op))
	}
	var err error
	if f.Values, err = filterValues(at+".value", f, item["value"], analyticsOperators[i].valueType == "array"); err != nil {
		return f, err
	}
	if raw, ok := item["include_unset"]; ok {
		var unset bool
		if err := orField(at+".include_unset", raw, &unset, "true or false"); err != nil {
			return f, err
		}
		if unset {
			// Every request names its model, upstream and key.
			return f, badField(at+".include_unset", "Dimension %q has no unset bucket", f.Field)
		}
	}
	return f, nil
}

func filterValues(at string, f AnalyticsFilter, raw json.RawMessage, list bool) ([]string, error) {
	kind := rawKind(raw)
	if !list {
		if kind != "string" {
			if kind == "array" {
				return nil, badField(at, "%s takes one value, got an array (in and not_in take a list)", f.Op)
			}
			return nil, badField(at, "%s values are strings, got %s", f.Field, kind)
		}
		var v string
		err := orField(at, raw, &v, "a string")
		return []string{v}, err
	}
	if kind != "array" {
		return nil, badField(at, "%s takes an array of values, got %s", f.Op, kind)
	}
	var items []json.RawMessage
	if err := orField(at, raw, &items, "an array of strings"); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, badField(at, "%s takes at least one value", f.Op)
	}
	out := make([]string, len(items))
	for i, item := range items {
		if k := rawKind(item); k != "string" {
			return nil, badField(fmt.Sprintf("%s[%d]", at, i), "%s values are strings, got %s", f.Field, k)
		}
		if err := orField(fmt.Sprintf("%s[%d]", at, i), item, &out[i], "a string"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// orderBy reads {field, direction}: a metric of the query (request_count
// even when not asked for), a dimension of the query, or date (date__day,
// …) when it has a granularity.
func (q *AnalyticsQuery) orderBy(raw json.RawMessage) error {
	var o map[string]json.RawMessage
	if err := orField("order_by", raw, &o, "an object {field, direction}"); err != nil {
		return err
	}
	for k := range o {
		if k != "field" && k != "direction" {
			return echo.NewHTTPError(http.StatusBadRequest, "unknown field order_by."+k)
		}
	}
	var field, dir string
	if _, ok := o["field"]; !ok {
		return badField("order_by.field", "is required")
	}
	if err := orField("order_by.field", o["field"], &field, "a string"); err != nil {
		return err
	}
	if _, ok := o["direction"]; !ok {
		return badField("order_by.direction", "is required: asc or desc")
	}
	if err := orField("order_by.direction", o["direction"], &dir, "asc or desc"); err != nil {
		return err
	}
	if dir != "asc" && dir != "desc" {
		return badField("order_by.direction", "must be asc or desc, got %s", domain.Quote(dir))
	}
	switch {
	case field == "request_count" || slices.Contains(q.Metrics, field) || slices.Contains(q.Dimensions, field):
	case field == "date" || strings.HasPrefix(field, "date__"):
		if q.Granularity == "" || field != "date" && field != "date__"+q.Granularity {
			return badField("order_by.field", "%s orders by the time bucket: the query's granularity must be set and match (date or date__%s)", field, or(q.Granularity, "day"))
		}
		field = "date"
	default:
		return badField("order_by.field", "%s is neither a metric nor a dimension of the query, request_count nor date", domain.Quote(field))
	}
	q.OrderBy, q.Asc = field, dir == "asc"
	return nil
}

func or(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}

// rowCount reads limit or group_limit: a whole number from 1 to 10,000.
func rowCount(field string, raw json.RawMessage) (int, error) {
	want := fmt.Sprintf("a whole number from 1 to %d", analyticsMaxLimit)
	if rawKind(raw) != "number" {
		return 0, badField(field, "must be %s, got %s", want, rawKind(raw))
	}
	var n int
	if err := orField(field, raw, &n, want); err != nil {
		return 0, err
	}
	if n < 1 || n > analyticsMaxLimit {
		return 0, badField(field, "must be %s, got %d", want, n)
	}
	return n, nil
}
