package httpapi

import (
	"strings"
	"testing"
	"time"
)

// The close takes its month from the JSON body, as every other change of
// this API takes its fields, or from ?month=; without one it says where
// to give it, and two different months are refused rather than one of
// them closed. Each refusal issues nothing.
func TestCloseTakesItsMonthFromTheBodyOrTheQuery(t *testing.T) {
	srv, clk := server(t)
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	for _, bad := range []struct{ path, body, says string }{
		{"/admin/api/invoices/close", "", "?month=YYYY-MM"},
		{"/admin/api/invoices/close", `{}`, `{"month":"YYYY-MM"}`},
		{"/admin/api/invoices/close?month=2026-10", `{"month":"2026-11"}`, "2026-10"},
		{"/admin/api/invoices/close", `{"month":11}`, "month must be"},
	} {
		r := call(t, srv, "POST", bad.path, "fin", bad.body)
		var e struct{ Error wireError }
		r.json(t, &e)
		if r.status != 400 || e.Error.Code != 400 || e.Error.Metadata["reason"] != "invalid_request" || !strings.Contains(e.Error.Message, bad.says) {
			t.Errorf("close %s %s: %d %s, want a 400 saying %q", bad.path, bad.body, r.status, r.body, bad.says)
		}
	}
	if r := call(t, srv, "GET", "/admin/api/invoices?month=2026-11", "aud", ""); !strings.Contains(string(r.body), `"total":0`) {
		t.Fatalf("a refused close issued invoices: %s", r.body)
	}

	r := call(t, srv, "POST", "/admin/api/invoices/close", "fin", `{"month":"2026-11"}`)
	var rep struct {
		Month  string `json:"month"`
		Issued []struct {
			AccountID string `json:"account_id"`
		} `json:"issued"`
	}
	r.json(t, &rep)
	if r.status != 200 || rep.Month != "2026-11" || len(rep.Issued) != 2 {
		t.Fatalf("close with the month in its body: %d %s", r.status, r.body)
	}
	// The same month in both places is the same close: nothing new.
	r = call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", `{"month":"2026-11"}`)
	r.json(t, &rep)
	if r.status != 200 || len(rep.Issued) != 0 {
		t.Fatalf("the close run again: %d %s", r.status, r.body)
	}
}
