package httpapi

import (
	"strings"
	"testing"
	"time"
)

// POST /invoices/{number}/void records the tax office's special void
// (專案作廢) with special_approval and approved_on: only past the void
// window, which a late void's refusal says; within it the refusal points
// to the normal void. The invoice then lists as voided with its approval.
func TestSpecialVoidThroughTheAPI(t *testing.T) {
	srv, clk := server(t)
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	special := `{"reason":"買受人錯誤","special_approval":"北區國稅審字第1160001234號","approved_on":"2027-02-18"}`

	// Within the window: a normal void is the way.
	clk.Set(time.Date(2027, 1, 15, 9, 0, 0, 0, cst))
	r := call(t, srv, "POST", "/admin/api/invoices/AB12345000/void", "fin",
		`{"reason":"買受人錯誤","special_approval":"北區國稅審字第1160001234號","approved_on":"2027-01-15"}`)
	var body struct {
		Error struct {
			Code     int
			Message  string
			Metadata map[string]any
		}
	}
	r.json(t, &body)
	if r.status != 409 || body.Error.Code != 409 || body.Error.Metadata["reason"] != "void_window_open" || body.Error.Metadata["last_void_day"] != "2027-01-15" ||
		!strings.Contains(body.Error.Message, "can still be voided") {
		t.Fatalf("a special void within the window: %d %s", r.status, r.body)
	}

	// Past it, a normal void's refusal names the special void's fields.
	clk.Set(time.Date(2027, 2, 20, 10, 0, 0, 0, cst))
	r = call(t, srv, "POST", "/admin/api/invoices/AB12345000/void", "fin", `{"reason":"買受人錯誤"}`)
	body.Error.Metadata = nil
	r.json(t, &body)
	if r.status != 409 || body.Error.Code != 409 || body.Error.Metadata["reason"] != "void_window_closed" || !strings.Contains(toString(body.Error.Metadata["special_void"]), "special_approval") {
		t.Fatalf("a late void: %d %s", r.status, r.body)
	}
	for _, bad := range []string{
		`{"reason":"買受人錯誤","approved_on":"2027-02-18"}`,
		`{"reason":"買受人錯誤","special_approval":"審字\u0007第1號","approved_on":"2027-02-18"}`,
		`{"reason":"買受人錯誤","special_approval":"` + strings.Repeat("字", 61) + `","approved_on":"2027-02-18"}`,
		`{"reason":"買受人錯誤","special_approval":"審字第1號","approved_on":"18/02/2027"}`,
		`{"reason":"買受人錯誤","special_approval":"審字第1號"}`,
	} {
		r := call(t, srv, "POST", "/admin/api/invoices/AB12345000/void", "fin", bad)
		if r.status != 400 || r.errorCode(t) != "invalid_request" || len(r.body) > 600 {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
	if r := call(t, srv, "POST", "/admin/api/invoices/AB12345000/void", "aud", special); r.status != 403 {
		t.Fatalf("an auditor's special void: %d %s", r.status, r.body)
	}

	var inv invoiceJSON
	r = call(t, srv, "POST", "/admin/api/invoices/AB12345000/void", "fin", special)
	r.json(t, &inv)
	if r.status != 200 || inv.Status != "voided" || inv.Net != 0 || inv.SpecialVoid == nil ||
		inv.SpecialVoid.Approval != "北區國稅審字第1160001234號" || inv.SpecialVoid.ApprovedOn != "2027-02-18" {
		t.Fatalf("special void: %d %s", r.status, r.body)
	}
	var list struct{ Invoices []invoiceJSON }
	call(t, srv, "GET", "/admin/api/invoices?month=2026-11&account=acme", "aud", "").json(t, &list)
	if len(list.Invoices) != 1 || list.Invoices[0].Status != "voided" || list.Invoices[0].SpecialVoid == nil {
		t.Fatalf("the list: %+v", list.Invoices)
	}
}

func toString(v any) string { s, _ := v.(string); return s }
