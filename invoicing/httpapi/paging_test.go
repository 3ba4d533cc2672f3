package httpapi

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing"
)

// TestInvoiceListsArePaged: a month closed for 1,012 accounts. The staff
// list answers at most 1,000 invoices however many are asked for, and
// following next_offset, with any page size, gives each invoice once;
// a limit or offset that is not a whole number is a 400 naming it. A
// customer's list is paged the same way and holds their own alone.
func TestInvoiceListsArePaged(t *testing.T) {
	srv, c, svc, s := serverWith(t, 12345000, 12347999)
	ctx := context.Background()
	h := &commands.Handler{Store: s, Now: c.Now}
	for i := range 1010 {
		id := fmt.Sprintf("many-%04d", i)
		if _, err := h.OpenAccount(ctx, domain.AccountOpened{AccountID: id, Organisation: "多帳戶 " + id, Plan: domain.PlanBusiness}); err != nil {
			t.Fatal(err)
		}
		rc := &domain.RequestCompleted{RequestID: id, AccountID: id, Model: "gpt-4o", Cost: decimal.NewFromInt(10),
			Usage: domain.Usage{Input: 10, Output: 10}, StartedAt: time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)}
		d, _ := commands.Event(domain.EventID("req", id), rc.StartedAt, rc)
		if _, err := s.Append(ctx, domain.UsageStream(id), eventstore.Any(), d); err != nil {
			t.Fatal(err)
		}
	}
	c.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, cst))
	if _, err := svc.Close(ctx, "2026-11", invoicing.CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	const total = 1012

	type page struct {
		Invoices []struct {
			Number    string `json:"number"`
			AccountID string `json:"account_id"`
		} `json:"invoices"`
		Total      int  `json:"total"`
		NextOffset *int `json:"next_offset"`
	}
	get := func(path, token string, q url.Values) page {
		t.Helper()
		r := call(t, srv, "GET", path+"?"+q.Encode(), token, "")
		if r.status != 200 {
			t.Fatalf("GET %s?%s: %d %s", path, q.Encode(), r.status, r.body)
		}
		var p page
		r.json(t, &p)
		return p
	}
	if p := get("/admin/api/invoices", "fin", url.Values{"limit": {"10000000"}}); len(p.Invoices) != 1000 || p.Total != total || p.NextOffset == nil || *p.NextOffset != 1000 {
		t.Fatalf("limit 10000000: %d invoices, total %d, next %v", len(p.Invoices), p.Total, p.NextOffset)
	}
	for _, limit := range []string{"", "7", "1000"} {
		seen := map[string]bool{}
		offset := 0
		for pages := 0; ; pages++ {
			q := url.Values{"month": {"2026-11"}, "offset": {fmt.Sprint(offset)}}
			if limit != "" {
				q.Set("limit", limit)
			}
			p := get("/admin/api/invoices", "aud", q)
			for _, inv := range p.Invoices {
				if seen[inv.Number] {
					t.Fatalf("limit %q: %s on two pages", limit, inv.Number)
				}
				seen[inv.Number] = true
			}
			if p.NextOffset == nil {
				break
			}
			offset = *p.NextOffset
			if pages > total {
				t.Fatalf("limit %q: next_offset never ends", limit)
			}
		}
		if len(seen) != total {
			t.Fatalf("limit %q: %d invoices through the pages, want %d", limit, len(seen), total)
		}
	}
	if p := get("/admin/api/invoices", "fin", url.Values{"offset": {"5000"}}); len(p.Invoices) != 0 || p.NextOffset != nil || p.Total != total {
		t.Fatalf("offset past the end: %+v", p)
	}
	for _, q := range []string{"limit=0", "limit=-1", "limit=ten", "offset=-3", "offset=1.5"} {
		if r := call(t, srv, "GET", "/admin/api/invoices?"+q, "fin", ""); r.status != 400 {
			t.Fatalf("?%s: %d %s", q, r.status, r.body)
		}
	}
	p := get("/api/v1/invoices", "acme", url.Values{"limit": {"5"}})
	if len(p.Invoices) != 1 || p.Total != 1 || p.NextOffset != nil || p.Invoices[0].AccountID != "acme" {
		t.Fatalf("a customer's list: %+v", p)
	}
}
