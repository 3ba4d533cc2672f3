package projections

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/routefree/routefree/domain"
)

// PriceList is one published price list. Prices is shared: never modify it.
type PriceList struct {
	Version     int
	EffectiveAt time.Time
	Prices      map[string]domain.ModelPrice
}

// Prices keeps every published price list; a request is billed at the list
// in force when it started.
type Prices struct {
	memCheckpoint
	mu    sync.RWMutex
	lists []PriceList // by EffectiveAt; equal instants in publication order
}

var _ Projection = (*Prices)(nil)

// NewPrices returns an empty price model.
func NewPrices() *Prices { return &Prices{} }

// Name implements Projection.
func (p *Prices) Name() string { return "prices" }

// At returns the list in force at t: the latest EffectiveAt ≤ t (the later
// publication when two share an instant).
func (p *Prices) At(t time.Time) (version int, prices map[string]domain.ModelPrice, ok bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	i := sort.Search(len(p.lists), func(i int) bool { return p.lists[i].EffectiveAt.After(t) })
	if i == 0 {
		return 0, nil, false
	}
	l := p.lists[i-1]
	return l.Version, l.Prices, true
}

// Lists returns every published list by EffectiveAt.
func (p *Prices) Lists() []PriceList {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return append([]PriceList(nil), p.lists...)
}

// Apply implements Projection.
func (p *Prices) Apply(_ context.Context, batch []Event) error {
	batch = p.fresh(batch)
	for i := range batch {
		e := &batch[i]
		if e.Err != nil && e.Type == domain.TypePriceListPublished {
			p.done(batch[:i])
			return e.Err
		}
		v, ok := e.Body.(*domain.PriceListPublished)
		if !ok {
			continue
		}
		l := PriceList{Version: v.Version, EffectiveAt: v.EffectiveAt.UTC(), Prices: v.Prices}
		p.mu.Lock()
		at := sort.Search(len(p.lists), func(i int) bool { return p.lists[i].EffectiveAt.After(l.EffectiveAt) })
		p.lists = append(p.lists, PriceList{})
		copy(p.lists[at+1:], p.lists[at:])
		p.lists[at] = l
		p.mu.Unlock()
	}
	p.done(batch)
	return nil
}
