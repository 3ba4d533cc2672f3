package httpapi

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/invoicing"
)

// An invoice issued by another process on the same store (the CLI beside
// a running gateway) is found by the very next request, not answered 404
// until the store's next poll of the file.
func TestInvoiceIssuedByAnotherProcessIsFoundAtOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, cst)}
	// The gateway's store polls rarely, so that only a read of the head
	// can show it the other process's invoice.
	gw, err := sqlite.Open(path, sqlite.Options{PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	// The gateway has appended (a key, a request): its latest events are in
	// memory, where another process's never are.
	if _, err := (&commands.Handler{Store: gw, Now: clk.Now}).OpenAccount(ctx, domain.AccountOpened{AccountID: "solo", Organisation: "王小明工作室", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	svc, err := invoicing.New(gw, invoicing.Config{Seller: invoicing.DevSeller(), Now: clk.Now, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	Register(e.Group("/admin/api"), e.Group("/api/v1"), svc, principals)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	if r := call(t, srv, "GET", "/admin/api/invoices", "fin", ""); r.status != 200 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}

	cli, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	h := &commands.Handler{Store: cli, Now: clk.Now}
	if _, err := h.OpenAccount(ctx, domain.AccountOpened{AccountID: "acme", Organisation: "艾克米股份有限公司", TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	rc := &domain.RequestCompleted{RequestID: "r1", AccountID: "acme", Model: "gpt-4o", Cost: decimal.RequireFromString("2100.4"),
		Usage: domain.Usage{Input: 1000, Output: 100}, StartedAt: time.Date(2026, 11, 10, 3, 0, 0, 0, time.UTC)}
	d, _ := commands.Event(domain.EventID("req", "r1"), rc.StartedAt, rc)
	if _, err := cli.Append(ctx, domain.UsageStream("acme"), eventstore.Any(), d); err != nil {
		t.Fatal(err)
	}
	other, err := invoicing.New(cli, invoicing.Config{Seller: invoicing.DevSeller(), Now: clk.Now, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.AssignRange(ctx, "2026-11", "AB", 12345000, 12345999); err != nil {
		t.Fatal(err)
	}
	inv, _, err := other.IssueMonthly(ctx, "acme", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	isPDF(t, call(t, srv, "GET", "/admin/api/invoices/"+inv.Number+"/pdf", "fin", ""))
}
