package eventstore

import (
	"context"
	"errors"
	"testing"
)

// history is a Reader over n events at positions 1..n that counts its
// reads, and a HeadReader whose answer is last (or err).
type history struct {
	n     int
	reads int
	last  Position
	err   error
}

func (h *history) ReadAll(_ context.Context, from Position, max int) ([]RecordedEvent, error) {
	h.reads++
	var out []RecordedEvent
	for p := from.Commit + 1; p <= uint64(h.n) && len(out) < max; p++ {
		out = append(out, RecordedEvent{Position: Position{Commit: p, Prepare: p}})
	}
	return out, nil
}

func (h *history) LastPosition(context.Context) (Position, error) { return h.last, h.err }

// reader hides history's LastPosition.
type reader struct{ h *history }

func (r reader) ReadAll(ctx context.Context, from Position, max int) ([]RecordedEvent, error) {
	return r.h.ReadAll(ctx, from, max)
}

// A first start waits for the head of a long history: a store that keeps
// an index answers from it, where reading the whole history again to find
// its end took as long as the catch-up itself.
func TestHeadAsksTheIndexRatherThanReading(t *testing.T) {
	ctx := context.Background()
	last := Position{Commit: 25_000, Prepare: 25_000}

	h := &history{n: 25_000, last: last}
	if got, err := Head(ctx, h, Start, 0); err != nil || got != last || h.reads != 0 {
		t.Fatalf("Head of a HeadReader = %v, %v after %d reads; want %v after none", got, err, h.reads, last)
	}
	if got, err := Head(ctx, h, Position{Commit: 30_000, Prepare: 30_000}, 0); err != nil || got.Commit != 30_000 {
		t.Fatalf("Head from past the last event = %v, %v; want from itself", got, err)
	}

	plain := &history{n: 25_000}
	if got, err := Head(ctx, reader{plain}, Start, 0); err != nil || got != last || plain.reads != 26 {
		t.Fatalf("Head by reading = %v, %v after %d reads; want %v after 26", got, err, plain.reads, last)
	}
	plain.reads = 0
	if got, err := Head(ctx, reader{plain}, Start, 3); err != nil || got.Commit != 3000 || plain.reads != 3 {
		t.Fatalf("Head by reading at most 3 batches = %v, %v after %d reads", got, err, plain.reads)
	}

	// A wrapper whose store cannot tell makes Head read.
	wrapped := &history{n: 2_500, err: ErrNoLastPosition}
	if got, err := Head(ctx, wrapped, Start, 0); err != nil || got.Commit != 2_500 || wrapped.reads != 3 {
		t.Fatalf("Head through a wrapper without an index = %v, %v after %d reads", got, err, wrapped.reads)
	}
	// Any other failure is the answer.
	down := &history{n: 10, err: errors.New("connection refused")}
	if _, err := Head(ctx, down, Start, 0); err == nil || down.reads != 0 {
		t.Fatalf("Head when the index read fails = %v after %d reads; want the error", err, down.reads)
	}
}
