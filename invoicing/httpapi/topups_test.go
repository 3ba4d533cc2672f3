package httpapi

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// An invoice of payments names every payment it bills, not only the
// latest: two payments of NT$0.4 and NT$0.6 beyond what was due make one
// invoice of NT$1, which the customer's list shows with both references.
func TestInvoiceListsEveryPaymentItBills(t *testing.T) {
	srv, c, svc, s := serverWith(t, 12345000, 12345999)
	ctx := context.Background()
	for i, p := range []struct{ ref, amount string }{{"pay-1", "315.4"}, {"pay-2", "0.6"}} {
		at := time.Date(2026, 11, 20+i, 9, 0, 0, 0, cst)
		ev := &domain.CreditsToppedUp{AccountID: "solo", Amount: decimal.RequireFromString(p.amount), Method: domain.MethodBankTransfer, Reference: p.ref}
		d, err := commands.Event(domain.EventID(domain.TypeCreditsToppedUp, "solo", p.ref), at, ev)
		if err == nil {
			_, err = s.Append(ctx, domain.TopUpStream("solo"), eventstore.Any(), d)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	c.Set(time.Date(2026, 11, 22, 9, 0, 0, 0, cst))
	if err := svc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.InvoiceTopUps(ctx); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Invoices []struct {
			Total    int64    `json:"total"`
			TopUpRef string   `json:"topup_ref"`
			TopUps   []string `json:"topups"`
		} `json:"invoices"`
	}
	r := call(t, srv, http.MethodGet, "/api/v1/invoices", "other", "")
	if r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	r.json(t, &list)
	if len(list.Invoices) != 1 || list.Invoices[0].Total != 1 || !slices.Equal(list.Invoices[0].TopUps, []string{"pay-1", "pay-2"}) {
		t.Fatalf("invoices %s; want one of NT$1 naming pay-1 and pay-2", r.body)
	}
}
