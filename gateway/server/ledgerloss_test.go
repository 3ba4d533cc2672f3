package server

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// TestRedisLosingItsStateMidRequest: Redis restarts empty while a request
// holds most of the account's credit. The gateway answers 503 with a
// Retry-After while its ledger puts the hold back, then refuses a second
// request that the hold leaves no room for, as before the loss.
func TestRedisLosingItsStateMidRequest(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	h := newHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "slow", Delay: 5 * time.Second}},
		ledger:  admission.NewRedisLedger(rdb, prefix, admission.LedgerOptions{HoldTTL: time.Minute}),
		credit:  "3",
		prices:  map[string]domain.ModelPrice{"test/openai": {Input: decimal.NewFromInt(10), Output: decimal.NewFromInt(500)}},
	})
	// Each request may cost about NT$2 (4,000 output tokens at NT$500 a million).
	body := `{"model":"test/openai","max_tokens":4000,"messages":[{"role":"user","content":"hi"}]}`
	type answer struct {
		status int
		body   []byte
	}
	done := make(chan answer, 1)
	go func() {
		resp, b := h.post(body)
		done <- answer{resp.StatusCode, b}
	}()
	for n := 0; n != 1; time.Sleep(10 * time.Millisecond) {
		select {
		case a := <-done:
			t.Fatalf("first request ended before its hold was seen: %d %s", a.status, a.body)
		default:
		}
		var err error
		if _, n, err = h.ledger.Held(context.Background(), h.account); err != nil {
			t.Fatal(err)
		}
	}

	// Redis loses every key of the prefix (the server is shared: no FLUSHALL).
	keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v %v", keys, err)
	}
	if err := rdb.Del(context.Background(), keys...).Err(); err != nil {
		t.Fatal(err)
	}

	var waited int
	for {
		resp, b := h.post(body)
		if resp.StatusCode == http.StatusServiceUnavailable {
			// The window's time left, rounded up: 3 s at most.
			ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if e := decodeError(t, b); err != nil || ra < 1 || ra > 3 || e.Error.Metadata["retry_after_seconds"] != float64(ra) {
				t.Fatalf("503 without a Retry-After of 1 to 3 s: %s %v", b, resp.Header)
			}
			waited++
			time.Sleep(500 * time.Millisecond) // within the key's 10 requests a minute
			continue
		}
		if resp.StatusCode != http.StatusPaymentRequired {
			t.Fatalf("second request: %d %s, want 402 while the first holds NT$2 of NT$3", resp.StatusCode, b)
		}
		if e := decodeError(t, b); e.Error.Metadata["cause"] != "in_flight_holds" {
			t.Fatalf("402 for %v, want in_flight_holds: %s", e.Error.Metadata["cause"], b)
		}
		break
	}
	if waited == 0 {
		t.Fatal("the second request was judged on the emptied ledger")
	}
	if a := <-done; a.status != http.StatusOK {
		t.Fatalf("first request: %d %s", a.status, a.body)
	}
	h.heldSoonZero()
}
