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

// A quantity of 10,000 decimal places is refused quoting a short prefix,
// and a body over the megabyte limit is a 413, as on the console's API,
// not a 400 naming Go's "http: request body too large".
func TestInvoicingRefusesHugeNumbersAndBodies(t *testing.T) {
	srv, _ := server(t)
	r := call(t, srv, "POST", "/admin/api/quotes", "fin", `{"agency":"a","items":[{"name":"n","quantity":"1e-9999","unit":"u","unit_price":1}]}`)
	if r.status != 400 || strings.Contains(string(r.body), strings.Repeat("0", domain.MaxQuoted+1)) || len(r.body) > 2000 {
		t.Errorf("quantity 1e-9999: %d, %d bytes: %.200s", r.status, len(r.body), r.body)
	}
	big := `{"agency":"` + strings.Repeat("a", 10<<20) + `"}`
	for _, path := range []string{"/admin/api/quotes", "/admin/api/invoices/close?month=2026-11", "/admin/api/quotes/q1/withdraw"} {
		r := call(t, srv, "POST", path, "fin", big)
		var e struct{ Error wireError }
		r.json(t, &e)
		if r.status != 413 || strings.Contains(e.Error.Message, "http:") {
			t.Errorf("POST %s with 10 MB: %d %s", path, r.status, r.body)
		}
	}
}
