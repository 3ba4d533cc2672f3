package console

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

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

// activity is an account's activity on the completed UTC days of the
// window before today (or on one of them, day), of the keys keep takes
// (all when nil), a row per day, model and upstream, newest day first:
// the SQL activity model's rows of each key, summed.
func (s *server) activity(ctx context.Context, account, day string, keep func(key string) bool, now time.Time) ([]ActivityRow, error) {
	out := []ActivityRow{}
	if s.deps.Models.Activity == nil {
		return out, nil
	}
	from, to := projections.ActivityWindow(now)
	if day != "" {
		from, to = day, day
	}
	rows, err := s.deps.Models.Activity.Rows(ctx, account, from, to)
	if err != nil {
		return nil, err
	}
	type rowKey struct{ day, model, provider, upstream string }
	sums := map[rowKey]int{} // index in out
	costs := []decimal.Decimal{}
	for _, r := range rows { // newest day first, then model and upstream
		if keep != nil && !keep(r.KeyID) {
			continue
		}
		k := rowKey{r.Day, r.Model, r.Provider, r.Upstream}
		i, ok := sums[k]
		if !ok {
			endpoint := r.Provider + "/" + r.Upstream
			if r.Provider == "" {
				endpoint = r.Model
			}
			i = len(out)
			sums[k] = i
			out = append(out, ActivityRow{Date: r.Day, Model: r.Model, ModelPermaslug: r.Model, EndpointID: endpoint, ProviderName: r.Provider})
			costs = append(costs, decimal.Zero)
		}
		o := &out[i]
		o.Requests += r.Requests
		o.PromptTokens += r.TokensIn
		o.CompletionTokens += r.TokensOut
		o.ReasoningTokens += r.TokensReasoning
		costs[i] = costs[i].Add(r.Cost)
	}
	for i := range out {
		out[i].Usage = costs[i].InexactFloat64()
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Date != b.Date {
			return a.Date > b.Date
		}
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		return a.EndpointID < b.EndpointID
	})
	return out, nil
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
		from, to := projections.ActivityWindow(now)
		if _, err := time.Parse(time.DateOnly, day); err != nil || day < from || day > to {
			return echo.NewHTTPError(http.StatusBadRequest, "date must be one of the last 30 completed UTC days, as YYYY-MM-DD")
		}
	}
	keep, err := s.activityKeys(p, c.QueryParam("api_key_hash"))
	if err != nil {
		return err
	}
	rows, err := s.activity(c.Request().Context(), p.AccountID, day, keep, now)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": rows})
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
