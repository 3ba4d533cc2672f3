package projections

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// Once written, the usage model's buffered events are let go: after a
// catch-up of thousands of requests their decoded bodies (and with them the
// stored bytes beside them) can be collected. Truncating the buffer alone
// kept up to 200,000 of them for the life of the process, a third of a
// gateway's heap.
func TestUsageKeepsNoWrittenEvent(t *testing.T) {
	// Catch-up batches (buffered, not written at once): a buffer that live
	// traffic could reuse, and one far larger.
	for _, n := range []int{3 * catchUpBatch / 2, 3 * liveMax} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { usageLetsGo(t, n) })
	}
}

func usageLetsGo(t *testing.T, n int) {
	ctx := context.Background()
	u := openUsageDB(t)
	at := time.Date(2026, 11, 3, 4, 0, 0, 0, time.UTC)
	var collected atomic.Int64
	batch := make([]Event, n)
	for i := range batch {
		body := &domain.RequestCompleted{RequestID: fmt.Sprintf("r%d", i), AccountID: "a", KeyID: "k", Model: "m",
			Usage: domain.Usage{Input: 10, Output: 2}, Cost: decimal.RequireFromString("0.25"), StartedAt: at}
		runtime.SetFinalizer(body, func(*domain.RequestCompleted) { collected.Add(1) })
		p := uint64(i + 1)
		batch[i] = Event{RecordedEvent: eventstore.RecordedEvent{Stream: "usage-a", Position: eventstore.Position{Commit: p, Prepare: p},
			EventData: eventstore.EventData{Type: domain.TypeRequestCompleted, OccurredAt: at, Data: make([]byte, 256)}}, Body: body}
	}
	if err := u.Apply(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	batch = nil
	for deadline := time.Now().Add(10 * time.Second); collected.Load() < int64(n) && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := int(collected.Load()); got != n {
		t.Fatalf("%d of the %d written events are still held", n-got, n)
	}
	rows, err := u.ByAccountMonth(ctx, "a", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Requests != int64(n) || !rows[0].Cost.Equal(decimal.NewFromInt(int64(n)).Div(decimal.NewFromInt(4))) || rows[0].TokensIn != 10*int64(n) {
		t.Fatalf("usage after the write: %+v", rows)
	}
}

// TestUsageBufferKeepsNoEvent: while its events wait for the next write, the
// usage model keeps what each adds to its rows, not the event: a catch-up
// buffers up to flushEvery of them, and their decoded bodies and stored
// bytes were tens of megabytes on top of the read models at a first start.
func TestUsageBufferKeepsNoEvent(t *testing.T) {
	ctx := context.Background()
	u := openUsageDB(t)
	at := time.Date(2026, 11, 3, 4, 0, 0, 0, time.UTC)
	var bodies, stored atomic.Int64
	const batches = 3
	for b := range batches {
		batch := make([]Event, catchUpBatch) // full batches: history, buffered
		for i := range batch {
			n := b*catchUpBatch + i
			body := &domain.RequestCompleted{RequestID: fmt.Sprintf("r%d", n), AccountID: fmt.Sprintf("a%d", n%3), KeyID: "k",
				Model: "m", Usage: domain.Usage{Input: 10, Output: 2, Cached: 1}, Cost: decimal.RequireFromString("0.25"), StartedAt: at}
			runtime.SetFinalizer(body, func(*domain.RequestCompleted) { bodies.Add(1) })
			data := new([256]byte)
			runtime.SetFinalizer(data, func(*[256]byte) { stored.Add(1) })
			p := uint64(n + 1)
			batch[i] = Event{RecordedEvent: eventstore.RecordedEvent{Stream: "usage-a", Position: eventstore.Position{Commit: p, Prepare: p},
				EventData: eventstore.EventData{Type: domain.TypeRequestCompleted, OccurredAt: at, Data: data[:]}}, Body: body}
		}
		if err := u.Apply(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	const n = batches * catchUpBatch
	for deadline := time.Now().Add(10 * time.Second); (bodies.Load() < n || stored.Load() < n) && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if b, s := bodies.Load(), stored.Load(); b != n || s != n {
		t.Fatalf("before the write the buffer holds %d decoded bodies and %d stored events of %d", n-b, n-s, n)
	}
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, acct := range []string{"a0", "a1", "a2"} {
		rows, err := u.ByAccountMonth(ctx, acct, "2026-11")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Requests != n/3 || !rows[0].Cost.Equal(decimal.NewFromInt(n/3).Div(decimal.NewFromInt(4))) ||
			rows[0].TokensIn != 10*n/3 || rows[0].TokensOut != 2*n/3 || rows[0].TokensCached != n/3 {
			t.Fatalf("%s after the write: %+v", acct, rows)
		}
	}
}
