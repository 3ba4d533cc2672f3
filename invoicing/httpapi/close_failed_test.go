package httpapi

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// A close that cannot invoice an account (its name cannot be printed)
// issues the others and answers which accounts it did not invoice, and
// why, in the body and in the error's metadata.
func TestCloseNamesAccountsNotInvoiced(t *testing.T) {
	srv, clk, _, s := serverWith(t, 12345000, 12345999)
	ctx := context.Background()
	opened := &domain.AccountOpened{AccountID: "rare", Organisation: "𠀋記科技有限公司", TaxID: "04595257", Plan: domain.PlanBusiness}
	rc := &domain.RequestCompleted{RequestID: "rare", AccountID: "rare", Model: "gpt-4o", Cost: decimal.RequireFromString("100"),
		StartedAt: time.Date(2026, 11, 12, 3, 0, 0, 0, time.UTC)}
	for _, ev := range []struct {
		stream string
		e      domain.Event
	}{{domain.AccountStream("rare"), opened}, {domain.UsageStream("rare"), rc}} {
		d, err := commands.Event(domain.EventID("test", ev.stream), rc.StartedAt, ev.e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, ev.stream, eventstore.Any(), d); err != nil {
			t.Fatal(err)
		}
	}
	clk.Set(time.Date(2026, 12, 1, 2, 0, 0, 0, cst))
	r := call(t, srv, "POST", "/admin/api/invoices/close?month=2026-11", "fin", "")
	var body struct {
		Issued []struct {
			Number    string
			AccountID string `json:"account_id"`
		} `json:"issued"`
		NotInvoiced []map[string]string `json:"not_invoiced"`
		Error       struct {
			Code     int
			Message  string
			Metadata struct {
				Reason   string
				Accounts []map[string]string
			}
		}
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
	if r.status != 400 || len(body.Issued) != 2 || body.Issued[0].AccountID != "acme" || body.Issued[1].AccountID != "solo" ||
		body.Error.Code != 400 || body.Error.Metadata.Reason != "accounts_not_invoiced" {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	for _, list := range [][]map[string]string{body.NotInvoiced, body.Error.Metadata.Accounts} {
		if len(list) != 1 || list[0]["account_id"] != "rare" || list[0]["name"] != "𠀋記科技有限公司" || list[0]["month"] != "2026-11" ||
			list[0]["reason"] == "" {
			t.Fatalf("not invoiced %v in %s", list, r.body)
		}
	}
}
