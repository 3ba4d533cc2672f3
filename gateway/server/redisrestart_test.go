package server

import (
	"context"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// A Redis restart that lost nothing (an append-only file written on every
// change) still gives 503s for the ledger's restore window, since nothing
// in Redis tells it from one that lost holds. A client that honours the
// 503's Retry-After must be sent back when the window ends, not a whole
// window after it met the 503: one that arrives two seconds into the
// window is told to wait the second left. Credit is never overspent: the
// request running across the restart still holds its credit after it.
func TestRedisRestartThatLostNothingRetryAfter(t *testing.T) {
	r := testenv.StartRedisServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	// A Redis started less than the window ago might have lost a prefix's
	// state: the ledger's first hold would wait. Let it run that long.
	time.Sleep(admission.RestoreWindow + 100*time.Millisecond)
	h := newHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "slow", Delay: 8 * time.Second}},
		ledger:  admission.NewRedisLedger(rdb, "rf:restart:", admission.LedgerOptions{HoldTTL: time.Minute}),
		credit:  "3",
		prices:  map[string]domain.ModelPrice{"test/openai": {Input: decimal.NewFromInt(10), Output: decimal.NewFromInt(500)}},
	})
	// Each request may cost about NT$2 (4,000 output tokens at NT$500 a million).
	body := `{"model":"test/openai","max_tokens":4000,"messages":[{"role":"user","content":"hi"}]}`
	done := make(chan reply, 1)
	go func() {
		resp, b := h.post(body)
		done <- reply{status: resp.StatusCode, body: b}
	}()
	eventually(t, "the first request's hold", func() bool {
		_, n, err := h.ledger.Held(context.Background(), h.account)
		return err == nil && n == 1
	})

	r.Stop(syscall.SIGTERM) // a clean shutdown: the append-only file has everything
	r.Start()

	// The first request after the restart meets the window.
	var first time.Time
	eventually(t, "a 503 for the restore", func() bool {
		resp, b := h.post(body)
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" {
			first = time.Now()
			return true
		}
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("after the restart: %d %s, want the restore's 503", resp.StatusCode, b)
		}
		return false
	})
	// A client arriving two seconds into the window.
	time.Sleep(time.Until(first.Add(2 * time.Second)))
	resp, b := h.post(body)
	if resp.StatusCode == http.StatusServiceUnavailable {
		ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || ra != 1 {
			t.Fatalf("two seconds into the %s window: Retry-After %q, want 1 (the time left): %s",
				admission.RestoreWindow, resp.Header.Get("Retry-After"), b)
		}
		if md := decodeError(t, b).Error.Metadata; md["retry_after_seconds"] != float64(ra) {
			t.Fatalf("metadata.retry_after_seconds %v, Retry-After %d", md["retry_after_seconds"], ra)
		}
		time.Sleep(time.Duration(ra) * time.Second)
		resp, b = h.post(body)
	}
	// Past the window: refused for the credit the running request holds.
	if resp.StatusCode != http.StatusPaymentRequired || decodeError(t, b).Error.Metadata["cause"] != "in_flight_holds" {
		t.Fatalf("after the window: %d %s, want 402 in_flight_holds", resp.StatusCode, b)
	}
	if a := <-done; a.status != http.StatusOK {
		t.Fatalf("request across the restart: %d %s", a.status, a.body)
	}
	h.heldSoonZero()
}
