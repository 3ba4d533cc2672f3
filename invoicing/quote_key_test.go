package invoicing

import (
	"fmt"
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
