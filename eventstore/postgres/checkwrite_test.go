package postgres

import (
	"testing"

	"github.com/routefree/routefree/eventstore"
)

// A write check appends nothing, takes no position, and leaves the chain
// where it was: the next append continues it as if no check had run.
func TestCheckWriteAppendsNothing(t *testing.T) {
	s, _ := openFresh(t, Options{})
	ctx := testCtx(t)
	first, err := s.Append(ctx, "s", eventstore.NoStream(), ev("t"))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.CheckWrite(ctx); err != nil {
			t.Fatal(err)
		}
	}
	second, err := s.Append(ctx, "s", eventstore.Exact(0), ev("t"))
	if err != nil {
		t.Fatal(err)
	}
	if second.Position.Prepare != first.Position.Prepare+1 {
		t.Fatalf("positions %d then %d: a check took a position", first.Position.Prepare, second.Position.Prepare)
	}
	if evs := readEverything(t, s); len(evs) != 2 {
		t.Fatalf("%d events after two appends and three checks", len(evs))
	}
	if res, err := eventstore.Verify(ctx, s, nil); err != nil || res.Break != nil || res.Events != 2 {
		t.Fatalf("chain after checks: %+v %v", res, err)
	}
}
