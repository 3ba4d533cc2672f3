// Package projections keeps RouteFree's read models current: a Runner feeds
// every Projection from the event store's global order through watermill
// handlers, each with its own checkpoint, and Replay rebuilds them all from
// position zero for an audit.
package projections

import (
	"context"
	"runtime"
	"sync"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// Projection is one read model fed in global order.
type Projection interface {
	// Name is unique among a Runner's projections; it names the handler and
	// the checkpoint.
	Name() string
	// Checkpoint is the position to resume after: the last position applied
	// (eventstore.Start for a fresh model).
	Checkpoint(ctx context.Context) (eventstore.Position, error)
	// Apply folds a batch in order. A batch may repeat events a projection
	// already applied (after a restart); a SQL model ignores what its stored
	// checkpoint covers and commits its rows and checkpoint together. An
	// error makes the Runner deliver the same batch again.
	Apply(ctx context.Context, batch []Event) error
}

// Event is a recorded event with its body decoded once for every projection.
// Body is shared by all projections: read it, never modify it.
type Event struct {
	eventstore.RecordedEvent
	// Body is the upcast event (a pointer to a domain struct, e.g.
	// *domain.RequestCompleted); nil when the type is unknown to this build.
	Body domain.Event
	// Err is set when a known type fails to decode: a projection that needs
	// the type fails with it rather than silently losing a fact.
	Err error
}

// decodeBatch decodes a batch, in parallel on large batches: decoding JSON
// and decimals is the bulk of a replay's CPU.
func decodeBatch(evs []eventstore.RecordedEvent) []Event {
	out := make([]Event, len(evs))
	decode := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i].RecordedEvent = evs[i]
			if !domain.Known(evs[i].Type) {
				continue
			}
			out[i].Body, out[i].Err = domain.Decode(evs[i].Type, evs[i].SchemaVersion, evs[i].Data)
		}
	}
	workers := runtime.GOMAXPROCS(0)
	if len(evs) < 512 || workers < 2 {
		decode(0, len(evs))
		return out
	}
	var wg sync.WaitGroup
	step := (len(evs) + workers - 1) / workers
	for lo := 0; lo < len(evs); lo += step {
		hi := min(lo+step, len(evs))
		wg.Add(1)
		go func() { defer wg.Done(); decode(lo, hi) }()
	}
	wg.Wait()
	return out
}

// after returns the suffix of a batch that lies after position p.
func after(batch []Event, p eventstore.Position) []Event {
	for i := range batch {
		if p.Less(batch[i].Position) {
			return batch[i:]
		}
	}
	return nil
}

// atOrBefore reports whether position a is at or before b.
func atOrBefore(a, b eventstore.Position) bool { return !b.Less(a) }
