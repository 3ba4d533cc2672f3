package httpapi

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// The September–October 2026 period is filed by Sunday 15 November, which
// moves to Monday the 16th (行政程序法 §48 IV). On that Monday the API
// still refuses an allowance on the B2C invoice with 409
// b2c_void_window_open, naming Monday as the last void day; on Tuesday it
// refuses the void with void_window_closed, naming Monday.
func TestTheAPIKeepsTheVoidWindowOpenOnTheMondayAfterASundayDeadline(t *testing.T) {
	srv, clk, svc, store := serverWith(t, 12345000, 12345999)
	ctx := context.Background()
	clk.Set(time.Date(2026, 9, 1, 9, 0, 0, 0, cst))
	h := &commands.Handler{Store: store, Now: clk.Now}
	if _, err := h.OpenAccount(ctx, domain.AccountOpened{AccountID: "sept", Organisation: "九月工作室", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	rc := &domain.RequestCompleted{RequestID: "sept-1", AccountID: "sept", Model: "gpt-4o", Cost: decimal.RequireFromString("500"),
		Usage: domain.Usage{Input: 1000, Output: 100}, StartedAt: time.Date(2026, 9, 10, 3, 0, 0, 0, time.UTC)}
	d, _ := commands.Event(domain.EventID("req", rc.RequestID), rc.StartedAt, rc)
	if _, err := store.Append(ctx, domain.UsageStream("sept"), eventstore.Any(), d); err != nil {
		t.Fatal(err)
	}
	if err := svc.AssignRange(ctx, "2026-09", "AB", 22220000, 22220999); err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Date(2026, 10, 1, 2, 0, 0, 0, cst))
	if r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-09", "fin", ""); r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	var body struct {
		Error struct {
			Code     int
			Message  string
			Metadata map[string]any
		}
	}

	clk.Set(time.Date(2026, 11, 16, 10, 0, 0, 0, cst))
	r := call(t, srv, "POST", "/admin/api/invoices/AB22220000/allowances", "fin", `{"amount":100,"reason":"部分退款"}`)
	r.json(t, &body)
	if md := body.Error.Metadata; r.status != 409 || md["reason"] != "b2c_void_window_open" ||
		md["last_void_day"] != "2026-11-16" || md["allowance_from"] != "2026-11-17" {
		t.Fatalf("allowance on the B2C invoice on Monday 16 November: %d %s", r.status, r.body)
	}

	clk.Set(time.Date(2026, 11, 17, 0, 0, 0, 0, cst))
	r = call(t, srv, "POST", "/admin/api/invoices/AB22220000/void", "fin", `{"reason":"作廢重開"}`)
	r.json(t, &body)
	if md := body.Error.Metadata; r.status != 409 || md["reason"] != "void_window_closed" || md["last_void_day"] != "2026-11-16" {
		t.Fatalf("void on Tuesday 17 November: %d %s", r.status, r.body)
	}
}
