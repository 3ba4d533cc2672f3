package console

import (
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// activityDays is how many completed UTC days GET /api/v1/activity covers,
// as OpenRouter's does; the index keeps one day more (today).
const activityDays = 30

// activityKey is one row of OpenRouter's activity: a UTC day, a model, the
// upstream that served (its endpoint) and, for the api_key_hash filter,
// the key.
type activityKey struct {
	day, model, provider, upstream, key string
}

// activityTally sums the requests of one activityKey.
type activityTally struct {
	requests, prompt, completion, reasoning int64
	cost                                    decimal.Decimal
}

// activityIndex is every account's activity over the last days: account →
// row. Days older than the window are dropped as newer ones arrive, so
// it stays bounded however long the history.
type activityIndex struct {
	byAcct map[string]map[activityKey]*activityTally
	newest string // the newest UTC day seen
}

func newActivityIndex() *activityIndex {
	return &activityIndex{byAcct: map[string]map[activityKey]*activityTally{}}
}

// utcDay is the UTC day a request counts on in the activity: the day it
// started, as OpenRouter's UTC days.
func utcDay(e *projections.Event, b *domain.RequestCompleted) string {
	t := b.StartedAt
	if t.IsZero() {
		t = e.OccurredAt
	}
	return t.UTC().Format(time.DateOnly)
}

func (x *activityIndex) apply(e *projections.Event) {
	b, ok := e.Body.(*domain.RequestCompleted)
	if !ok {
		return
	}
	day := utcDay(e, b)
	if day > x.newest {
		x.newest = day
		x.prune()
	}
	rows, ok := x.byAcct[b.AccountID]
	if !ok {
		rows = map[activityKey]*activityTally{}
		x.byAcct[b.AccountID] = rows
	}
	k := activityKey{day: day, model: b.Model, provider: b.Provider, upstream: b.Upstream, key: b.KeyID}
	t, ok := rows[k]
	if !ok {
		t = &activityTally{}
		rows[k] = t
	}
	t.add(activityTally{requests: 1, prompt: b.Usage.Input, completion: b.Usage.Output, reasoning: b.Usage.Reasoning, cost: b.Cost})
}

func (t *activityTally) add(o activityTally) {
	t.requests += o.requests
	t.prompt += o.prompt
	t.completion += o.completion
	t.reasoning += o.reasoning
	t.cost = t.cost.Add(o.cost)
}

// prune drops the rows of days before the window that ends at newest.
func (x *activityIndex) prune() {
	newest, err := time.Parse(time.DateOnly, x.newest)
	if err != nil {
		return
	}
	oldest := newest.AddDate(0, 0, -activityDays).Format(time.DateOnly)
	for _, rows := range x.byAcct {
		for k := range rows {
			if k.day < oldest {
				delete(rows, k)
			}
		}
	}
}

// ActivityRow is one row of GET /api/v1/activity, in OpenRouter's field
// names: usage is NTD (OpenRouter: USD); endpoint_id names the upstream
// (provider/upstream model); byok_usage_inference is always 0.
type ActivityRow struct {
	Date               string  `json:"date"`
	Model              string  `json:"model"`
	ModelPermaslug     string  `json:"model_permaslug"`
	EndpointID         string  `json:"endpoint_id"`
	ProviderName       string  `json:"provider_name"`
	Usage              float64 `json:"usage"`
	BYOKUsageInference float64 `json:"byok_usage_inference"`
	Requests           int64   `json:"requests"`
	PromptTokens       int64   `json:"prompt_tokens"`
	CompletionTokens   int64   `json:"completion_tokens"`
	ReasoningTokens    int64   `json:"reasoning_tokens"`
}

// Activity returns an account's activity on the completed UTC days of the
// window before today (or on one of them, day), of the keys keep takes (all
// when nil), a row per day, model and upstream, newest day first.
func (v *Views) Activity(account, day string, keep func(key string) bool, now time.Time) []ActivityRow {
	today := now.UTC().Format(time.DateOnly)
	first := now.UTC().AddDate(0, 0, -activityDays).Format(time.DateOnly)
	type rowKey struct{ day, model, provider, upstream string }
	sums := map[rowKey]*activityTally{}
	v.mu.RLock()
	for k, t := range v.activity.byAcct[account] {
		if k.day >= today || k.day < first || (day != "" && k.day != day) || (keep != nil && !keep(k.key)) {
			continue
		}
		rk := rowKey{k.day, k.model, k.provider, k.upstream}
		s, ok := sums[rk]
		if !ok {
			s = &activityTally{}
			sums[rk] = s
		}
		s.add(*t)
	}
	v.mu.RUnlock()
	out := make([]ActivityRow, 0, len(sums))
	for k, t := range sums {
		endpoint := k.provider + "/" + k.upstream
		if k.provider == "" {
			endpoint = k.model
		}
		out = append(out, ActivityRow{Date: k.day, Model: k.model, ModelPermaslug: k.model, EndpointID: endpoint,
			ProviderName: k.provider, Usage: t.cost.InexactFloat64(), Requests: t.requests,
			PromptTokens: t.prompt, CompletionTokens: t.completion, ReasoningTokens: t.reasoning})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Date != b.Date {
			return a.Date > b.Date
		}
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		return a.EndpointID < b.EndpointID
	})
	return out
}

// orActivity is OpenRouter's GET /api/v1/activity for a management key:
// the account's usage on the last 30 completed UTC days, grouped by day,
// model and upstream; ?date= picks one of those days and ?api_key_hash=
// one key of the account (its key ID, the hash the keys API shows).
func (s *server) orActivity(c echo.Context) error {
	p := principal(c)
	day := c.QueryParam("date")
	now := s.deps.now()
	if day != "" {
		d, err := time.Parse(time.DateOnly, day)
		today := now.UTC().Truncate(24 * time.Hour)
		if err != nil || !d.Before(today) || d.Before(today.AddDate(0, 0, -activityDays)) {
			return echo.NewHTTPError(http.StatusBadRequest, "date must be one of the last 30 completed UTC days, as YYYY-MM-DD")
		}
	}
	keep, err := s.activityKeys(p, c.QueryParam("api_key_hash"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": s.deps.Views.Activity(p.AccountID, day, keep, now)})
}

// activityKeys is which keys' requests the caller reads: the one it names
// (which must be of its account and within its own key's limits, as
// fetching it must), else every key within those limits, as the keys list
// shows; nil, every key, for a caller that may act on all of them.
func (s *server) activityKeys(p auth.Principal, named string) (func(string) bool, error) {
	if named != "" {
		k, ok := s.keyOfAccount(p.AccountID, named)
		if !ok {
			return nil, errNotFound("key")
		}
		if err := apiError(s.withinCallersKey(p, issuedOf(k))); err != nil {
			return nil, err
		}
		return func(key string) bool { return key == named }, nil
	}
	own, bound, err := s.callersLimits(p)
	if err != nil || !bound {
		return nil, apiError(err)
	}
	within := map[string]bool{}
	for _, k := range s.deps.Models.Keys.ByAccount(p.AccountID) {
		within[k.KeyID] = domain.KeyWithin(own, issuedOf(k)) == nil
	}
	return func(key string) bool { return within[key] }, nil
}
