package httpapi

import (
	"strings"
	"testing"
	"time"
)

// A body that reads one way to a reviewer and another to the decoder (a
// key given twice, in any letter case, or a second value after the first)
// is a 400, and nothing is issued.
func TestBodiesSayOneThing(t *testing.T) {
	srv, clk := server(t)
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	for _, bad := range []string{
		`{"amount":"21","reason":"x","amount":"2100"}`,
		`{"amount":"21","reason":"x","Amount":"2100"}`,
		`{"amount":"21","reason":"x"} {"amount":"2100"}`,
		`{"amount":"21","reason":"x"} trailing`,
	} {
		r := call(t, srv, "POST", "/admin/api/invoices/AB12345000/allowances", "fin", bad)
		if r.status != 400 || !strings.Contains(string(r.body), "given twice") && !strings.Contains(string(r.body), "follows the JSON value") {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
	// The invoice still bills its whole amount: no refused body took any.
	if r := call(t, srv, "POST", "/admin/api/invoices/AB12345000/allowances", "fin", `{"amount":"21","reason":"x"}`+"\n"); r.status != 201 {
		t.Fatalf("a plain allowance: %d %s", r.status, r.body)
	}
}
