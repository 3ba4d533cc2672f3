package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
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

// TestReadyzWhenInvoicingStops: a store holding an event the invoicing
// projector cannot fold (a contract ending in the year 85360, which an
// older build let through) stops invoicing; /readyz stays ready (requests
// are still served and billed) and names invoicing as degraded, with the
// event.
func TestReadyzWhenInvoicingStops(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	q := &domain.QuoteIssued{QuoteID: "Q-20261206-AAAAAA", Agency: "X", ValidDays: 30, IssuedAt: at, Subtotal: 95, Tax: 5, Total: 100,
		Items: []domain.QuoteItem{{Name: "x", Quantity: decimal.NewFromInt(1), UnitPrice: decimal.NewFromInt(100)}}}
	body, err := domain.Encode(q)
	if err != nil {
		t.Fatal(err)
	}
	bad := `{"contract_id":"C-20261206-AAAAAA","quote_id":"Q-20261206-AAAAAA","period_start":"2026-12-31T16:00:00Z","period_end":"85360-04-30T16:00:00Z","plan":"business","actor":{}}`
	evs := []eventstore.EventData{
		{ID: uuid.New(), Type: domain.TypeQuoteIssued, SchemaVersion: q.SchemaVersion(), OccurredAt: at, Data: body},
		{ID: uuid.New(), Type: domain.TypeContractIssued, SchemaVersion: (&domain.ContractIssued{}).SchemaVersion(), OccurredAt: at, Data: []byte(bad)},
	}
	if _, err := s.Append(context.Background(), domain.QuoteStream(q.QuoteID), eventstore.NoStream(), evs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	p := startServe(t, baseEnv(fakeUpstream(t, providertest.Script{Text: "hi"})), "--data-dir", dir)
	var reason string
	waitFor(t, 10*time.Second, func() bool {
		resp, err := client.Get(p.base + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var b struct {
			Ready    bool     `json:"ready"`
			Degraded []string `json:"degraded"`
		}
		if json.NewDecoder(resp.Body).Decode(&b) != nil || resp.StatusCode != http.StatusOK || !b.Ready || len(b.Degraded) == 0 {
			return false
		}
		reason = b.Degraded[0]
		return true
	})
	if !strings.HasPrefix(reason, "invoicing stopped") || !strings.Contains(reason, domain.TypeContractIssued) {
		t.Fatalf("/readyz reason %q; want invoicing stopped at the contract", reason)
	}
	// The metrics say so too, for an alert; the instance stays ready.
	waitFor(t, 10*time.Second, func() bool {
		resp, err := client.Get(p.base + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "\nroutefree_invoicing_up 0\n") && strings.Contains(string(b), "\nroutefree_ready 1\n")
	})
	// Its lag shows what it has not folded: the contract at least.
	waitFor(t, 10*time.Second, func() bool {
		return metric(p.base, `routefree_projection_lag_events{projection="invoicing"}`) >= 1
	})
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}
