package console

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// rankWindows are the public rankings' windows, in Taipei days ending
// today; the first is the default.
var rankWindows = []int{7, 30}

// rankKeep is how many days of usage by model the rankings keep: the
// longest window and a few days' slack for late events.
const rankKeep = 35

// rankings is the rankings' part of Views: which accounts' owners let their
// apps be listed, and tokens by Taipei day per model, so that any window
// can be summed. Apps by day come from the SQL key usage model
// (rankedApps). Views' lock guards it.
type rankings struct {
	listed map[string]bool
	// listedGen counts the owners' changes to listed, so that a cached
	// ranking of apps is dropped at once when one opts out (or in).
	listedGen uint64
	models    map[string]map[string]*Tally // Taipei day → model → tally
	// now is the clock the windows follow; cut is the first day kept, by
	// it: rankKeep days before its today. A request recorded on a later
	// day (another instance's clock ahead) moves nothing.
	now func() time.Time
	cut string
}

func newRankings() *rankings {
	return &rankings{listed: map[string]bool{}, models: map[string]map[string]*Tally{}, now: time.Now}
}

func (r *rankings) apply(e *projections.Event) {
	switch b := e.Body.(type) {
	case *domain.RankingsListed:
		r.listed[b.AccountID] = b.Listed
		r.listedGen++
	case *domain.RequestCompleted:
		day := requestDay(e, b)
		if day < r.cut {
			return // no window reaches it
		}
		byModel, ok := r.models[day]
		if !ok {
			byModel = map[string]*Tally{}
			r.models[day] = byModel
		}
		tally(byModel, b.Model, b.Usage.Total(), b.Cost)
	}
}

// trim drops the days no window reaches by the clock, once per day of it.
func (r *rankings) trim() {
	cut := r.now().In(projections.Taipei).AddDate(0, 0, -rankKeep).Format("2006-01-02")
	if cut == r.cut {
		return
	}
	r.cut = cut
	for d := range r.models {
		if d < cut {
			delete(r.models, d)
		}
	}
}

// rankedApps ranks by tokens the titled apps of accounts whose owners
// listed them, over the given Taipei days, from the SQL key usage model:
// an owner who opts in lists the apps of the whole window. The same title
// used by two listed accounts counts as one app.
//
// The page is public and each ranking reads (and first writes out) the key
// usage of every listed account, so a ranking is kept for rankCacheFor per
// window: a flood of views reads the model once a minute. An owner's
// change to the listing drops it at once.
func (s *server) rankedApps(ctx context.Context, days []string, limit int) ([]Tally, error) {
	out := map[string]*Tally{}
	if s.deps.Models.KeyUsage == nil || len(days) == 0 {
		return sortedTallies(out, limit), nil
	}
	listed, gen := s.deps.Views.listedAccounts()
	key := fmt.Sprint(days[0], "/", days[len(days)-1], "/", limit, "/", gen)
	now := s.deps.now()
	if apps, ok := s.ranked.get(key, now); ok {
		return apps, nil
	}
	for _, acct := range listed {
		err := s.deps.Models.KeyUsage.Each(ctx, acct, days[0], days[len(days)-1], func(r *projections.KeyUsageRow) {
			// A title recorded before the gateway recorded titles as
			// they read ranks as the app it reads as.
			app := domain.AppTitle(r.App, domain.MaxAppTitle)
			if app == "" { // an unnamed app is no app to rank
				return
			}
			merge(out, app, Tally{Requests: r.Requests, Tokens: r.TokensIn + r.TokensOut, Cost: r.Cost})
		})
		if err != nil {
			return nil, err
		}
	}
	apps := sortedTallies(out, limit)
	s.ranked.put(key, now, apps)
	return apps, nil
}

// rankCacheFor is how long a ranking of apps is shown before it is read
// again.
const rankCacheFor = time.Minute

// rankCache is the apps ranking last read, by window and listing.
type rankCache struct {
	mu   sync.Mutex
	key  string
	at   time.Time
	apps []Tally
}

func (c *rankCache) get(key string, now time.Time) ([]Tally, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key != key || now.Sub(c.at) >= rankCacheFor || now.Before(c.at) {
		return nil, false
	}
	return c.apps, true
}

func (c *rankCache) put(key string, now time.Time, apps []Tally) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.key, c.at, c.apps = key, now, apps
}

// listedAccounts are the accounts whose owners list their apps in the
// rankings, sorted, and the count of changes to the listing.
func (v *Views) listedAccounts() ([]string, uint64) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []string
	for acct, listed := range v.ranks.listed {
		if listed {
			out = append(out, acct)
		}
	}
	slices.Sort(out)
	return out, v.ranks.listedGen
}

// RankedModels ranks models by tokens over the given Taipei days.
func (v *Views) RankedModels(days []string, limit int) []Tally {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := map[string]*Tally{}
	for _, day := range days {
		for name, t := range v.ranks.models[day] {
			merge(out, name, *t)
		}
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
	from, last, window, err := s.usageRange(to.AddDate(0, 0, -(days-1)).Format("2006-01-02"), to.Format("2006-01-02"))
	if err != nil {
		return err
	}
	apps, err := s.rankedApps(c.Request().Context(), window, 20)
	if err != nil {
		return err
	}
	data := map[string]any{"Apps": apps, "Models": s.deps.Views.RankedModels(window, 20),
		"Days": days, "Windows": rankWindows, "From": from, "To": last}
	return s.render(c, http.StatusOK, "rankings", s.newPage(c, "title.rankings", data))
}
