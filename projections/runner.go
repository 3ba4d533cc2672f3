package projections

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// Runner feeds projections from the store's global order: one watermill
// router, one handler and one subscriber per projection. The store is read
// once and every batch is decoded once for all of them.
type Runner struct {
	store   eventstore.Store
	logger  watermill.LoggerAdapter
	ps      []Projection
	running chan struct{}
	runOnce sync.Once

	mu     sync.Mutex
	pos    map[string]eventstore.Position
	moved  *eventstore.Notifier
	failed error // a catch-up's first Apply error
	// stuck is a running projection's error that no retry mends (an event
	// of a newer release): waiting for the positions past it is in vain.
	stuck error

	// live is the store subscription that feeds a running Run, which
	// WaitFor hurries: a subscription waits a moment after a commit so
	// that the next ones are read with it.
	live atomic.Pointer[eventstore.Subscription]

	// feedMu is held while a batch is handed to the projections, and by
	// Hold, which keeps the next batches back; fed is the position of the
	// last batch handed over.
	feedMu sync.Mutex
	fed    eventstore.Position
}

// NewRunner checks the projections' names and prepares a runner.
func NewRunner(store eventstore.Store, logger watermill.LoggerAdapter, ps ...Projection) (*Runner, error) {
	if store == nil {
		return nil, errors.New("projections: nil store")
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	seen := map[string]bool{}
	var errs []error
	for _, p := range ps {
		if p.Name() == "" || seen[p.Name()] {
			errs = append(errs, fmt.Errorf("projections: projection name %q is empty or repeated", p.Name()))
		}
		seen[p.Name()] = true
	}
	if len(ps) == 0 {
		errs = append(errs, errors.New("projections: no projection to run"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Runner{
		store: store, logger: logger, ps: ps, running: make(chan struct{}),
		pos: map[string]eventstore.Position{}, moved: eventstore.NewNotifier(),
	}, nil
}

// Run keeps the projections current until ctx ends: history first, then live
// events. It may be called again after it returns; each projection resumes
// after its checkpoint.
func (r *Runner) Run(ctx context.Context) error { return r.run(ctx, true) }

// CatchUp applies everything the store holds now and returns: the start-up
// step before serving, and the whole of a replay.
func (r *Runner) CatchUp(ctx context.Context) error { return r.run(ctx, false) }

// Running is closed once the Runner's router first runs.
func (r *Runner) Running() <-chan struct{} { return r.running }

// Position is how far the named projection got (the last position it applied).
func (r *Runner) Position(name string) eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pos[name]
}

// Positions returns every projection's position, by name (Start for one
// that has applied nothing yet).
func (r *Runner) Positions() map[string]eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]eventstore.Position, len(r.ps))
	for _, p := range r.ps {
		out[p.Name()] = r.pos[p.Name()]
	}
	return out
}

// Slowest is the position of the projection furthest behind (Start while
// one has applied nothing): everything after it is what some projection
// still needs.
func (r *Runner) Slowest() eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	slowest := eventstore.Start
	for i, p := range r.ps {
		if at := r.pos[p.Name()]; i == 0 || at.Less(slowest) {
			slowest = at
		}
	}
	return slowest
}

// WaitForHead blocks until every projection has applied every event
// committed when it is called, or ctx ends: for writes whose positions the
// caller does not know (another component's appends, start-up).
func (r *Runner) WaitForHead(ctx context.Context) error {
	head, err := eventstore.Head(ctx, r.store, r.Slowest(), 0)
	if err != nil {
		return err
	}
	return r.WaitFor(ctx, head)
}

// Lagging names the projections that have not yet applied pos (for a
// readiness check: pos is the last AppendResult.Position the caller knows).
func (r *Runner) Lagging(pos eventstore.Position) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.ps {
		if r.pos[p.Name()].Less(pos) {
			out = append(out, p.Name())
		}
	}
	return out
}

// Hold keeps the next events from the projections and waits until each
// has applied every event handed to it: until release is called, all of
// them stand at the position it returns, so that figures read from several
// of them are of one moment of the history (the auditor's comparison with
// a replay). Hold it briefly: the read models do not move meanwhile.
func (r *Runner) Hold(ctx context.Context) (at eventstore.Position, release func(), err error) {
	r.feedMu.Lock()
	at = r.fed
	if err := r.WaitFor(ctx, at); err != nil {
		r.feedMu.Unlock()
		return at, nil, err
	}
	var once sync.Once
	return at, func() { once.Do(r.feedMu.Unlock) }, nil
}

// WaitFor blocks until every projection has applied pos, or ctx ends.
func (r *Runner) WaitFor(ctx context.Context, pos eventstore.Position) error {
	for {
		wake := r.moved.Wait() // taken before the check, so no advance is missed
		if len(r.Lagging(pos)) == 0 {
			return nil
		}
		r.mu.Lock()
		stuck := r.stuck
		r.mu.Unlock()
		if stuck != nil {
			return stuck
		}
		if sub := r.live.Load(); sub != nil {
			sub.Hurry()
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("projections: waiting for %s (behind: %v): %w", pos, r.Lagging(pos), ctx.Err())
		}
	}
}

