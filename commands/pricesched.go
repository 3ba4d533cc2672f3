package commands

import (
	"maps"
	"slices"
	"time"

	"github.com/routefree/routefree/domain"
)

// Every price list holds the whole list, built from the list in force at
// its effective time when it was published. A list scheduled for later
// was therefore built without a change published after it that takes
// effect before it: on its day the change would silently undo itself.
// carryForward publishes such a scheduled list again, at its own
// effective time, with the change applied to the models it did not set
// itself. A later list that sets a model ends the change's reach for that
// model; a replacing list sets every model and ends it for all.

// Carried names a scheduled list that a publication reached.
type Carried struct {
	Version     int // the new version, at the scheduled list's effective time
	Carries     int // the scheduled list's version
	EffectiveAt time.Time
}

// carryForward returns the lists to publish after the new list pl (whose
// given prices are given), reaching the lists scheduled after it. lists
// are the published lists in version order; versions continue from
// pl.Version.
func carryForward(lists []*domain.PriceListPublished, pl *domain.PriceListPublished, given map[string]domain.ModelPrice) []*domain.PriceListPublished {
	var out []*domain.PriceListPublished
	ended := map[string]bool{} // models a later list has set, in effective order
	version := pl.Version
	for _, l := range scheduledAfter(lists, pl.EffectiveAt) {
		if l.Replace {
			break
		}
		set := setBy(lists, l)
		prices := maps.Clone(l.Prices)
		for m, p := range given {
			if !set[m] && !ended[m] {
				prices[m] = p
			}
		}
		if pl.Replace { // what the replacement dropped, the later list drops too
			for m := range l.Prices {
				if _, kept := given[m]; !kept && !set[m] && !ended[m] {
					delete(prices, m)
				}
			}
		}
		for m := range set {
			ended[m] = true
		}
		if maps.EqualFunc(prices, l.Prices, samePrice) {
			continue
		}
		version++
		out = append(out, &domain.PriceListPublished{Version: version, EffectiveAt: l.EffectiveAt, Prices: prices,
			Set: slices.Sorted(maps.Keys(set)), Carries: l.Version})
	}
	return out
}

// scheduledAfter returns, for each effective time after t, the list that
// will be in force then (the latest publication at that time), earliest
// first.
func scheduledAfter(lists []*domain.PriceListPublished, t time.Time) []*domain.PriceListPublished {
	head := map[time.Time]*domain.PriceListPublished{}
	for _, l := range lists {
		if at := l.EffectiveAt.UTC(); at.After(t) {
			head[at] = l // a later publication at the same time wins
		}
	}
	out := slices.Collect(maps.Values(head))
	slices.SortFunc(out, func(a, b *domain.PriceListPublished) int { return a.EffectiveAt.Compare(b.EffectiveAt) })
	return out
}

// setBy returns the models list l priced itself. Lists that do not record
// it are compared with the list they were built from: what differs from
// it, or is absent from one of the two, was set.
func setBy(lists []*domain.PriceListPublished, l *domain.PriceListPublished) map[string]bool {
	set := map[string]bool{}
	if l.Set != nil {
		for _, m := range l.Set {
			set[m] = true
		}
		return set
	}
	base := map[string]domain.ModelPrice{}
	if b := inForceBefore(lists, l); b != nil {
		base = b.Prices
	}
	for m, p := range l.Prices {
		if bp, ok := base[m]; !ok || !samePrice(p, bp) {
			set[m] = true
		}
	}
	for m := range base {
		if _, ok := l.Prices[m]; !ok {
			set[m] = true
		}
	}
	return set
}

// inForceBefore returns the list in force at l's effective time when l
// was published: among the lists published before it, the latest
// effective at or before that time, the later publication on a tie.
func inForceBefore(lists []*domain.PriceListPublished, l *domain.PriceListPublished) *domain.PriceListPublished {
	var base *domain.PriceListPublished
	for _, b := range lists {
		if b.Version >= l.Version {
			break
		}
		if !b.EffectiveAt.After(l.EffectiveAt) && (base == nil || !b.EffectiveAt.Before(base.EffectiveAt)) {
			base = b
		}
	}
	return base
}

func samePrice(a, b domain.ModelPrice) bool {
	return a.Input.Equal(b.Input) && a.Output.Equal(b.Output) && a.CachedInput.Equal(b.CachedInput) && a.Reasoning.Equal(b.Reasoning) &&
		(a.CacheWrite == nil) == (b.CacheWrite == nil) && a.CacheWritePrice().Equal(b.CacheWritePrice()) &&
		(a.CacheWrite1h == nil) == (b.CacheWrite1h == nil) && a.CacheWrite1hPrice().Equal(b.CacheWrite1hPrice())
}
