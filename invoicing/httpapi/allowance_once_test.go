package httpapi

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// An allowance POSTed again with the same Idempotency-Key (a client
// retrying after a lost answer) is answered with the allowance the first
// issued, and the invoice is allowed once; the key with another amount is
// a 409; keys are each staff token's own.
func TestAllowanceIdempotencyKey(t *testing.T) {
	srv, clk := server(t)
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	post := func(token, key, body string) reply {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/admin/api/invoices/AB12345000/allowances", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return reply{res.StatusCode, res.Header, b}
	}
	number := func(r reply) string {
		t.Helper()
		var a allowanceJSON
		r.json(t, &a)
		return a.Number
	}
	first := post("fin", "retry-me", `{"amount":100,"reason":"服務中斷"}`)
	if first.status != http.StatusCreated {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	again := post("fin", "retry-me", `{"amount":100,"reason":"服務中斷"}`)
	if again.status != http.StatusCreated || number(again) != number(first) {
		t.Fatalf("again: %d %s; want allowance %s answered again", again.status, again.body, number(first))
	}
	if r := post("fin", "retry-me", `{"amount":200,"reason":"服務中斷"}`); r.status != http.StatusConflict || !strings.Contains(string(r.body), number(first)) {
		t.Fatalf("the key with another amount: %d %s; want 409 naming %s", r.status, r.body, number(first))
	}
	if r := post("fin2", "retry-me", `{"amount":100,"reason":"服務中斷"}`); r.status != http.StatusCreated || number(r) == number(first) {
		t.Fatalf("another token's key: %d %s; want an allowance of its own", r.status, r.body)
	}
	var list struct{ Invoices []invoiceJSON }
	call(t, srv, "GET", "/admin/api/invoices?month=2026-11&account=acme", "aud", "").json(t, &list)
	if len(list.Invoices) != 1 || len(list.Invoices[0].Allowances) != 2 {
		t.Fatalf("invoices %+v; want one with 2 allowances (the key's and the other token's)", list.Invoices)
	}
}
