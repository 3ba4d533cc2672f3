package httpapi

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// A number issued again a year later: ?period= names each invoice, the
// links of a reused number carry it, the bare number is a conflict for
// staff, and a customer's bare number is its own invoice.
func TestReusedNumberNamedByPeriod(t *testing.T) {
	srv, clk, svc, store := serverWith(t, 12345000, 12345999)
	ctx := context.Background()
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	if _, err := svc.Close(ctx, "2026-11", invoicing.CloseOptions{}); err != nil { // acme AB12345000, solo AB12345001
		t.Fatal(err)
	}
	clk.Set(time.Date(2027, 11, 1, 9, 0, 0, 0, cst))
	if err := svc.AssignRange(ctx, "2027-11", "AB", 12345000, 12345999); err != nil {
		t.Fatal(err)
	}
	rc := &domain.RequestCompleted{RequestID: "solo-2027", AccountID: "solo", Model: "gpt-4o", Cost: decimal.NewFromInt(525),
		Usage: domain.Usage{Input: 1000, Output: 100}, StartedAt: time.Date(2027, 11, 10, 3, 0, 0, 0, time.UTC)}
	d, _ := commands.Event(domain.EventID("req", rc.RequestID), rc.StartedAt, rc)
	if _, err := store.Append(ctx, domain.UsageStream("solo"), eventstore.Any(), d); err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Date(2027, 12, 1, 2, 0, 0, 0, cst))
	if _, err := svc.Close(ctx, "2027-11", invoicing.CloseOptions{}); err != nil { // solo AB12345000 of 2027-11
		t.Fatal(err)
	}

	var list struct{ Invoices []invoiceJSON }
	call(t, srv, "GET", "/admin/api/invoices?account=acme", "aud", "").json(t, &list)
	if len(list.Invoices) != 1 || list.Invoices[0].PDF != "/admin/api/invoices/AB12345000/pdf?period=2026-11" {
		t.Fatalf("acme's list: %+v", list.Invoices)
	}
	if r := call(t, srv, "GET", "/admin/api/invoices/AB12345000/pdf", "aud", ""); r.status != 409 {
		t.Errorf("the bare reused number: %d %s", r.status, r.body)
	}
	r := call(t, srv, "GET", list.Invoices[0].PDF, "aud", "")
	isPDF(t, r)
	pdftest.MustContain(t, pdftest.Text(t, r.body), "115年11-12月", "22099131", "2,100")
	if r := call(t, srv, "GET", "/admin/api/invoices/AB12345000/pdf?period=2026-12", "aud", ""); r.status != 400 {
		t.Errorf("an even month as period: %d %s", r.status, r.body)
	}

	// The allowance goes to the invoice the period names.
	r = call(t, srv, "POST", "/admin/api/invoices/AB12345000/allowances?period=2026-11", "fin", `{"amount":210,"reason":"服務中斷"}`)
	var al allowanceJSON
	r.json(t, &al)
	if r.status != 201 || al.InvoiceNumber != "AB12345000" || al.Number[:5] != "11512" {
		t.Fatalf("allowance: %d %s", r.status, r.body)
	}
	if inv, err := svc.Invoice("2026-11-AB12345000"); err != nil || inv.AccountID != "acme" || inv.Net() != 1890 {
		t.Fatalf("acme's invoice after the allowance: %+v %v", inv.InvoiceIssued, err)
	}
	if inv, _ := svc.Invoice("2027-11-AB12345000"); len(inv.Allowances) != 0 {
		t.Errorf("solo's 2027 invoice took the allowance: %+v", inv.Allowances)
	}

	// Customers: the bare number is their own invoice.
	r = call(t, srv, "GET", "/api/v1/invoices/AB12345000/pdf", "acme", "")
	isPDF(t, r)
	pdftest.MustContain(t, pdftest.Text(t, r.body), "115年11-12月", "2,100")
	r = call(t, srv, "GET", "/api/v1/invoices/AB12345000/pdf", "other", "")
	isPDF(t, r)
	pdftest.MustContain(t, pdftest.Text(t, r.body), "116年11-12月", "525")
	if r := call(t, srv, "GET", "/api/v1/invoices/AB12345000/pdf?period=2027-11", "acme", ""); r.status != 404 {
		t.Errorf("acme asking for solo's 2027 invoice: %d", r.status)
	}
}
