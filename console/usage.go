package console

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// DayUsage is one Taipei day of an account's usage, every model together.
type DayUsage struct {
	Day      string          `json:"day"`
	Requests int64           `json:"requests"`
	Tokens   int64           `json:"tokens"`
	Cost     decimal.Decimal `json:"cost"`
}

// ModelUsage is an account's usage of one model over the range.
type ModelUsage struct {
	Model     string          `json:"model"`
	Requests  int64           `json:"requests"`
	TokensIn  int64           `json:"tokens_in"`
	TokensOut int64           `json:"tokens_out"`
	Tokens    int64           `json:"tokens"`
	Cost      decimal.Decimal `json:"cost"`
}

// KeyUsage is an account's usage through one of its keys over the range.
type KeyUsage struct {
	KeyID    string          `json:"key_id"`
	Name     string          `json:"name"`
	Prefix   string          `json:"prefix"`
	Requests int64           `json:"requests"`
	Tokens   int64           `json:"tokens"`
	Cost     decimal.Decimal `json:"cost"`
}

// Label names the key as the keys table does: its name and prefix. The
// name is isolated (FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE): a
// chart draws the label as one text, which a bidirectional control in
// the name must not reorder.
func (k KeyUsage) Label() string {
	id := k.Prefix
	if id == "" {
		id = k.KeyID
	}
	return "\u2068" + k.Name + "\u2069 (" + id + ")"
}

// UsageReport is what the usage charts and the usage API show. Days,
// Models, Keys and Apps are four breakdowns of the same requests of the
// range, so each sums to Total. An app is the X-Title (or
// X-OpenRouter-Title) a request sent; requests that sent none count under
// the name "".
type UsageReport struct {
	From   string       `json:"from"`
	To     string       `json:"to"`
	Total  Tally        `json:"total"`
	Days   []DayUsage   `json:"daily"`
	Models []ModelUsage `json:"by_model"`
	Keys   []KeyUsage   `json:"by_key"`
	Apps   []Tally      `json:"by_app"`
}

const maxRangeDays = 92

// usageRange reads from/to (YYYY-MM-DD, Taipei) or defaults to the 30 days
// ending today.
func (s *server) usageRange(from, to string) (string, string, []string, error) {
	today := s.deps.now().In(projections.Taipei)
	parse := func(v string, def time.Time) (time.Time, error) {
		if v == "" {
			return time.Date(def.Year(), def.Month(), def.Day(), 0, 0, 0, 0, projections.Taipei), nil
		}
		return time.ParseInLocation("2006-01-02", v, projections.Taipei)
	}
	t, err := parse(to, today)
	if err != nil {
		return "", "", nil, echo.NewHTTPError(http.StatusBadRequest, "to must be YYYY-MM-DD")
	}
	f, err := parse(from, t.AddDate(0, 0, -29))
	if err != nil {
		return "", "", nil, echo.NewHTTPError(http.StatusBadRequest, "from must be YYYY-MM-DD")
	}
	if t.Before(f) || t.Sub(f) > maxRangeDays*24*time.Hour {
		return "", "", nil, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("the range must run forward and span at most %d days", maxRangeDays))
	}
	var days []string
	for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
		days = append(days, d.Format("2006-01-02"))
	}
	return days[0], days[len(days)-1], days, nil
}

// usage is the report of account's usage over from..to that by reads:
// the requests of every key of the account, or of the keys within the
// limits of a management key that has any (usageKeys). Every figure comes
// from the SQL key usage model's rows, so each breakdown sums to the total.
func (s *server) usage(ctx context.Context, by auth.Principal, account, from, to string) (UsageReport, error) {
	from, to, days, err := s.usageRange(from, to)
	if err != nil {
		return UsageReport{}, err
	}
	r := UsageReport{From: from, To: to, Total: Tally{Name: "total"}}
	byDay := map[string]*DayUsage{}
	r.Days = make([]DayUsage, len(days))
	for i, d := range days {
		r.Days[i].Day = d
		byDay[d] = &r.Days[i]
	}
	keep, err := s.usageKeys(by, account)
	if err != nil {
		return r, err
	}
	models, keys, apps := map[string]*ModelUsage{}, map[string]*Tally{}, map[string]*Tally{}
	if s.deps.Models.KeyUsage != nil {
		err = s.deps.Models.KeyUsage.Each(ctx, account, from, to, func(row *projections.KeyUsageRow) {
			d, ok := byDay[row.Day]
			if !ok || keep != nil && !keep(row.KeyID) {
				return
			}
			tokens := row.TokensIn + row.TokensOut
			d.Requests += row.Requests
			d.Tokens += tokens
			d.Cost = d.Cost.Add(row.Cost)
			r.Total.Requests += row.Requests
			r.Total.Tokens += tokens
			r.Total.Cost = r.Total.Cost.Add(row.Cost)
			m, ok := models[row.Model]
			if !ok {
				m = &ModelUsage{Model: row.Model}
				models[row.Model] = m
			}
			m.Requests += row.Requests
			m.TokensIn += row.TokensIn
			m.TokensOut += row.TokensOut
			m.Tokens += tokens
			m.Cost = m.Cost.Add(row.Cost)
			sum := Tally{Requests: row.Requests, Tokens: tokens, Cost: row.Cost}
			merge(keys, row.KeyID, sum)
			// A title recorded before the gateway recorded titles as
			// they read counts as the app it reads as, as on /rankings.
			merge(apps, domain.AppTitle(row.App, domain.MaxAppTitle), sum)
		})
		if err != nil {
			return r, err
		}
	}
	for _, m := range models {
		r.Models = append(r.Models, *m)
	}
	sort.Slice(r.Models, func(i, j int) bool { return r.Models[i].Model < r.Models[j].Model })
	names := map[string]projections.KeyInfo{}
	for _, k := range s.deps.Models.Keys.ByAccount(account) {
		names[k.KeyID] = k
	}
	for _, k := range byCost(keys) {
		info := names[k.Name]
		r.Keys = append(r.Keys, KeyUsage{KeyID: k.Name, Name: info.Name, Prefix: info.Prefix, Requests: k.Requests, Tokens: k.Tokens, Cost: k.Cost})
	}
	r.Apps = byCost(apps)
	return r, nil
}

// usageKeys is which keys' requests by reads in account's usage: a
// management key with limits those of the keys within them, as it lists
// and reads the activity of those alone; nil, every key, for staff, the
// owner signed in by SSO, an unlimited management key and an inference
// key, which reads its account (keysSeenBy).
func (s *server) usageKeys(by auth.Principal, account string) (func(string) bool, error) {
	own, bound, err := s.callersLimits(by)
	if err != nil || !bound || !own.Management {
		return nil, err
	}
	within := map[string]bool{}
	for _, k := range s.deps.Models.Keys.ByAccount(account) {
		within[k.KeyID] = domain.KeyWithin(own, issuedOf(k)) == nil
	}
	return func(key string) bool { return within[key] }, nil
}

func (s *server) apiUsage(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	r, err := s.usage(c.Request().Context(), principal(c), a.ID, c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": r})
}
