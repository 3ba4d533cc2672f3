package projections

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// ReplayThrough gives the figures of the history through each position it
// is given, in the order given, as a replay of that much history alone
// would: what the auditor's comparison sets beside live read models that
// stood at those positions.
func TestReplayThroughStopsAtEachPosition(t *testing.T) {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	l := newLedger()
	g := &gen{t: t, store: s, l: l, rnd: newRand(7), base: now.AddDate(0, 0, -2)}
	type stage struct {
		at      eventstore.Position
		balance decimal.Decimal
		month   decimal.Decimal
	}
	var stages []stage
	mark := func() {
		stages = append(stages, stage{at: l.last, balance: l.balances["acct"], month: l.monthly[MonthOf(g.base)]})
	}
	g.openAccount("acct", domain.PlanStarter)
	g.topUp("acct", decimal.NewFromInt(1000), "ref-1")
	mark()
	g.request("acct", "req-1", g.base)
	g.request("acct", "req-2", g.base)
	mark()
	g.topUp("acct", decimal.NewFromInt(500), "ref-2")
	g.request("acct", "req-3", g.base)
	mark()

	clock := func() time.Time { return now }
	// Out of order and repeated, as the live models' positions may be.
	order := []int{2, 0, 1, 0}
	stops := make([]eventstore.Position, len(order))
	for i, o := range order {
		stops[i] = stages[o].at
	}
	figs, err := ReplayThrough(context.Background(), s, clock, stops...)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range order {
		want := stages[o]
		if got := figs[i].Balances["acct"]; !got.Equal(want.balance) {
			t.Errorf("through stage %d: balance %s, want %s", o, got, want.balance)
		}
		if got := figs[i].MonthlyTotals[MonthOf(g.base)]; !got.Equal(want.month) {
			t.Errorf("through stage %d: month %s, want %s", o, got, want.month)
		}
	}
	whole, err := ReplayAt(context.Background(), s, nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	if !whole.Balances["acct"].Equal(figs[0].Balances["acct"]) || whole.Events != figs[0].Events {
		t.Fatalf("through the last event: %s in %d events, the whole history %s in %d", figs[0].Balances["acct"], figs[0].Events,
			whole.Balances["acct"], whole.Events)
	}
}
