package console

import (
	"sort"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// usageIndex is the part of the console's read model behind the staff
// dashboard's days: every account's usage and top-ups per Taipei day, a
// few entries a day whatever the number of accounts, keys and apps. The
// usage of one account by key and by app is in SQL (projections.KeyUsage).
// Days are Taipei days of the request's start, as in the SQL models. It is
// only touched under Views.mu.
type usageIndex struct {
	days   map[string]*Tally      // every account, per Taipei day
	topUps map[string]*TopUpTally // every account, per Taipei day
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
	return &usageIndex{days: map[string]*Tally{}, topUps: map[string]*TopUpTally{}}
}

func (x *usageIndex) apply(e *projections.Event) {
	switch b := e.Body.(type) {
	case *domain.RequestCompleted:
		tally(x.days, requestDay(e, b), b.Usage.Total(), b.Cost)
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
