package httpapi

import (
	"strings"
	"testing"
	"time"
)

// A refused void names the live allowances and where to void them; a
// refused allowance on a voided invoice names the re-issue to run, then
// the invoice that bills the amount again. Both in metadata too.
func TestRefusedCorrectionsNameTheNextStep(t *testing.T) {
	srv, clk := server(t)
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	var al allowanceJSON
	if r := call(t, srv, "POST", "/admin/api/invoices/AB12345000/allowances", "fin", `{"amount":100,"reason":"部分退款"}`); r.status != 201 {
		t.Fatalf("allowance: %d %s", r.status, r.body)
	} else {
		r.json(t, &al)
	}
	r := call(t, srv, "POST", "/admin/api/invoices/AB12345000/void", "fin", `{"reason":"重開"}`)
	var body struct {
		Error struct {
			Code     int
			Message  string
			Metadata map[string]any
		}
	}
	r.json(t, &body)
	if r.status != 409 || body.Error.Code != 409 || body.Error.Metadata["reason"] != "live_allowances" || !strings.Contains(body.Error.Message, al.Number) ||
		body.Error.Metadata["void_endpoints"] == nil || !strings.Contains(string(r.body), "POST /allowances/"+al.Number+"/void") {
		t.Fatalf("void with a live allowance: %d %s", r.status, r.body)
	}

	// solo's invoice voided: an allowance on it names the re-issue.
	if r := call(t, srv, "POST", "/admin/api/invoices/AB12345001/void", "fin", `{"reason":"買受人資料誤植"}`); r.status != 200 {
		t.Fatalf("void: %d %s", r.status, r.body)
	}
	r = call(t, srv, "POST", "/admin/api/invoices/AB12345001/allowances", "fin", `{"amount":10,"reason":"部分退款"}`)
	body.Error.Metadata = nil
	r.json(t, &body)
	if r.status != 409 || body.Error.Code != 409 || body.Error.Metadata["reason"] != "invoice_voided" || body.Error.Metadata["reissue"] != "routefree invoices issue --account solo --month 2026-11" {
		t.Fatalf("allowance on a voided invoice: %d %s", r.status, r.body)
	}
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 200 {
		t.Fatalf("close again: %d %s", r.status, r.body)
	}
	r = call(t, srv, "POST", "/admin/api/invoices/AB12345001/allowances", "fin", `{"amount":10,"reason":"部分退款"}`)
	body.Error.Metadata = nil
	r.json(t, &body)
	if by, _ := body.Error.Metadata["billed_by"].([]any); r.status != 409 || len(by) != 1 || by[0] != "AB12345002" {
		t.Fatalf("allowance on a voided invoice after its re-issue: %d %s", r.status, r.body)
	}
	var list struct{ Invoices []invoiceJSON }
	call(t, srv, "GET", "/admin/api/invoices?month=2026-11&account=solo", "aud", "").json(t, &list)
	if len(list.Invoices) != 2 || strings.Join(list.Invoices[1].Replaces, ",") != "AB12345001" || len(list.Invoices[0].Replaces) != 0 {
		t.Fatalf("the re-issue does not name the invoice it replaces: %+v", list.Invoices)
	}
}

// An allowance on an invoice whose buyer has no 統一編號, asked before its
// period is filed, is refused with 409: the invoice is voided and issued
// again then (統一發票使用辦法 §20). The answer names the void endpoint, the
// re-issue and the day from which an allowance is taken; a B2B invoice
// takes its allowance the same day.
func TestAB2CAllowanceBeforeFilingNamesTheVoidAndReissue(t *testing.T) {
	srv, clk := server(t)
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	r := call(t, srv, "POST", "/admin/api/invoices/AB12345001/allowances", "fin", `{"amount":10,"reason":"部分退款"}`)
	var body struct {
		Error struct {
			Code     int
			Message  string
			Metadata map[string]any
		}
	}
	r.json(t, &body)
	md := body.Error.Metadata
	if r.status != 409 || body.Error.Code != 409 || md["reason"] != "b2c_void_window_open" ||
		md["last_void_day"] != "2027-01-15" || md["allowance_from"] != "2027-01-16" ||
		md["void_endpoint"] != "POST /invoices/AB12345001/void" || md["reissue"] != "routefree invoices issue --account solo --month 2026-11" ||
		md["void_less"] == nil || !strings.Contains(body.Error.Message, "統一編號") {
		t.Fatalf("allowance on a B2C invoice before filing: %d %s", r.status, r.body)
	}
	if r := call(t, srv, "POST", "/admin/api/invoices/AB12345000/allowances", "fin", `{"amount":10,"reason":"部分退款"}`); r.status != 201 {
		t.Fatalf("allowance on a B2B invoice: %d %s", r.status, r.body)
	}
	clk.Set(time.Date(2027, 1, 16, 0, 0, 0, 0, cst))
	if r := call(t, srv, "POST", "/admin/api/invoices/AB12345001/allowances", "fin", `{"amount":10,"reason":"部分退款"}`); r.status != 201 {
		t.Fatalf("allowance on the B2C invoice once filed: %d %s", r.status, r.body)
	}
}

// The void that takes an amount off the re-issue, through the admin API:
// "less" in its body, answered as "void_less"; the re-issue answers what
// it carries as "less". Too much is a 400.
func TestAVoidTakesAnAmountOffTheReissueThroughTheAPI(t *testing.T) {
	srv, clk := server(t)
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	if r := call(t, srv, "POST", "/admin/api/invoices/AB12345001/void", "fin", `{"reason":"折讓改作廢重開","less":999999}`); r.status != 400 {
		t.Fatalf("void taking too much off: %d %s", r.status, r.body)
	}
	var v invoiceJSON
	if r := call(t, srv, "POST", "/admin/api/invoices/AB12345001/void", "fin", `{"reason":"折讓改作廢重開","less":"5"}`); r.status != 200 {
		t.Fatalf("void: %d %s", r.status, r.body)
	} else {
		r.json(t, &v)
	}
	if v.VoidLess != 5 {
		t.Fatalf("voided invoice %+v", v)
	}
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", ""); r.status != 200 {
		t.Fatalf("close again: %d %s", r.status, r.body)
	}
	var list struct{ Invoices []invoiceJSON }
	call(t, srv, "GET", "/admin/api/invoices?month=2026-11&account=solo", "aud", "").json(t, &list)
	if len(list.Invoices) != 2 || list.Invoices[1].Less != 5 || list.Invoices[1].Total != list.Invoices[0].Total-5 {
		t.Fatalf("the re-issue: %+v", list.Invoices)
	}
}
