package eventstore

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// AppendRequest is one caller's append inside a group commit. The backend
// fills Result or Err for each request of a batch.
type AppendRequest struct {
	Stream   string
	Expected ExpectedVersion
	Events   []EventData
	Result   AppendResult
	Err      error
	done     chan struct{}
}

// BatchWriter writes a batch of appends in one durable transaction. A request
// whose expectation fails gets its own Err and the others still commit; an
// error returned fails the whole batch (nothing of it was written).
type BatchWriter func(ctx context.Context, batch []*AppendRequest) error

// GroupCommitter lets concurrent appends share one transaction: one writer
// goroutine takes whatever requests are waiting, up to MaxBatch events, and
// writes them together. While it writes, the next batch gathers.
//
// A lone caller (the last batch held one append and nobody is waiting)
// writes its append itself: handing it to the writer goroutine and back
// would cost two goroutine wake-ups for nothing to share.
type GroupCommitter struct {
	write    BatchWriter
	maxBatch int
	in       chan *AppendRequest
	stop     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
	wmu      sync.Mutex  // held while a batch is written, by the goroutine or a lone caller
	lone     atomic.Bool // the last batch had one append
	// An append holds gate (read) from its check of stopping until it is
	// written or queued, and Close takes it to stop: so every append either
	// sees ErrClosed or is in the queue the writer drains before it exits.
	gate     sync.RWMutex
	stopping bool
	// OnBatch, when set, is called after each batch with its size in events.
	OnBatch func(requests, events int)
	// Linger is how long a batch smaller than the previous one waits for the
	// callers the previous commit released to queue again (default 200µs).
	// A lone caller never waits: its previous batch had one request.
	Linger time.Duration
}

// NewGroupCommitter starts the writer goroutine.
func NewGroupCommitter(w BatchWriter, maxBatchEvents int) *GroupCommitter {
	g := newGroupCommitter(w, maxBatchEvents)
	g.wg.Add(1)
	go g.loop()
	return g
}

// newGroupCommitter is the committer without its writer goroutine, so
// tests can drive the batching steps one at a time.
func newGroupCommitter(w BatchWriter, maxBatchEvents int) *GroupCommitter {
	if maxBatchEvents <= 0 {
		maxBatchEvents = 2000
	}
	return &GroupCommitter{write: w, maxBatch: maxBatchEvents, in: make(chan *AppendRequest, 4096), stop: make(chan struct{}), Linger: 200 * time.Microsecond}
}

// Append queues an append and waits until it is durable (or failed).
func (g *GroupCommitter) Append(ctx context.Context, stream string, expected ExpectedVersion, events ...EventData) (AppendResult, error) {
	r := &AppendRequest{Stream: stream, Expected: expected, Events: events, done: make(chan struct{})}
	g.gate.RLock()
	if g.stopping {
		g.gate.RUnlock()
		return AppendResult{}, ErrClosed
	}
	if g.lone.Load() && len(g.in) == 0 && g.wmu.TryLock() {
		if len(g.in) == 0 {
			g.flush([]*AppendRequest{r})
			g.wmu.Unlock()
			g.gate.RUnlock()
			return r.Result, r.Err
		}
		g.wmu.Unlock()
	}
	select {
	case g.in <- r:
		g.gate.RUnlock()
	case <-ctx.Done():
		g.gate.RUnlock()
		return AppendResult{}, ctx.Err()
	}
	// Once queued, the append completes even if ctx ends: the caller learns
	// the truth rather than a guess, and a billed fact is never dropped.
	<-r.done
	return r.Result, r.Err
}

// Close writes what is queued and stops the writer; a lone caller's write
// in progress finishes first. Later appends get ErrClosed.
func (g *GroupCommitter) Close() {
	g.once.Do(func() {
		g.gate.Lock()
		g.stopping = true
		close(g.stop)
		g.gate.Unlock()
	})
	g.wg.Wait()
}

func (g *GroupCommitter) loop() {
	defer g.wg.Done()
	batch := make([]*AppendRequest, 0, 256)
	lastBatch := 0
	var linger *time.Timer
	for {
		var first *AppendRequest
		select {
		case first = <-g.in:
		case <-g.stop:
			// Drain what was queued before the stop.
			for {
				select {
				case r := <-g.in:
					batch = append(batch[:0], r)
					g.wmu.Lock()
					g.flush(batch)
					g.wmu.Unlock()
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		runtime.Gosched() // let callers released by the last flush rejoin this batch
		var n int
		batch, n = g.gather(batch, len(first.Events))
		if g.lingers(len(batch), n, lastBatch) {
			if linger == nil {
				linger = time.NewTimer(g.Linger)
			} else {
				linger.Reset(g.Linger)
			}
			batch, _ = g.lingerFor(batch, n, lastBatch, linger.C)
			if !linger.Stop() {
				select {
				case <-linger.C:
				default:
				}
			}
		}
		lastBatch = len(batch)
		g.wmu.Lock()
		g.flush(batch)
		g.wmu.Unlock()
	}
}

// gather adds the requests already queued to a batch holding n events,
// while it holds fewer than the bound.
func (g *GroupCommitter) gather(batch []*AppendRequest, n int) ([]*AppendRequest, int) {
	for n < g.maxBatch {
		select {
		case r := <-g.in:
			batch = append(batch, r)
			n += len(r.Events)
		default:
			return batch, n
		}
	}
	return batch, n
}

// lingers says whether a batch waits for more callers: it is smaller than
// the previous one (whose callers, just released, may be about to append
// again), has room under the bound, and lingering is on.
func (g *GroupCommitter) lingers(requests, events, lastBatch int) bool {
	return requests < lastBatch && events < g.maxBatch && g.Linger > 0
}

// lingerFor takes requests as they come until the batch is as large as the
// previous one, full, or expired fires. Queued requests go first, so a
// timer that fired while they queued does not leave them to the next batch.
func (g *GroupCommitter) lingerFor(batch []*AppendRequest, n, lastBatch int, expired <-chan time.Time) ([]*AppendRequest, int) {
	for len(batch) < lastBatch && n < g.maxBatch {
		select {
		case r := <-g.in:
			batch = append(batch, r)
			n += len(r.Events)
			continue
		default:
		}
		select {
		case r := <-g.in:
			batch = append(batch, r)
			n += len(r.Events)
		case <-expired:
			return batch, n
		}
	}
	return batch, n
}

// flush writes one batch; the caller holds wmu.
func (g *GroupCommitter) flush(batch []*AppendRequest) {
	g.lone.Store(len(batch) == 1)
	err := g.write(context.Background(), batch)
	events := 0
	for _, r := range batch {
		if err != nil {
			r.Err = err
		}
		events += len(r.Events)
		close(r.done)
	}
	if g.OnBatch != nil {
		g.OnBatch(len(batch), events)
	}
}
