package httpapi

import (
	"testing"
	"time"

	"github.com/routefree/routefree/console/headers"
)

// Every answer of the invoicing API, PDFs and refusals included, carries
// the console's security headers and is never cached.
func TestSecurityHeadersAndNoStore(t *testing.T) {
	srv, clk := server(t)
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	cases := []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/admin/api/invoices", "fin", 200},
		{"GET", "/admin/api/invoices/AB12345000/pdf", "fin", 200},
		{"GET", "/admin/api/invoices/AB12345000/pdf", "aud", 200},
		{"GET", "/admin/api/invoices/export?period=2026-11", "fin", 200},
		{"GET", "/admin/api/invoices/AB99999999/pdf", "fin", 404},
		{"GET", "/admin/api/invoices", "", 401},
		{"POST", "/admin/api/invoices/close?month=2026-11", "aud", 403},
		{"GET", "/api/v1/invoices", "acme", 200},
		{"GET", "/api/v1/invoices/AB12345000/pdf", "acme", 200},
		{"GET", "/api/v1/invoices/AB12345000/pdf", "other", 404},
		{"GET", "/api/v1/invoices", "", 401},
	}
	for _, c := range cases {
		r := call(t, srv, c.method, c.path, c.token, "")
		if r.status != c.want {
			t.Errorf("%s %s as %q: %d, want %d", c.method, c.path, c.token, r.status, c.want)
		}
		for h, want := range map[string]string{"Content-Security-Policy": headers.ContentSecurityPolicy,
			"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
			if got := r.header.Get(h); got != want {
				t.Errorf("%s %s as %q (%d): %s = %q, want %q", c.method, c.path, c.token, r.status, h, got, want)
			}
		}
	}
}
