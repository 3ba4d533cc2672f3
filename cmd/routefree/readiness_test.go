package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// TestAppendHealth: a conflict, a caller's cancellation or a closed store is
// the caller's outcome and leaves the instance ready; any other failure
// makes it not ready, until the SQLite store commits a test write, or for
// appendFailWindow on a store that cannot test one.
func TestAppendHealth(t *testing.T) {
	raw, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var h appendHealth
	m := newMeteredStore(raw, prometheus.NewRegistry())
	s := healthStore{m, &h}
	ctx := context.Background()
	ev := func() eventstore.EventData {
		return eventstore.EventData{ID: uuid.New(), Type: "t", SchemaVersion: 1, OccurredAt: time.Now(), Data: []byte(`{}`)}
	}
	if _, err := s.Append(ctx, "s", eventstore.NoStream(), ev()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "s", eventstore.NoStream(), ev()); !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("want a conflict, got %v", err)
	}
	h.observe(context.Canceled)
	h.observe(fmt.Errorf("append: %w", eventstore.ErrClosed))
	if _, err := h.failed(); err != nil {
		t.Fatalf("a caller's outcome marked appends as failing: %v", err)
	}

	broken := errors.New("disk I/O error")
	h.observe(broken)
	if err := h.check(ctx, m); !errors.Is(err, broken) { // m cannot test a write
		t.Fatalf("right after a failure, without a write check: %v", err)
	}
	h.mu.Lock()
	h.failedAt = time.Now().Add(-appendFailWindow - time.Second)
	h.mu.Unlock()
	if err := h.check(ctx, m); err != nil {
		t.Fatalf("after the window: %v", err)
	}

	h.observe(broken)
	if err := h.check(ctx, raw); err != nil { // the file is writable
		t.Fatalf("SQLite can write: %v", err)
	}
	if _, err := h.failed(); err != nil {
		t.Fatalf("a successful write check did not clear the failure: %v", err)
	}
	h.observe(broken)
	if _, err := s.Append(ctx, "s", eventstore.Any(), ev()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.failed(); err != nil {
		t.Fatalf("a successful append did not clear the failure: %v", err)
	}
}

// TestMeteredStorePassesTheHeadThrough: the store serve wraps keeps the
// SQLite index read, so that waiting for the head at a first start does not
// read the history a second time; a store without one is read as before.
func TestMeteredStorePassesTheHeadThrough(t *testing.T) {
	raw, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ctx := context.Background()
	var want eventstore.Position
	for range 3 {
		res, err := raw.Append(ctx, "s", eventstore.Any(), eventstore.EventData{ID: uuid.New(), Type: "t", SchemaVersion: 1, OccurredAt: time.Now(), Data: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		want = res.Position
	}
	var s eventstore.Store = healthStore{newMeteredStore(raw, prometheus.NewRegistry()), &appendHealth{}}
	hr, ok := s.(eventstore.HeadReader)
	if !ok {
		t.Fatal("the wrapped store hides the SQLite store's LastPosition")
	}
	if got, err := hr.LastPosition(ctx); err != nil || got != want {
		t.Fatalf("LastPosition = %v, %v; want %v", got, err, want)
	}
	bare := newMeteredStore(readOnly{raw}, prometheus.NewRegistry())
	if _, err := bare.LastPosition(ctx); !errors.Is(err, eventstore.ErrNoLastPosition) {
		t.Fatalf("a store without an index: LastPosition = %v; want ErrNoLastPosition", err)
	}
	if got, err := eventstore.Head(ctx, bare, eventstore.Start, 0); err != nil || got != want {
		t.Fatalf("Head through it = %v, %v; want %v by reading", got, err, want)
	}
}

// readOnly is a store with no optional interfaces.
type readOnly struct{ eventstore.Store }
