package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Credit given to a postpaid account whose monthly invoice is still owed
// does not forgive what the invoice bills (docs/invoicing-ledger.md): the
// console's adjustment form says so before recording it, naming the
// allowance to issue, and the admin API's answer carries the same,
// whichever way finance records it. The allowance, issued after the
// credit, is paid by it: nothing is left offset.
func TestCreditOnAnInvoiceStillOwedNamesTheAllowanceInTheConsole(t *testing.T) {
	e := newEnv(t, false)
	e.febUsage("acct_gw", "補償測試股份有限公司", "1000")
	svc := e.closeFebruary()
	number := onlyInvoice(t, e.ledger(), "acct_gw").Number

	b := e.browser()
	csrf := b.signIn(e.finance)
	path := "/console/accounts/acct_gw/adjustments"
	resp, page := b.post(path, url.Values{"csrf": {csrf}, "amount": {"200"}, "reason": {"goodwill"}})
	if resp.StatusCode != http.StatusOK || len(elementsByID(t, page, "confirm-step")) != 1 {
		t.Fatalf("the adjustment form: %d, want its confirmation step", resp.StatusCode)
	}
	text := visibleText(t, page)
	if !strings.Contains(page, `data-warning="adjust.offset"`) || !strings.Contains(text, "折讓") ||
		!strings.Contains(text, "NT$200.00") || !strings.Contains(text, number) {
		t.Fatalf("the confirmation of credit on an invoice still owed does not name the allowance of NT$200 on %s:\n%s", number, text)
	}
	// A refund offsets nothing: no warning.
	_, page = b.post(path, url.Values{"csrf": {csrf}, "amount": {"-10"}, "reason": {"refund"}})
	if strings.Contains(page, `data-warning="adjust.offset"`) {
		t.Fatal("a negative adjustment is warned of offsetting invoiced usage")
	}

	code, body := e.call("POST", "/admin/api/accounts/acct_gw/adjustments", e.finance, map[string]any{"amount": "300", "reason": "goodwill"})
	var answer struct {
		Offset *struct {
			ToAllow  int64    `json:"to_allow_ntd"`
			Owed     string   `json:"owed"`
			Invoices []string `json:"invoices"`
			Next     string   `json:"next"`
			Message  string   `json:"message"`
		} `json:"credit_offset"`
	}
	if code != http.StatusCreated || json.Unmarshal(body, &answer) != nil || answer.Offset == nil {
		t.Fatalf("the API's adjustment: %d %s, want credit_offset", code, body)
	}
	if o := answer.Offset; o.ToAllow != 300 || o.Owed != "1000" || len(o.Invoices) != 1 || !strings.HasSuffix(o.Invoices[0], number) ||
		!strings.Contains(o.Next, "routefree invoices allowance --number "+number+" --amount 300") || !strings.Contains(o.Message, "allowance") {
		t.Fatalf("the API's credit_offset: %+v", *o)
	}

	// The invoices page lists it, as the reconciliation does.
	_, page = b.get("/console/invoices?month=2026-02")
	rows := elements(t, page, "tr", "data-to-allow")
	if len(elementsByID(t, page, "credit-offsets")) != 1 || len(rows) != 1 || rows[0]["data-account"] != "acct_gw" || rows[0]["data-to-allow"] != "300" {
		t.Fatalf("the invoices page's credit offsetting invoiced usage: %v", rows)
	}

	if _, err := svc.IssueAllowance(e.ctx, number, 300, "服務中斷補償"); err != nil {
		t.Fatal(err)
	}
	e.sync()
	rec, err := e.ledger().Reconcile(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Offsets) != 0 {
		t.Fatalf("after the allowance, credit still offsets invoiced usage: %+v", rec.Offsets)
	}
	if _, page = b.get("/console/invoices?month=2026-02"); len(elementsByID(t, page, "credit-offsets")) != 0 {
		t.Fatal("the invoices page lists credit offsetting invoiced usage after its allowance")
	}
}
