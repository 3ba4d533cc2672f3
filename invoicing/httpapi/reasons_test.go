package httpapi

import (
	"strings"
	"testing"
	"time"
)

// Reasons the MIG messages or the documents could not carry are refused
// with 400 before anything is recorded, naming the limit or the characters.
func TestReasonsRefusedWith400(t *testing.T) {
	srv, clk := server(t)
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	r := call(t, srv, "POST", "/admin/api/invoices/AB12345000/allowances", "fin", `{"amount":100,"reason":"服務中斷補償"}`)
	var al allowanceJSON
	r.json(t, &al)
	if r.status != 201 {
		t.Fatalf("allowance: %d %s", r.status, r.body)
	}
	long := `{"reason":"` + strings.Repeat("誤", 21) + `"}`
	for _, c := range []struct{ path, body, want string }{
		{"/admin/api/invoices/AB12345001/void", long, "at most 20 characters"},
		{"/admin/api/allowances/" + al.Number + "/void", long, "at most 20 characters"},
		{"/admin/api/invoices/AB12345001/void", `{"reason":"堃記誤植"}`, "U+5803"},
		{"/admin/api/allowances/" + al.Number + "/void", `{"reason":"堃記誤植"}`, "U+5803"},
		{"/admin/api/invoices/AB12345000/allowances", `{"amount":5,"reason":"退款 堃 😀"}`, "U+1F600"},
	} {
		r := call(t, srv, "POST", c.path, "fin", c.body)
		if r.status != 400 || r.errorCode(t) != "invalid_request" || !strings.Contains(string(r.body), c.want) {
			t.Errorf("POST %s %s: %d %s, want 400 naming %q", c.path, c.body, r.status, r.body, c.want)
		}
	}
	// Nothing was recorded: the exports hold no void, and one allowance.
	for _, m := range []string{"F0501", "G0501"} {
		r := call(t, srv, "GET", "/admin/api/invoices/export?period=2026-11&message="+m, "aud", "")
		if r.status != 200 || strings.Contains(string(r.body), m+"_") {
			t.Errorf("%s export after refusals: %d, %d bytes", m, r.status, len(r.body))
		}
	}
	var list struct{ Invoices []invoiceJSON }
	call(t, srv, "GET", "/admin/api/invoices?month=2026-11&account=acme", "aud", "").json(t, &list)
	if len(list.Invoices) != 1 || len(list.Invoices[0].Allowances) != 1 {
		t.Fatalf("after refusals: %+v", list.Invoices)
	}
}
