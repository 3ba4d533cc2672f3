package console

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

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

func (s *server) usage(ctx context.Context, account, from, to string) (UsageReport, error) {
	from, to, days, err := s.usageRange(from, to)
	if err != nil {
		return UsageReport{}, err
	}
	r := UsageReport{From: from, To: to, Total: Tally{Name: "total"}}
	keys, apps := s.deps.Views.UsageByKeyAndApp(account, days)
	r.Apps = apps
	names := map[string]projections.KeyInfo{}
	for _, k := range s.deps.Models.Keys.ByAccount(account) {
		names[k.KeyID] = k
	}
	for _, k := range keys {
		info := names[k.Name]
		r.Keys = append(r.Keys, KeyUsage{KeyID: k.Name, Name: info.Name, Prefix: info.Prefix, Requests: k.Requests, Tokens: k.Tokens, Cost: k.Cost})
	}
	byDay := map[string]*DayUsage{}
	r.Days = make([]DayUsage, len(days))
	for i, d := range days {
		r.Days[i].Day = d
		byDay[d] = &r.Days[i]
	}
	if s.deps.Models.Usage == nil {
		return r, nil
	}
	rows, err := s.deps.Models.Usage.DailyByAccount(ctx, account, from, to)
	if err != nil {
		return r, err
	}
	for _, row := range rows {
		d := byDay[row.Period]
		d.Requests += row.Requests
		d.Tokens += row.TokensIn + row.TokensOut
		d.Cost = d.Cost.Add(row.Cost)
		r.Total.Requests += row.Requests
		r.Total.Tokens += row.TokensIn + row.TokensOut
		r.Total.Cost = r.Total.Cost.Add(row.Cost)
	}
	models, err := s.deps.Models.Usage.ByModel(ctx, account, from, to)
	if err != nil {
		return r, err
	}
	for _, m := range models {
		r.Models = append(r.Models, ModelUsage{Model: m.Model, Requests: m.Requests, TokensIn: m.TokensIn,
			TokensOut: m.TokensOut, Tokens: m.TokensIn + m.TokensOut, Cost: m.Cost})
	}
	return r, nil
}

func (s *server) apiUsage(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	r, err := s.usage(c.Request().Context(), a.ID, c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": r})
}
