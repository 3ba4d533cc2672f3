package invoicing

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// A replacement carries its reason: recorded in the new quote's event and
// in the old one's withdrawal, printed on both PDFs, and read back the
// same from the history. A reason without a quote to replace is refused.
func TestAReplacementCarriesItsReason(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	old, err := e.svc.CreateQuote(e.ctx, quoteRequest())
	if err != nil {
		t.Fatal(err)
	}
	alone := quoteRequest()
	alone.Reason = "單價誤植"
	if _, err := e.svc.CreateQuote(e.ctx, alone); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "replaces") {
		t.Fatalf("a reason without replaces: %v", err)
	}
	for _, bad := range []string{strings.Repeat("錯", maxWithdrawReasonRunes+1), "單價\a錯誤"} {
		r := quoteRequest()
		r.Replaces, r.Reason = old.QuoteID, bad
		if _, err := e.svc.CreateQuote(e.ctx, r); !errors.Is(err, ErrInvalid) {
			t.Fatalf("reason %q: %v", bad, err)
		}
	}
	if q, _ := e.svc.Quote(old.QuoteID); q.Withdrawal != nil {
		t.Fatal("a refused replacement withdrew the old quote")
	}

	req := quoteRequest()
	req.Replaces, req.Reason = old.QuoteID, "  數量更正為 24 個月 "
	nq, err := e.svc.CreateQuote(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	const reason = "數量更正為 24 個月"
	o, _ := e.svc.Quote(old.QuoteID)
	if nq.ReplaceReason != reason || o.Withdrawal == nil || o.Withdrawal.Reason != reason || o.Withdrawal.ReplacedBy != nq.QuoteID {
		t.Fatalf("new quote's reason %q, old quote's withdrawal %+v", nq.ReplaceReason, o.Withdrawal)
	}
	pdftest.MustContain(t, quoteText(t, e.svc, old.QuoteID), "已由", nq.QuoteID, "撤回原因", reason)
	pdftest.MustContain(t, quoteText(t, e.svc, nq.QuoteID), "取代", old.QuoteID, "取代原因", reason)

	// The issue event itself holds the reason.
	evs, err := e.store.ReadStream(e.ctx, domain.QuoteStream(nq.QuoteID), 0, 10)
	if err != nil || len(evs) == 0 {
		t.Fatalf("reading the new quote's stream: %v", err)
	}
	var issued domain.QuoteIssued
	if err := json.Unmarshal(evs[0].Data, &issued); err != nil || issued.ReplaceReason != reason {
		t.Fatalf("the quote.issued event records reason %q (%v)", issued.ReplaceReason, err)
	}

	// Sent again, the same replacement answers with the same quote; the
	// same replacement with another reason is not the same request.
	again, err := e.svc.CreateQuote(e.ctx, req)
	if err != nil || again.QuoteID != nq.QuoteID {
		t.Fatalf("the replacement sent again: %v %s", err, again.QuoteID)
	}
	other := req
	other.Reason = "另一個原因"
	if _, err := e.svc.CreateQuote(e.ctx, other); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second replacement with another reason: %v", err)
	}

	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	b, _ := fresh.Quote(nq.QuoteID)
	ob, _ := fresh.Quote(old.QuoteID)
	if b.ReplaceReason != reason || ob.Withdrawal == nil || ob.Withdrawal.Reason != reason {
		t.Fatalf("replayed: new %q, old %+v", b.ReplaceReason, ob.Withdrawal)
	}
}
