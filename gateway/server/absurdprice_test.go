package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/internal/testenv"
)

// A price list recorded before prices had a bound may price a model so
// high that a request's credit hold is past what the ledger holds. The
// request is refused for good (402, naming the model's price) before any
// upstream call, nothing held, rather than answered with a retryable 503.
func TestAbsurdPriceInHistoryIsRefusedNotRetryable(t *testing.T) {
	ledgers := map[string]func(t *testing.T) admission.Ledger{
		"memory": func(*testing.T) admission.Ledger { return admission.NewMemoryLedger(admission.LedgerOptions{}) },
		"redis": func(t *testing.T) admission.Ledger {
			c, prefix := testenv.Redis(t)
			return admission.NewRedisLedger(c, prefix, admission.LedgerOptions{})
		},
	}
	for name, ledger := range ledgers {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{ledger: ledger(t)})
			// As old history holds it: appended as it was, past today's checks.
			absurd := domain.ModelPrice{Input: decimal.RequireFromString("1e16"), Output: decimal.NewFromInt(20), CachedInput: decimal.NewFromInt(5)}
			pl := &domain.PriceListPublished{Version: 2, EffectiveAt: time.Now().Add(-30 * time.Minute).UTC(), Replace: true,
				Prices: map[string]domain.ModelPrice{"test/openai": absurd, "test/anthropic": defaultPrice(), "test/gemini": defaultPrice()}}
			d, err := commands.Event(domain.EventID(domain.TypePriceListPublished, "2"), time.Now(), pl)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.store.Append(context.Background(), domain.PriceListStream, eventstore.Any(), d); err != nil {
				t.Fatal(err)
			}
			h.catchUp()

			for _, stream := range []bool{false, true} {
				resp, b := h.post(chatBody("test/openai", 100, stream))
				if resp.StatusCode != http.StatusPaymentRequired {
					t.Fatalf("stream=%v: %d %s, want 402", stream, resp.StatusCode, b)
				}
				e := decodeError(t, b)
				if e.Error.Code != http.StatusPaymentRequired || e.Error.Metadata["model"] != "test/openai" ||
					e.Error.Metadata["input_price"] != "10000000000000000" || !strings.Contains(e.Error.Message, "test/openai") {
					t.Errorf("stream=%v: error %+v", stream, e.Error)
				}
				if resp.Header.Get("Retry-After") != "" {
					t.Errorf("stream=%v: Retry-After %q on a refusal that retrying cannot change", stream, resp.Header.Get("Retry-After"))
				}
			}
			h.noneCalled()
			h.heldIsZero()
			for _, f := range h.waitFailed(2) {
				if f.Status != http.StatusPaymentRequired {
					t.Errorf("request.failed status %d, want 402", f.Status)
				}
			}
			// The other models still answer.
			if resp, b := h.post(chatBody("test/anthropic", 100, false)); resp.StatusCode != http.StatusOK {
				t.Fatalf("test/anthropic: %d %s", resp.StatusCode, b)
			}
		})
	}
}
