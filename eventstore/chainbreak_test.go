package eventstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
)

// chained is a history of n events, each linked to the one before.
func chained(n int) events {
	var h events
	var prev []byte
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		p := uint64(i + 1)
		e := eventstore.RecordedEvent{
			EventData: eventstore.EventData{ID: uuid.New(), Type: "credits.adjusted", SchemaVersion: 1,
				OccurredAt: at.Add(time.Duration(i) * time.Second), Data: []byte(`{"n":` + string(rune('0'+i)) + `}`)},
			Stream: "adjustments-acct_x", Version: uint64(i), Position: eventstore.Position{Commit: p, Prepare: p}, PrevHash: prev}
		e.Hash = eventstore.ChainHash(prev, &e)
		prev = e.Hash
		h = append(h, e)
	}
	return h
}

// renumber gives h positions 1, 2, … as a store that was edited in place
// reads them back.
func renumber(h events) events {
	for i := range h {
		p := uint64(i + 1)
		h[i].Position = eventstore.Position{Commit: p, Prepare: p}
	}
	return h
}

// A break is named as what it is: the event that was inserted (not its
// successor), the place where events were deleted, two events that swapped
// places, or one whose fields were edited; where every break read "previous
// hash does not match its predecessor" at the event after the edit.
func TestVerifyNamesWhatWasDone(t *testing.T) {
	ctx := context.Background()
	forged := func(h events, after int) eventstore.RecordedEvent {
		e := eventstore.RecordedEvent{EventData: eventstore.EventData{ID: uuid.New(), Type: "credits.adjusted", SchemaVersion: 1,
			OccurredAt: h[after].OccurredAt, Data: []byte(`{"forged":true}`)}, Stream: "adjustments-acct_y", PrevHash: h[after].Hash}
		e.Hash = eventstore.ChainHash(e.PrevHash, &e)
		return e
	}
	for _, c := range []struct {
		name   string
		edit   func(h events) events
		at     uint64 // the position named
		good   uint64 // events verified before it
		stream string
		says   string
	}{
		{"inserted", func(h events) events {
			return renumber(append(append(append(events{}, h[:3]...), forged(h, 2)), h[3:]...))
		}, 4, 3, "adjustments-acct_y", "inserted"},
		{"deleted", func(h events) events { return append(append(events{}, h[:2]...), h[3:]...) }, 4, 2, "adjustments-acct_x", "deleted or moved"},
		{"swapped", func(h events) events {
			h[2], h[3] = h[3], h[2]
			return renumber(h)
		}, 3, 2, "adjustments-acct_x", "events at positions 3/3 and 4/4 are out of order"},
		{"first two swapped", func(h events) events {
			h[0], h[1] = h[1], h[0]
			return renumber(h)
		}, 1, 0, "adjustments-acct_x", "events at positions 1/1 and 2/2 are out of order"},
		{"deleted, then the next two swapped", func(h events) events {
			h = append(append(events{}, h[:2]...), h[3:]...)
			h[2], h[3] = h[3], h[2]
			return renumber(h)
		}, 3, 2, "adjustments-acct_x", "deleted or moved"},
		{"prev hash edited", func(h events) events {
			h[3].PrevHash = append([]byte{}, h[1].Hash...)
			return h
		}, 4, 3, "adjustments-acct_x", "edited"},
		{"body edited", func(h events) events {
			h[3].Data = []byte(`{"n":9}`)
			return h
		}, 4, 3, "adjustments-acct_x", "content does not match its hash"},
	} {
		h := c.edit(chained(6))
		res, err := eventstore.Verify(ctx, h, nil)
		if err != nil || res.Break == nil {
			t.Fatalf("%s: verify %+v %v", c.name, res, err)
		}
		b := res.Break
		if b.Position.Commit != c.at || b.Stream != c.stream || !strings.Contains(b.Reason, c.says) {
			t.Errorf("%s: break %v; want position %d (%s) saying %q", c.name, b, c.at, c.stream, c.says)
		}
		if res.Events != c.good || res.Last.Commit != c.good {
			t.Errorf("%s: %d events verified through %s, want %d through %d", c.name, res.Events, res.Last, c.good, c.good)
		}
	}
}
