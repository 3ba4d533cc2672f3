package commands

import (
	"context"
	"testing"

	"github.com/routefree/routefree/domain"
)

// Two operators amending the price list at the same moment from two
// processes (one model each) both have their prices published: the one
// whose list was read before the other's landed is built again on it,
// rather than refused with "wrong expected version", and neither undoes
// the other's price.
func TestConcurrentPriceAmendmentsAreBothKept(t *testing.T) {
	ctx := context.Background()
	h := newHandler(t)
	if _, err := h.PublishPriceList(ctx, PriceList{Prices: map[string]domain.ModelPrice{"a/one": price("1", "2"), "a/two": price("3", "4")}}); err != nil {
		t.Fatal(err)
	}
	other := &Handler{Store: h.Store, Now: h.Now} // another process on the store
	racing := &racingStore{Store: h.Store, stream: domain.PriceListStream, other: func() {
		if _, err := other.PublishPriceList(ctx, PriceList{Prices: map[string]domain.ModelPrice{"a/two": price("30", "40")}}); err != nil {
			t.Error(err)
		}
	}}
	first := &Handler{Store: racing, Now: h.Now}
	p, err := first.PublishPriceList(ctx, PriceList{Prices: map[string]domain.ModelPrice{"a/one": price("10", "20")}})
	if err != nil {
		t.Fatalf("an amendment beside another process's: %v", err)
	}
	if p.Version != 3 {
		t.Fatalf("published as v%d, want v3 after the other's v2", p.Version)
	}
	evs := all(t, h)
	ev, err := domain.Decode(evs[len(evs)-1].Type, evs[len(evs)-1].SchemaVersion, evs[len(evs)-1].Data)
	if err != nil {
		t.Fatal(err)
	}
	last := ev.(*domain.PriceListPublished)
	if !last.Prices["a/one"].Input.Equal(dec("10")) || !last.Prices["a/two"].Input.Equal(dec("30")) {
		t.Fatalf("list in force: a/one %s, a/two %s; want 10 and the other's 30", last.Prices["a/one"].Input, last.Prices["a/two"].Input)
	}
}
