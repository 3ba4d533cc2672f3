package console

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// rankWindows are the public rankings' windows, in Taipei days ending
// today; the first is the default.
var rankWindows = []int{7, 30}

// rankKeep is how many days of usage the rankings keep: the longest window
// and a few days' slack for late events.
const rankKeep = 35

// rankings is the rankings' part of Views: tokens by day per account and
// app, and per model, so that any window can be summed; and which accounts'
// owners let their apps be listed. Views' lock guards it.
type rankings struct {
	listed  map[string]bool
	apps    map[string]map[string]map[int64]*Tally // account → app → Taipei day → tally
	models  map[string]map[int64]*Tally            // model → day → tally
	newest  int64                                  // the newest day seen
	trimmed int64                                  // the newest day when old days were last dropped
}

func newRankings() *rankings {
	return &rankings{listed: map[string]bool{}, apps: map[string]map[string]map[int64]*Tally{}, models: map[string]map[int64]*Tally{}}
}

// dayOf is the start of t's Taipei day, in Unix seconds.
func dayOf(t time.Time) int64 {
	t = t.In(projections.Taipei)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, projections.Taipei).Unix()
}

func (r *rankings) apply(e *projections.Event) {
	switch b := e.Body.(type) {
	case *domain.RankingsListed:
		r.listed[b.AccountID] = b.Listed
	case *domain.RequestCompleted:
		at := b.StartedAt
		if at.IsZero() {
			at = e.OccurredAt
		}
		day := dayOf(at)
		if day > r.newest {
			r.newest = day
		}
		if day < r.newest-rankKeep*86400 {
			return // too old for any window
		}
		tokens := b.Usage.Total()
		if b.AppTitle != "" {
			byApp := r.apps[b.AccountID]
			if byApp == nil {
				byApp = map[string]map[int64]*Tally{}
				r.apps[b.AccountID] = byApp
			}
			byDay := byApp[b.AppTitle]
			if byDay == nil {
				byDay = map[int64]*Tally{}
				byApp[b.AppTitle] = byDay
			}
			addDay(byDay, day, b.AppTitle, tokens, b.Cost)
		}
		byDay := r.models[b.Model]
		if byDay == nil {
			byDay = map[int64]*Tally{}
			r.models[b.Model] = byDay
		}
		addDay(byDay, day, b.Model, tokens, b.Cost)
		r.trim()
	}
}

// addDay adds one request to a day's tally.
func addDay(byDay map[int64]*Tally, day int64, name string, tokens int64, cost decimal.Decimal) {
	t := byDay[day]
	if t == nil {
		t = &Tally{Name: name}
		byDay[day] = t
	}
	t.Requests++
	t.Tokens += tokens
	t.Cost = t.Cost.Add(cost)
}

// trim drops days no window reaches, once per new day.
func (r *rankings) trim() {
	if r.newest == r.trimmed {
		return
	}
	r.trimmed = r.newest
	cut := r.newest - rankKeep*86400
	for _, byApp := range r.apps {
		for _, byDay := range byApp {
			for d := range byDay {
				if d < cut {
					delete(byDay, d)
				}
			}
		}
	}
	for _, byDay := range r.models {
		for d := range byDay {
			if d < cut {
				delete(byDay, d)
			}
		}
	}
}

// window sums days [from, to] (Unix day starts) of byDay into out.
func window(out map[string]*Tally, byDay map[int64]*Tally, from, to int64) {
	for d, t := range byDay {
		if d < from || d > to {
			continue
		}
		o := out[t.Name]
		if o == nil {
			o = &Tally{Name: t.Name}
			out[t.Name] = o
		}
		o.Requests += t.Requests
		o.Tokens += t.Tokens
		o.Cost = o.Cost.Add(t.Cost)
	}
}

// RankedApps ranks by tokens the apps of accounts whose owners listed them,
// over the days from..to (Taipei days, inclusive). The same title used by
// two listed accounts counts as one app.
func (v *Views) RankedApps(from, to time.Time, limit int) []Tally {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := map[string]*Tally{}
	for acct, byApp := range v.ranks.apps {
		if !v.ranks.listed[acct] {
			continue
		}
		for _, byDay := range byApp {
			window(out, byDay, dayOf(from), dayOf(to))
		}
	}
	return sortedTallies(out, limit)
}

// RankedModels ranks models by tokens over the days from..to.
func (v *Views) RankedModels(from, to time.Time, limit int) []Tally {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := map[string]*Tally{}
	for _, byDay := range v.ranks.models {
		window(out, byDay, dayOf(from), dayOf(to))
	}
	return sortedTallies(out, limit)
}

// RankingsListed reports whether an account's owner lets the rankings show
// its apps.
func (v *Views) RankingsListed(account string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.ranks.listed[account]
}

// rankingsPage shows the top apps of listed accounts and the top models
// over a stated window: the last 7 days unless ?days=30.
func (s *server) rankingsPage(c echo.Context) error {
	days := rankWindows[0]
	for _, w := range rankWindows {
		if c.QueryParam("days") == strconv.Itoa(w) {
			days = w
		}
	}
	to := s.deps.now().In(projections.Taipei)
	from := to.AddDate(0, 0, -(days - 1))
	data := map[string]any{"Apps": s.deps.Views.RankedApps(from, to, 20), "Models": s.deps.Views.RankedModels(from, to, 20),
		"Days": days, "Windows": rankWindows, "From": from.Format("2006-01-02"), "To": to.Format("2006-01-02")}
	return s.render(c, http.StatusOK, "rankings", s.newPage(c, "title.rankings", data))
}
