package commands

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// inForce is the list the gateway bills by at t: the latest effective at
// or before t, the later publication on a tie (projections.Prices.At).
func inForce(t *testing.T, h *Handler, at time.Time) map[string]domain.ModelPrice {
	t.Helper()
	var in *domain.PriceListPublished
	for _, e := range all(t, h) {
		if e.Type != domain.TypePriceListPublished {
			continue
		}
		ev, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			t.Fatal(err)
		}
		pl := ev.(*domain.PriceListPublished)
		if !pl.EffectiveAt.After(at) && (in == nil || !pl.EffectiveAt.Before(in.EffectiveAt)) {
			in = pl
		}
	}
	if in == nil {
		return nil
	}
	return in.Prices
}

func wantPrices(t *testing.T, when string, got map[string]domain.ModelPrice, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d models priced %v, want %d", when, len(got), got, len(want))
	}
	for m, in := range want {
		if p, ok := got[m]; !ok || !p.Input.Equal(decimal.RequireFromString(in)) {
			t.Errorf("%s: %s input %v (priced %v), want %s", when, m, p.Input, ok, in)
		}
	}
}

// A list scheduled for later was built from the list in force when it was
// published. A change published since, taking effect before it, reaches it
// too: when the scheduled list takes effect, the models it did not price
// itself keep the change rather than going back to their old prices; the
// models it did price keep its prices.
func TestAChangeReachesTheListsScheduledAfterIt(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	next := t0.Add(24 * time.Hour)
	pub := func(l PriceList) Published {
		t.Helper()
		p, err := h.PublishPriceList(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pub(PriceList{Prices: map[string]domain.ModelPrice{"a/one": price("1", "2"), "a/two": price("1", "2"), "a/three": price("1", "2")}})
	pub(PriceList{Prices: map[string]domain.ModelPrice{"a/two": price("20", "40")}, EffectiveAt: next}) // tomorrow's increase

	// Today's correction of a/one, and a change of a/two that tomorrow's
	// list sets again.
	p := pub(PriceList{Prices: map[string]domain.ModelPrice{"a/one": price("5", "10"), "a/two": price("2", "4")}})
	wantPrices(t, "today", inForce(t, h, t0), map[string]string{"a/one": "5", "a/two": "2", "a/three": "1"})
	wantPrices(t, "tomorrow", inForce(t, h, next), map[string]string{"a/one": "5", "a/two": "20", "a/three": "1"})
	if len(p.Carried) != 1 || !p.Carried[0].EffectiveAt.Equal(next) {
		t.Errorf("the publication names the scheduled lists it reached: %+v", p.Carried)
	}

	// A replacement today drops a/three from tomorrow's list as well, which
	// inherited it; tomorrow's own a/two stays.
	pub(PriceList{Prices: map[string]domain.ModelPrice{"a/one": price("6", "12"), "a/two": price("3", "6")}, Replace: true})
	wantPrices(t, "today, replaced", inForce(t, h, t0), map[string]string{"a/one": "6", "a/two": "3"})
	wantPrices(t, "tomorrow, after today's replacement", inForce(t, h, next), map[string]string{"a/one": "6", "a/two": "20"})

	// A change after tomorrow's list leaves it alone.
	later := next.Add(24 * time.Hour)
	pub(PriceList{Prices: map[string]domain.ModelPrice{"a/one": price("9", "9")}, EffectiveAt: later})
	wantPrices(t, "tomorrow, after a later change", inForce(t, h, next), map[string]string{"a/one": "6", "a/two": "20"})
	wantPrices(t, "the day after", inForce(t, h, later), map[string]string{"a/one": "9", "a/two": "20"})
}

// A scheduled list published before lists recorded the models they set is
// read by comparing it with the list it was built from.
func TestAChangeReachesAnOlderScheduledList(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	next := t0.Add(24 * time.Hour)
	if _, err := h.PublishPriceList(ctx, PriceList{Prices: map[string]domain.ModelPrice{"a/one": price("1", "2"), "a/two": price("1", "2")}}); err != nil {
		t.Fatal(err)
	}
	old := &domain.PriceListPublished{Version: 2, EffectiveAt: next,
		Prices: map[string]domain.ModelPrice{"a/one": price("1", "2"), "a/two": price("20", "40")}}
	if _, err := h.append(ctx, domain.PriceListStream, expectAfter(0), domain.EventID(domain.TypePriceListPublished, "2"), old); err != nil {
		t.Fatal(err)
	}
	if _, err := h.PublishPriceList(ctx, PriceList{Prices: map[string]domain.ModelPrice{"a/one": price("5", "10"), "a/two": price("2", "4")}}); err != nil {
		t.Fatal(err)
	}
	wantPrices(t, "tomorrow", inForce(t, h, next), map[string]string{"a/one": "5", "a/two": "20"})
}
