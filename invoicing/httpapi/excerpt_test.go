package httpapi

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
)

// A refusal of the invoicing API quotes at most a short prefix of what it
// refuses: a 10,000-digit number or a 100 kB string in a field, a query
// parameter or a path is not echoed back whole.
func TestInvoicingRefusalsQuoteAShortPrefix(t *testing.T) {
	srv, clk := server(t)
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	for _, typed := range []string{strings.Repeat("9", 10000), strings.Repeat("7", 100000)} {
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/admin/api/invoices/AB12345000/allowances", `{"amount":%s,"reason":"x"}`},
			{"POST", "/admin/api/invoices/AB12345000/allowances", `{"amount":"%s","reason":"x"}`},
			{"POST", "/admin/api/quotes", `{"agency":"a","items":[{"name":"n","quantity":1,"unit":"u","unit_price":1}],"valid_days":%s}`},
			{"POST", "/admin/api/quotes", `{"agency":"a","items":[{"name":"n","quantity":1,"unit":"u","unit_price":1}],"plan":"%s"}`},
			{"POST", "/admin/api/quotes", `{"agency":"a","agency_tax_id":"%s","items":[{"name":"n","quantity":1,"unit":"u","unit_price":1}]}`},
			{"POST", "/admin/api/invoices/close", `{"month":"%s"}`},
			{"POST", "/admin/api/invoices/close?month=2026-11", `{"month":"%s"}`},
			{"GET", "/admin/api/invoices/export?message=%s&period=2026-11", ""},
			{"GET", "/admin/api/invoices/export?message=F0401&period=%s", ""},
			{"GET", "/admin/api/invoices/%s/pdf", ""},
			{"POST", "/admin/api/quotes/q1/accept", `{"start":"%s"}`},
		} {
			path, body := c.path, c.body
			if body == "" {
				path = fmt.Sprintf(path, url.PathEscape(typed))
			} else {
				body = fmt.Sprintf(body, typed)
			}
			r := call(t, srv, c.method, path, "fin", body)
			if r.status < 400 || r.status >= 500 || strings.Contains(string(r.body), typed[:domain.MaxQuoted+1]) || len(r.body) > 2000 {
				t.Errorf("%s %.60s %.80s: %d, %d bytes: %.200s", c.method, c.path, c.body, r.status, len(r.body), r.body)
			}
		}
	}
}
