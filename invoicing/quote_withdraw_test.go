package invoicing

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

func quoteText(t *testing.T, svc *Service, id string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := svc.QuotePDF(&buf, id); err != nil {
		t.Fatal(err)
	}
	return pdftest.Text(t, buf.Bytes())
}

// A quote issued with a mistake is withdrawn with a reason: it can no
// longer be accepted, its PDF says so, and the history says the same
// after a replay.
func TestAWithdrawnQuoteCannotBeAccepted(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	q, err := e.svc.CreateQuote(e.ctx, quoteRequest())
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("錯", maxWithdrawReasonRunes+1), "單價\a錯誤"} {
		if _, err := e.svc.WithdrawQuote(e.ctx, q.QuoteID, bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("reason %q: %v", bad, err)
		}
	}
	if _, err := e.svc.WithdrawQuote(e.ctx, "Q-nope", "單價錯誤"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("withdrawing a missing quote: %v", err)
	}
	e.clock.Set(taipei(2026, 11, 7, 9, 0))
	w, err := e.svc.WithdrawQuote(e.ctx, q.QuoteID, "單價誤植，將重新報價")
	if err != nil {
		t.Fatal(err)
	}
	if w.Status != QuoteWithdrawn || w.Withdrawal == nil || w.Withdrawal.Reason != "單價誤植，將重新報價" {
		t.Fatalf("withdrawn: %s %+v", w.Status, w.Withdrawal)
	}
	e.clock.Set(taipei(2026, 11, 8, 9, 0))
	again, err := e.svc.WithdrawQuote(e.ctx, q.QuoteID, "another reason")
	if err != nil || again.Withdrawal.Reason != w.Withdrawal.Reason || !again.WithdrawnAt.Equal(w.WithdrawnAt) {
		t.Fatalf("withdrawing twice: %v %+v", err, again.Withdrawal)
	}
	_, err = e.svc.AcceptQuote(e.ctx, q.QuoteID, time.Time{}, 0)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "withdrawn on 2026-11-07") || !strings.Contains(err.Error(), "單價誤植") {
		t.Fatalf("accepting a withdrawn quote: %v", err)
	}
	pdftest.MustContain(t, quoteText(t, e.svc, q.QuoteID), "本報價單已於", "撤回", "單價誤植，將重新報價")

	// A quote whose contract is issued stays: the contract is named.
	acc, err := e.svc.CreateQuote(e.ctx, quoteRequest())
	if err != nil {
		t.Fatal(err)
	}
	if acc, err = e.svc.AcceptQuote(e.ctx, acc.QuoteID, time.Time{}, 0); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.WithdrawQuote(e.ctx, acc.QuoteID, "不要了")
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), acc.Contract.ContractID) {
		t.Fatalf("withdrawing an accepted quote: %v", err)
	}
	if s := quoteText(t, e.svc, acc.QuoteID); strings.Contains(s, "撤回") {
		t.Fatalf("an accepted quote's PDF says withdrawn:\n%s", s)
	}

	// Read again from the history, the statuses are the same.
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{q.QuoteID, acc.QuoteID} {
		a, _ := e.svc.Quote(id)
		b, err := fresh.Quote(id)
		if err != nil || a.Status != b.Status || (a.Withdrawal == nil) != (b.Withdrawal == nil) || !a.WithdrawnAt.Equal(b.WithdrawnAt) {
			t.Fatalf("replayed %s: %v %s/%s", id, err, a.Status, b.Status)
		}
	}
}

// A quote issued with replaces withdraws the one it replaces in the same
// step, and both PDFs say so; a refused replacement changes nothing.
func TestAQuoteReplacesAnother(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	old, err := e.svc.CreateQuote(e.ctx, quoteRequest())
	if err != nil {
		t.Fatal(err)
	}
	bad := quoteRequest()
	bad.Replaces, bad.Items = old.QuoteID, nil
	if _, err := e.svc.CreateQuote(e.ctx, bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("refused replacement: %v", err)
	}
	if q, _ := e.svc.Quote(old.QuoteID); q.Status != QuoteValid || q.Withdrawal != nil {
		t.Fatalf("a refused replacement changed the old quote: %s", q.Status)
	}
	missing := quoteRequest()
	missing.Replaces = "Q-nope"
	if _, err := e.svc.CreateQuote(e.ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Fatalf("replacing a missing quote: %v", err)
	}

	req := quoteRequest()
	req.Agency, req.Replaces = "臺北市政府資訊局資訊處", old.QuoteID
	nq, err := e.svc.CreateQuote(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := e.svc.Quote(old.QuoteID)
	if nq.Replaces != old.QuoteID || o.Status != QuoteReplaced || o.Withdrawal == nil || o.Withdrawal.ReplacedBy != nq.QuoteID {
		t.Fatalf("old %s %+v, new replaces %q", o.Status, o.Withdrawal, nq.Replaces)
	}
	pdftest.MustContain(t, quoteText(t, e.svc, old.QuoteID), "已由", nq.QuoteID, "取代")
	pdftest.MustContain(t, quoteText(t, e.svc, nq.QuoteID), "取代", old.QuoteID)
	if _, err := e.svc.AcceptQuote(e.ctx, old.QuoteID, time.Time{}, 0); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), nq.QuoteID) {
		t.Fatalf("accepting a replaced quote: %v", err)
	}

	// A quote replaced already, or accepted, is not replaced again.
	twice := quoteRequest()
	twice.Replaces = old.QuoteID
	if _, err := e.svc.CreateQuote(e.ctx, twice); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), nq.QuoteID) {
		t.Fatalf("replacing a replaced quote: %v", err)
	}
	if _, err := e.svc.AcceptQuote(e.ctx, nq.QuoteID, time.Time{}, 0); err != nil {
		t.Fatal(err)
	}
	late := quoteRequest()
	late.Replaces = nq.QuoteID
	if _, err := e.svc.CreateQuote(e.ctx, late); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "C-") {
		t.Fatalf("replacing an accepted quote: %v", err)
	}
	if n := len(e.svc.Quotes()); n != 2 {
		t.Fatalf("refused replacements issued quotes: %d quotes", n)
	}

	// The same key sent again is answered with the replacement, once.
	keyed := quoteRequest()
	keyed.Key = "k1"
	k, err := e.svc.CreateQuote(e.ctx, keyed)
	if err != nil {
		t.Fatal(err)
	}
	r := quoteRequest()
	r.Key, r.Replaces = "k2", k.QuoteID
	first, err := e.svc.CreateQuote(e.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.CreateQuote(e.ctx, r)
	if err != nil || second.QuoteID != first.QuoteID {
		t.Fatalf("retried replacement: %v %s/%s", err, first.QuoteID, second.QuoteID)
	}

	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range e.svc.Quotes() {
		b, err := fresh.Quote(q.QuoteID)
		if err != nil || b.Status != q.Status || b.Replaces != q.Replaces {
			t.Fatalf("replayed %s: %v %s/%s", q.QuoteID, err, q.Status, b.Status)
		}
	}
}

// A quote's status reads as the lists show it: valid through the day its
// PDF prints, expired after.
func TestQuoteStatusExpires(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	req := quoteRequest()
	req.ValidDays = 1
	q, err := e.svc.CreateQuote(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if q.Status != QuoteValid {
		t.Fatalf("new quote: %s", q.Status)
	}
	e.clock.Set(taipei(2026, 11, 7, 0, 0))
	if q, _ = e.svc.Quote(q.QuoteID); q.Status != QuoteExpired {
		t.Fatalf("after its day: %s", q.Status)
	}
}
