package kurrent

import (
	"context"
	"testing"

	"github.com/routefree/routefree/eventstore"
)

// TestLastPositionPassesOverOtherStores: the last event of a namespace is
// found by reading $all backwards over other stores' later events, page by
// page, and an empty store stops at its floor.
func TestLastPositionPassesOverOtherStores(t *testing.T) {
	defer func(p uint64) { headPage = p }(headPage)
	headPage = 3 // several pages of other stores' events

	f := startFake(t)
	a := openOn(t, f, Options{Namespace: "a-"})
	b := openOn(t, f, Options{Namespace: "b-"})
	ctx := context.Background()
	last := func(s *Store) eventstore.Position {
		t.Helper()
		evs, err := s.ReadAll(ctx, eventstore.Start, 0)
		if err != nil || len(evs) == 0 {
			t.Fatalf("ReadAll: %d events, %v", len(evs), err)
		}
		return evs[len(evs)-1].Position
	}
	if p, err := a.LastPosition(ctx); err != nil || p != eventstore.Start {
		t.Fatalf("LastPosition of an empty store = %v, %v; want Start", p, err)
	}

	mustAppend(t, a, "s", eventstore.Any(), ev("E"), ev("E"))
	for range 10 {
		mustAppend(t, b, "s", eventstore.Any(), ev("E"))
	}
	for _, s := range []*Store{a, b, openOn(t, f, Options{Namespace: "a-"})} {
		want := last(s)
		if p, err := s.LastPosition(ctx); err != nil || p != want {
			t.Fatalf("LastPosition of %q = %v, %v; want %v", s.opts.Namespace, p, err, want)
		}
		if p, err := eventstore.Head(ctx, s, eventstore.Start, 0); err != nil || p != want {
			t.Fatalf("Head of %q = %v, %v; want %v", s.opts.Namespace, p, err, want)
		}
	}

	// A store opened empty after all that stops at its floor at once.
	c := openOn(t, f, Options{Namespace: "c-"})
	if p, err := c.LastPosition(ctx); err != nil || p != eventstore.Start {
		t.Fatalf("LastPosition of a new empty store = %v, %v; want Start", p, err)
	}
	mustAppend(t, c, "s", eventstore.Any(), ev("E"))
	if p, err := c.LastPosition(ctx); err != nil || p != last(c) {
		t.Fatalf("LastPosition after its first append = %v, %v; want %v", p, err, last(c))
	}
}
