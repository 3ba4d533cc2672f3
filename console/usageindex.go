package console

import (
	"sort"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// usageIndex is the part of the console's read model behind the usage by
// key and by app of any date range, and the staff dashboard's days: the SQL
// usage model keeps account × day × model only. Days are Taipei days of the
// request's start, as in the SQL model, so every breakdown of a range sums
// to the same total. It is only touched under Views.mu.
type usageIndex struct {
	byAcct map[string]map[string]*dayUsage // account → Taipei day
	days   map[string]*Tally               // every account, per Taipei day
	topUps map[string]*TopUpTally          // every account, per Taipei day
}

// dayUsage is one account's usage of one Taipei day, by key and by app
// title ("" for requests that sent none).
type dayUsage struct {
	keys map[string]*Tally
	apps map[string]*Tally
}

// TopUpTally is the top-ups of one Taipei day or month, every account
// together.
type TopUpTally struct {
	Period string // a Taipei day, or a month
	Count  int64
	Amount decimal.Decimal
}

// requestDay is the Taipei day a request counts on: the day it started, as
// the SQL usage model has it.
func requestDay(e *projections.Event, b *domain.RequestCompleted) string {
	if b.StartedAt.IsZero() {
		return projections.DayOf(e.OccurredAt)
	}
	return projections.DayOf(b.StartedAt)
}

func newUsageIndex() *usageIndex {
	return &usageIndex{byAcct: map[string]map[string]*dayUsage{}, days: map[string]*Tally{}, topUps: map[string]*TopUpTally{}}
}

func (x *usageIndex) apply(e *projections.Event) {
	switch b := e.Body.(type) {
	case *domain.RequestCompleted:
		day := requestDay(e, b)
		days, ok := x.byAcct[b.AccountID]
		if !ok {
			days = map[string]*dayUsage{}
			x.byAcct[b.AccountID] = days
		}
		d, ok := days[day]
		if !ok {
			d = &dayUsage{keys: map[string]*Tally{}, apps: map[string]*Tally{}}
			days[day] = d
		}
		tokens := b.Usage.Total()
		tally(d.keys, b.KeyID, tokens, b.Cost)
		tally(d.apps, b.AppTitle, tokens, b.Cost)
		tally(x.days, day, tokens, b.Cost)
	case *domain.CreditsToppedUp:
		if b.Method == domain.MethodAdjustment {
			// Credit given, not paid: no money came in and no invoice
			// follows, as the invoicing reconciliation counts it.
			return
		}
		day := projections.DayOf(e.OccurredAt)
		t, ok := x.topUps[day]
		if !ok {
			t = &TopUpTally{Period: day}
			x.topUps[day] = t
		}
		t.Count++
		t.Amount = t.Amount.Add(b.Amount)
	}
}

// sumDays adds up one account's tallies of the given days, by key and by
// app; each list is sorted by cost, highest first.
func (x *usageIndex) sumDays(account string, days []string) (keys, apps []Tally) {
	k, a := map[string]*Tally{}, map[string]*Tally{}
	for _, day := range days {
		d, ok := x.byAcct[account][day]
		if !ok {
			continue
		}
		for name, t := range d.keys {
			merge(k, name, t)
		}
		for name, t := range d.apps {
			merge(a, name, t)
		}
	}
	return byCost(k), byCost(a)
}

func merge(m map[string]*Tally, name string, t *Tally) {
	s, ok := m[name]
	if !ok {
		s = &Tally{Name: name}
		m[name] = s
	}
	s.Requests += t.Requests
	s.Tokens += t.Tokens
	s.Cost = s.Cost.Add(t.Cost)
}

func byCost(m map[string]*Tally) []Tally {
	out := make([]Tally, 0, len(m))
	for _, t := range m {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].Cost.Cmp(out[j].Cost); c != 0 {
			return c > 0
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// UsageByKeyAndApp is an account's usage over the given Taipei days, by key
// and by app title ("" for requests that sent no X-Title).
func (v *Views) UsageByKeyAndApp(account string, days []string) (keys, apps []Tally) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.usage.sumDays(account, days)
}

// DailyUsage is every account's usage on each of the given Taipei days
// (zero on a day without requests).
func (v *Views) DailyUsage(days []string) []Tally {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]Tally, len(days))
	for i, d := range days {
		out[i] = Tally{Name: d}
		if t, ok := v.usage.days[d]; ok {
			out[i] = *t
		}
	}
	return out
}

// TopUpsByMonth is every account's top-ups per Taipei month (YYYY-MM) of
// the given months (zero in a month without any).
func (v *Views) TopUpsByMonth(months []string) []TopUpTally {
	v.mu.RLock()
	defer v.mu.RUnlock()
	at := map[string]int{}
	out := make([]TopUpTally, len(months))
	for i, m := range months {
		out[i].Period = m
		at[m] = i
	}
	for day, t := range v.usage.topUps {
		if i, ok := at[day[:7]]; ok {
			out[i].Count += t.Count
			out[i].Amount = out[i].Amount.Add(t.Amount)
		}
	}
	return out
}