func (r *Runner) advance(name string, p eventstore.Position) {
	r.mu.Lock()
	if r.pos[name].Less(p) {
		r.pos[name] = p
	}
	r.mu.Unlock()
	r.moved.Notify()
}

// run builds a router with one handler per projection and feeds it.
func (r *Runner) run(ctx context.Context, follow bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.mu.Lock()
	r.failed, r.stuck = nil, nil
	r.mu.Unlock()

	router, err := message.NewRouter(message.RouterConfig{}, r.logger)
	if err != nil {
		return err
	}
	subs := make([]*subscriber, len(r.ps))
	from := eventstore.Position{}
	for i, p := range r.ps {
		cp, err := p.Checkpoint(ctx)
		if err != nil {
			return fmt.Errorf("projections: checkpoint of %s: %w", p.Name(), err)
		}
		r.advance(p.Name(), cp)
		if i == 0 || cp.Less(from) {
			from = cp
		}
		name := p.Name()
		onNack := func() bool {
			if follow {
				return false // keep retrying: the error is logged by the router
			}
			cancel() // a catch-up fails fast with the projection's error
			return true
		}
		subs[i] = newSubscriber(name, cp, func(pos eventstore.Position) { r.advance(name, pos) }, onNack, r.logger)
		router.AddConsumerHandler(name, name, subs[i], r.handler(p, follow))
	}

	feedErr := make(chan error, 1)
	go func() {
		err := r.feed(ctx, from, follow, subs)
		if err != nil && !follow {
			// A catch-up that cannot read the history fails with why,
			// rather than waiting for events that will never come.
			cancel()
		}
		feedErr <- err
	}()
	go func() { <-ctx.Done(); _ = router.Close() }()
	go func() { <-router.Running(); r.runOnce.Do(func() { close(r.running) }) }()

	if err := router.Run(ctx); err != nil {
		return err
	}
	cancel()
	if err := <-feedErr; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	r.mu.Lock()
	failed := r.failed
	r.mu.Unlock()
	if failed != nil {
		return failed
	}
	if !follow {
		// A catch-up that stopped early (ctx ended) did not catch up.
		for _, s := range subs {
			select {
			case _, open := <-s.queue:
				if open {
					return fmt.Errorf("projections: catch-up interrupted: %w", context.Cause(ctx))
				}
			default:
				return fmt.Errorf("projections: catch-up interrupted: %w", context.Cause(ctx))
			}
		}
		// Caught up: what a projection buffers is written now, with its
		// checkpoint, rather than on its own schedule.
		for _, p := range r.ps {
			if f, ok := p.(interface{ Flush(context.Context) error }); ok {
				if err := f.Flush(context.WithoutCancel(ctx)); err != nil {
					return fmt.Errorf("projections: %s: %w", p.Name(), err)
				}
			}
		}
	}
	return nil
}

// handler applies a message's batch to its projection.
func (r *Runner) handler(p Projection, follow bool) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		err := p.Apply(msg.Context(), BatchOf(msg))
		if err != nil && !follow {
			r.mu.Lock()
			if r.failed == nil {
				r.failed = fmt.Errorf("projections: %s: %w", p.Name(), err)
			}
			r.mu.Unlock()
		}
		if err != nil && follow && errors.Is(err, domain.ErrNewerThanBuild) {
			r.mu.Lock()
			if r.stuck == nil {
				r.stuck = fmt.Errorf("projections: %s: %w", p.Name(), err)
			}
			r.mu.Unlock()
			r.moved.Notify()
		}
		return err
	}
}

// feed reads the store once from the lowest checkpoint and hands each
// subscriber the part of every batch past its own checkpoint. In catch-up
// mode it stops at the end of history and closes the queues.
func (r *Runner) feed(ctx context.Context, from eventstore.Position, follow bool, subs []*subscriber) error {
	push := func(raw []eventstore.RecordedEvent) error {
		batch := decodeBatch(raw)
		r.feedMu.Lock()
		defer r.feedMu.Unlock()
		for _, s := range subs {
			part := after(batch, s.from)
			if len(part) == 0 {
				continue
			}
			select {
			case s.queue <- part:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if last := raw[len(raw)-1].Position; r.fed.Less(last) {
			r.fed = last
		}
		return nil
	}
	if !follow {
		pos := from
		for {
			raw, err := r.store.ReadAll(ctx, pos, 4000)
			if err != nil {
				return err
			}
			if len(raw) == 0 {
				for _, s := range subs {
					close(s.queue)
				}
				return nil
			}
			if err := push(raw); err != nil {
				return err
			}
			pos = raw[len(raw)-1].Position
		}
	}
	sub, err := r.store.SubscribeAll(ctx, from)
	if err != nil {
		return err
	}
	defer sub.Close()
	r.live.Store(sub)
	defer r.live.CompareAndSwap(sub, nil)
	for raw := range sub.C {
		if err := push(raw); err != nil {
			return err
		}
	}
	if err := sub.Err(); err != nil {
		return err
	}
	return ctx.Err()
}
