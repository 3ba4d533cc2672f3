package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/routefree/routefree/eventstore"
)

// appendFailWindow is how long, after an append failed, an instance whose
// store cannot check a write on its own answers not ready. Traffic that
// comes back after it either succeeds or marks it again.
const appendFailWindow = 5 * time.Second

// writeChecker is a store that can test an append's write path without
// appending an event (the SQLite and PostgreSQL stores).
type writeChecker interface {
	CheckWrite(ctx context.Context) error
}

// appendHealth remembers whether the latest append failed for a reason of
// the store's own: not a caller's conflict, cancellation or shutdown.
type appendHealth struct {
	mu       sync.Mutex
	failedAt time.Time // zero: the latest append succeeded
	err      error
}

func (h *appendHealth) observe(err error) {
	switch {
	case err == nil:
		h.mu.Lock()
		h.failedAt, h.err = time.Time{}, nil
		h.mu.Unlock()
	case errors.Is(err, eventstore.ErrWrongExpectedVersion), errors.Is(err, eventstore.ErrClosed),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
	default:
		h.mu.Lock()
		h.failedAt, h.err = time.Now(), err
		h.mu.Unlock()
	}
}

func (h *appendHealth) failed() (time.Time, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failedAt, h.err
}

// check says why appends would fail now, or nil. After a failure a store
// that can check a write is asked (its success clears the failure); any
// other store counts as failing for appendFailWindow.
func (h *appendHealth) check(ctx context.Context, s eventstore.Store) error {
	at, err := h.failed()
	if err == nil {
		return nil
	}
	if c, ok := s.(writeChecker); ok {
		if cerr := c.CheckWrite(ctx); cerr != nil {
			return cerr
		}
		h.mu.Lock()
		if h.failedAt.Equal(at) { // no newer failure meanwhile
			h.failedAt, h.err = time.Time{}, nil
		}
		h.mu.Unlock()
		return nil
	}
	if time.Since(at) < appendFailWindow {
		return err
	}
	return nil
}

// healthStore reports every append's outcome to an appendHealth.
type healthStore struct {
	*meteredStore
	health *appendHealth
}

func (s healthStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	res, err := s.meteredStore.Append(ctx, stream, expected, events...)
	s.health.observe(err)
	return res, err
}
