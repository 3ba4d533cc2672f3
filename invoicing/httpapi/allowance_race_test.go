package httpapi

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// Concurrent allowance requests on one invoice: each 201 answers with the
// request's own allowance, and the invoice holds exactly those answered.
func TestConcurrentAllowancesOverHTTP(t *testing.T) {
	srv, clk := server(t)
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	amounts := []int64{10, 200, 30, 45, 700, 800, 900, 1000} // NT$2,100 invoice: not all fit
	replies := make([]reply, len(amounts))
	var wg sync.WaitGroup
	for i, amt := range amounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = call(t, srv, "POST", "/admin/api/invoices/AB12345000/allowances", "fin",
				fmt.Sprintf(`{"amount":%d,"reason":"refund %d"}`, amt, amt))
		}()
	}
	wg.Wait()
	answered := map[string]allowanceJSON{}
	for i, r := range replies {
		if r.status != 201 {
			if r.status != 400 || r.errorCode(t) != "invalid_request" {
				t.Errorf("NT$%d: %d %s", amounts[i], r.status, r.body)
			}
			continue
		}
		var al allowanceJSON
		r.json(t, &al)
		if al.Sales+al.Tax != amounts[i] || al.Reason != fmt.Sprintf("refund %d", amounts[i]) {
			t.Errorf("NT$%d answered with %s", amounts[i], r.body)
		}
		if _, dup := answered[al.Number]; dup {
			t.Errorf("allowance %s answered twice", al.Number)
		}
		answered[al.Number] = al
	}
	var list struct{ Invoices []invoiceJSON }
	call(t, srv, "GET", "/admin/api/invoices?month=2026-11&account=acme", "aud", "").json(t, &list)
	stored := list.Invoices[0].Allowances
	if len(stored) != len(answered) {
		t.Fatalf("%d allowances stored, %d answered 201", len(stored), len(answered))
	}
	var sum int64
	for _, s := range stored {
		a, ok := answered[s.Number]
		if !ok || a.Sales != s.Sales || a.Tax != s.Tax || a.Reason != s.Reason {
			t.Errorf("stored %+v, answered %+v", s, a)
		}
		sum += s.Sales + s.Tax
	}
	if sum > 2100 {
		t.Fatalf("allowances total NT$%d on a NT$2,100 invoice", sum)
	}
}
