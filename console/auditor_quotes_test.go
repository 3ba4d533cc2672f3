package console

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
)

// The role table gives auditors every quote to read, but the quotes pages
// answered them 403: an auditor could fetch a quote's PDF only by knowing
// its ID. They now list and open quotes, without the builder.
func TestAuditorsReadTheQuotes(t *testing.T) {
	e := newEnv(t, false)
	svc := e.deps.Invoices.(*invoicing.Service)
	q, err := svc.CreateQuote(e.ctx, invoicing.QuoteRequest{Agency: "臺北市政府資訊局",
		Items: []domain.QuoteItem{{Name: "AI API 服務", Quantity: decimal.NewFromInt(12), Unit: "月", UnitPrice: decimal.NewFromInt(10000)}}})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn(e.auditor)
	for _, path := range []string{"/console/quotes", "/console/quotes/" + q.QuoteID} {
		resp, page := b.get(path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("auditor on %s: %d", path, resp.StatusCode)
		}
		if !strings.Contains(page, q.QuoteID) {
			t.Errorf("%s does not list quote %s", path, q.QuoteID)
		}
		if strings.Contains(page, `id="quote-form"`) {
			t.Errorf("%s offers an auditor the quote builder", path)
		}
	}
	if _, inv := b.get("/console/invoices"); !strings.Contains(inv, `href="/console/quotes"`) {
		t.Error("the auditor's navigation has no link to the quotes")
	}
	resp, _ := b.post("/console/quotes", map[string][]string{"agency": {"X"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an auditor's quote form: %d, want 403", resp.StatusCode)
	}
	// Finance still builds them.
	f := e.browser()
	f.signIn(e.finance)
	if _, page := f.get("/console/quotes"); !strings.Contains(page, `id="quote-form"`) {
		t.Error("finance lost the quote builder")
	}
}
