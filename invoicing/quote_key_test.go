package invoicing

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A quote request sent again under the same key, to this service or
// another on the same store (a form resent to a second gateway), is
// answered with the one quote the first issued; another key is another
// quote.
func TestQuoteKeyIssuesOnce(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	svcs := [2]*Service{e.svc, e.newService()}
	req := QuoteRequest{Agency: "臺北市政府資訊局", Items: []domain.QuoteItem{{Name: "AI API 服務", Quantity: dec("12"), Unit: "月", UnitPrice: dec("500")}}}
	const n = 6
	got := make([]Quote, n)
	errs := concurrently(n, func(i int) error {
		r := req
		r.Key = "form-token-1"
		q, err := svcs[i%2].CreateQuote(e.ctx, r)
		got[i] = q
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if got[i].QuoteID != got[0].QuoteID {
			t.Fatalf("request %d answered with quote %s, request 0 with %s", i, got[i].QuoteID, got[0].QuoteID)
		}
	}
	other := req
	other.Key = "form-token-2"
	q2, err := e.svc.CreateQuote(e.ctx, other)
	if err != nil || q2.QuoteID == got[0].QuoteID {
		t.Fatalf("another key: %v, quote %s", err, q2.QuoteID)
	}
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if qs := fresh.Quotes(); len(qs) != 2 {
		t.Fatalf("%d quotes stored, want 2: %s", len(qs), fmt.Sprint(qs))
	}
}

// A key already used for one quote, sent with another request (other
// items, another agency), is a conflict naming that quote: the caller is
// never answered with a quote for something it did not ask.
func TestQuoteKeyWithAnotherRequestConflicts(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	req := quoteRequest()
	req.Key = "form-token-1"
	first, err := e.svc.CreateQuote(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	same := quoteRequest()
	same.Key, same.Agency = req.Key, "  "+req.Agency+" " // the agency is stored trimmed
	if q, err := e.svc.CreateQuote(e.ctx, same); err != nil || q.QuoteID != first.QuoteID {
		t.Fatalf("the same request again: %v, quote %s; want %s", err, q.QuoteID, first.QuoteID)
	}
	for name, mutate := range map[string]func(*QuoteRequest){
		"another price":  func(r *QuoteRequest) { r.Items[0].UnitPrice = dec("600") },
		"another agency": func(r *QuoteRequest) { r.Agency = "新北市政府" },
		"fewer items":    func(r *QuoteRequest) { r.Items = r.Items[:1] },
		"other days":     func(r *QuoteRequest) { r.ValidDays = 60 },
		"other remarks":  func(r *QuoteRequest) { r.Remarks = "" },
	} {
		r := quoteRequest()
		r.Key = req.Key
		mutate(&r)
		q, err := e.svc.CreateQuote(e.ctx, r)
		if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), first.QuoteID) {
			t.Errorf("%s under a used key: quote %s totalling NT$%d, %v; want a conflict naming %s", name, q.QuoteID, q.Total, err, first.QuoteID)
		}
	}
	// Equal decimals are the same request: 500 is 500.00.
	r := quoteRequest()
	r.Key = req.Key
	r.Items[0].UnitPrice = dec("500.00")
	if q, err := e.svc.CreateQuote(e.ctx, r); err != nil || q.QuoteID != first.QuoteID {
		t.Fatalf("500.00 for 500: %v, quote %s", err, q.QuoteID)
	}
}

// A request retried across Taipei midnight (its answer lost at 23:59) is
// answered with the quote issued the day before, not issued again.
func TestQuoteKeyRetriedAcrossMidnight(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 23, 59))
	req := quoteRequest()
	req.Key = "form-token-1"
	first, err := e.svc.CreateQuote(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(taipei(2026, 11, 6, 0, 1))
	again, err := e.newService().CreateQuote(e.ctx, req)
	if err != nil || again.QuoteID != first.QuoteID {
		t.Fatalf("retried after midnight: %v, quote %s; want %s", err, again.QuoteID, first.QuoteID)
	}
	if n := len(e.newServiceSynced().Quotes()); n != 1 {
		t.Fatalf("%d quotes stored, want 1", n)
	}
}

func (e *env) newServiceSynced() *Service {
	s := e.newService()
	if err := s.Sync(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	return s
}
