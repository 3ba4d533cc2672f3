package payments_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// A checkout is recorded in its account's checkout stream, whether it may
// start beside another awaiting payment or not, and names who started it
// as every command event does: the customer's key, or the staff token of
// the admin API.
func TestCheckoutStartedNamesItsActor(t *testing.T) {
	w := newWorld(t)
	customer := domain.Actor{Kind: domain.ActorKey, ID: "key_owner"}
	staff := domain.Actor{Kind: domain.ActorStaff, ID: "stf_admin", Role: "admin"}
	if _, err := w.svc.StartUnlessPending(domain.WithActor(w.ctx, customer), "acct_pay", decimal.NewFromInt(500), "card", w.srv.URL); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Start(domain.WithActor(w.ctx, staff), "acct_pay", decimal.NewFromInt(700), "atm", w.srv.URL); err != nil {
		t.Fatal(err)
	}
	evs, err := w.store.ReadStream(w.ctx, domain.CheckoutStream("acct_pay"), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []domain.Actor
	for _, e := range evs {
		if e.Type != domain.TypePaymentCheckoutStarted {
			continue
		}
		a, ok := domain.ActorOf(e.Type, e.SchemaVersion, e.Data)
		if !ok {
			t.Fatalf("checkout %s does not decode", e.Data)
		}
		got = append(got, a)
	}
	if len(got) != 2 || got[0] != customer || got[1] != staff {
		t.Fatalf("the checkouts in acct_pay's checkout stream name %+v; want %+v then %+v", got, customer, staff)
	}
}
