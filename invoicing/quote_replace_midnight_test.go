package invoicing

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// cutOffStore fails the next append of a quote (a process killed, a disk
// full) once armed, after whatever was appended before it in the same call.
type cutOffStore struct {
	eventstore.Store
	armed bool
}

var errCutOff = errors.New("cut off")

func (s *cutOffStore) Append(ctx context.Context, stream string, exp eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if s.armed && len(events) > 0 && events[0].Type == domain.TypeQuoteIssued {
		s.armed = false
		return eventstore.AppendResult{}, errCutOff
	}
	return s.Store.Append(ctx, stream, exp, events...)
}

// A replacement cut off on New Year's Eve between the old quote's
// withdrawal (which names the replacement) and the replacement itself, and
// sent again after Taipei midnight: the replacement is issued under the
// name the withdrawal gives, so that the withdrawn quote's PDF names a
// quote that exists, and the replacement is not refused for a quote that
// was never issued. The same with an API client's Idempotency-Key.
func TestAReplacementCutOffBeforeMidnightIsIssuedWhenSentAgain(t *testing.T) {
	for _, key := range []string{"", "api-quote\x00retry-1"} {
		name := "form"
		if key != "" {
			name = "keyed"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, taipei(2026, 12, 20, 10, 0))
			old, err := e.svc.CreateQuote(e.ctx, quoteRequest())
			if err != nil {
				t.Fatal(err)
			}
			cut := &cutOffStore{Store: e.store}
			svc, err := New(cut, Config{Seller: DevSeller(), Now: e.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			req := quoteRequest()
			req.Agency, req.Replaces, req.Reason, req.Key = "臺北市政府資訊局資訊處", old.QuoteID, "機關名稱更正", key

			e.clock.Set(taipei(2026, 12, 31, 23, 59))
			cut.armed = true
			if _, err := svc.CreateQuote(e.ctx, req); !errors.Is(err, errCutOff) {
				t.Fatalf("the cut-off replacement: %v", err)
			}
			o, err := svc.Quote(old.QuoteID)
			if err != nil || o.Withdrawal == nil {
				t.Fatalf("the old quote after the cut: %+v %v", o.Withdrawal, err)
			}
			named := o.Withdrawal.ReplacedBy

			e.clock.Set(taipei(2027, 1, 1, 0, 1))
			// Its PDF prints the withdrawal's reason: another one is refused.
			other := req
			other.Reason, other.Key = "另案重新報價", ""
			if _, err := svc.CreateQuote(e.ctx, other); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "機關名稱更正") {
				t.Fatalf("a replacement with another reason: %v", err)
			}
			nq, err := svc.CreateQuote(e.ctx, req)
			if err != nil {
				t.Fatalf("the replacement sent again after midnight: %v", err)
			}
			if nq.QuoteID != named || nq.Replaces != old.QuoteID || nq.ReplaceReason != "機關名稱更正" {
				t.Fatalf("replacement %s (replaces %s, %q); the withdrawal names %s", nq.QuoteID, nq.Replaces, nq.ReplaceReason, named)
			}
			// Sent once more: the key's quote; without a key, the quote is
			// replaced already, by the replacement named.
			again, err := svc.CreateQuote(e.ctx, req)
			if key != "" && (err != nil || again.QuoteID != named) ||
				key == "" && (!errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), named)) {
				t.Fatalf("sent a third time: %s %v", again.QuoteID, err)
			}
			if n := len(svc.Quotes()); n != 2 {
				t.Fatalf("%d quotes, want the old one and its replacement", n)
			}
			// The withdrawn quote names a replacement that exists, dated
			// when it was issued.
			pdftest.MustContain(t, quoteText(t, svc, old.QuoteID), "已由", named, "取代")
			pdftest.MustContain(t, quoteText(t, svc, named), "取代", old.QuoteID, "中華民國116年1月1日")
			if o, _ := svc.Quote(old.QuoteID); o.Status != QuoteReplaced {
				t.Fatalf("the old quote is %s", o.Status)
			}
		})
	}
}
