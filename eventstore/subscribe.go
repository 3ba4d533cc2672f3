package eventstore

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Notifier wakes waiting readers when appends commit. It is a broadcast: Wait
// returns a channel closed at the next Notify.
type Notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

// NewNotifier returns a ready notifier.
func NewNotifier() *Notifier { return &Notifier{ch: make(chan struct{})} }

// Wait returns a channel that is closed at the next Notify.
func (n *Notifier) Wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

// Notify wakes every waiter.
func (n *Notifier) Notify() {
	n.mu.Lock()
	close(n.ch)
	n.ch = make(chan struct{})
	n.mu.Unlock()
}

// Subscription delivers batches of events in global order.
type Subscription struct {
	C      <-chan []RecordedEvent // closed when the subscription ends
	cancel context.CancelFunc
	done   chan struct{}
	hurry  chan struct{} // cuts a polling subscription's coalescing wait short
	mu     sync.Mutex
	err    error
}

// Close ends the subscription and waits for its reader.
func (s *Subscription) Close() { s.cancel(); <-s.done }

// Hurry asks the subscription to read what is committed now rather than at
// the end of its coalescing wait (PollOptions.Coalesce): for a reader that
// waits on an event it has just appended. It never blocks; a subscription
// that does not coalesce ignores it.
func (s *Subscription) Hurry() {
	select {
	case s.hurry <- struct{}{}:
	default: // one is pending already, or nothing coalesces
	}
}

// Err tells why the subscription ended (nil after Close or context end).
func (s *Subscription) Err() error { s.mu.Lock(); defer s.mu.Unlock(); return s.err }

// Reader is what a polling subscription needs of a store.
type Reader interface {
	ReadAll(ctx context.Context, from Position, max int) ([]RecordedEvent, error)
}

// HeadReader is a store that can tell the position of its last event
// without reading its history forwards: from an index (SQLite, PostgreSQL)
// or by reading back from the end of the log (KurrentDB).
type HeadReader interface {
	// LastPosition is the position of the last committed event that ReadAll
	// will return (Start when there is none).
	LastPosition(ctx context.Context) (Position, error)
}

// ErrNoLastPosition is LastPosition's answer from a wrapper whose store
// cannot tell: Head then reads.
var ErrNoLastPosition = errors.New("eventstore: the store cannot tell its last position without reading")

// Head returns the position of the last event after from (from itself when
// there is none). A HeadReader answers itself; of another store it
// reads at most maxBatches batches (0: no limit), which at a first start
// is the whole history once more.
func Head(ctx context.Context, r Reader, from Position, maxBatches int) (Position, error) {
	if h, ok := r.(HeadReader); ok {
		last, err := h.LastPosition(ctx)
		switch {
		case err == nil && from.Less(last):
			return last, nil
		case err == nil:
			return from, nil
		case !errors.Is(err, ErrNoLastPosition):
			return from, err
		}
	}
	for i := 0; maxBatches <= 0 || i < maxBatches; i++ {
		evs, err := r.ReadAll(ctx, from, 1000)
		if err != nil {
			return from, err
		}
		if len(evs) == 0 {
			break
		}
		from = evs[len(evs)-1].Position
		if len(evs) < 1000 {
			break
		}
	}
	return from, nil
}

// PollOptions tune a polling subscription.
type PollOptions struct {
	Batch    int           // events per read (default 1000)
	Interval time.Duration // poll when no wake-up comes (default 100ms): other processes' appends
	Wake     *Notifier     // in-process wake-ups, optional
	// Coalesce is how long a wake-up waits before reading, so that the
	// commits of the next moment are read together (default 20ms; negative:
	// none), unless Subscription.Hurry ends the wait. Every read wakes the
	// subscriber's chain of goroutines (a projection runner's: the feed, a
	// subscriber, a router handler and an ack for each read model), and on
	// an idle process each wake-up is a thread woken from its sleep. A lone
	// client commits every millisecond or two: at 2ms that was a read, and
	// a burst of wake-ups, for nearly every request; at 20ms it is one for
	// ten or more. Under load batches are large either way.
	Coalesce time.Duration
}

// DefaultCoalesce is PollOptions.Coalesce when none is given.
const DefaultCoalesce = 20 * time.Millisecond

// A wake-up whose reads find nothing is followed by reads from 5 ms apart,
// doubling up to maxRetry, for at most maxRetryFor; then the interval rules.
const (
	maxRetry    = 250 * time.Millisecond
	maxRetryFor = 5 * time.Second
)

// Poll builds a catch-up subscription on ReadAll: it reads history, then
// waits for a wake-up or the interval, and reads again. Because ReadAll never
// returns an event that an unseen one could precede, nothing is skipped.
func Poll(ctx context.Context, r Reader, from Position, o PollOptions) *Subscription {
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	if o.Interval <= 0 {
		o.Interval = 100 * time.Millisecond
	}
	if o.Coalesce == 0 {
		o.Coalesce = DefaultCoalesce
	}
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan []RecordedEvent, 4)
	s := &Subscription{C: ch, cancel: cancel, done: make(chan struct{}), hurry: make(chan struct{}, 1)}
	go func() {
		defer close(s.done)
		defer close(ch)
		timer := time.NewTimer(o.Interval)
		defer timer.Stop()
		coalesce := time.NewTimer(time.Hour)
		coalesce.Stop()
		defer coalesce.Stop()
		pos := from
		// A wake-up says a commit happened. A read that finds nothing after
		// one means the commit is not readable yet (a backend whose reads
		// may lag its wake-ups): read again soon, backing off, rather than
		// after the whole interval.
		woken := false
		var retry time.Duration
		var retrySince time.Time
		for {
			var wake <-chan struct{}
			if o.Wake != nil {
				wake = o.Wake.Wait() // taken before the read, so no commit is missed
			}
			evs, err := r.ReadAll(ctx, pos, o.Batch)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				// Transient store errors: keep the position and retry.
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
				evs = nil
			} else {
				s.mu.Lock()
				s.err = nil
				s.mu.Unlock()
			}
			if len(evs) > 0 {
				select {
				case ch <- evs:
				case <-ctx.Done():
					return
				}
				pos = evs[len(evs)-1].Position
				if len(evs) == o.Batch {
					continue
				}
			}
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			wait := o.Interval
			switch {
			case len(evs) > 0 || !woken:
				retry = 0
			case retry == 0:
				retry, retrySince = min(5*time.Millisecond, o.Interval), time.Now()
				wait = retry
			case time.Since(retrySince) < maxRetryFor:
				retry = min(2*retry, maxRetry, o.Interval)
				wait = retry
			}
			woken = false
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-wake:
				woken, retry = true, 0 // a new commit: look for it afresh
				if o.Coalesce > 0 {
					coalesce.Reset(o.Coalesce)
					select {
					case <-coalesce.C:
					case <-s.hurry:
						coalesce.Stop()
					case <-ctx.Done():
						return
					}
				}
			case <-timer.C:
				woken = retry > 0 // a retry keeps looking for what the wake-up announced
			}
		}
	}()
	return s
}
