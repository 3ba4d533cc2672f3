package console

import (
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
)

// ECPay's notifications as a customer with two checkouts meets them: the
// second paid before the first, each credits its own trade once, however
// often and in whatever order they come. A notification with a wrong
// CheckMacValue, or changed after it was signed, writes nothing at all into
// history; a signed one of another amount credits nothing.
func TestCheckoutNotificationsOutOfOrderAndForged(t *testing.T) {
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { fake = withPayments(t, ech, d) })
	_, owner, _ := managedAccount(e, "acct_order")
	first := e.checkoutAtCashier("acct_order", owner, "card", "400").TradeNo
	second := e.checkoutAtCashier("acct_order", owner, "card", "900").TradeNo

	last := func() eventstore.Position {
		t.Helper()
		var pos eventstore.Position
		for {
			evs, err := e.store.ReadAll(e.ctx, pos, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 0 {
				return pos
			}
			pos = evs[len(evs)-1].Position
		}
	}
	before := last()
	for what, send := range map[string]func() (string, error){
		"wrong CheckMacValue": func() (string, error) {
			return fake.Paid(first, nil, func(f url.Values) { f.Set("CheckMacValue", strings.Repeat("A", 64)) })
		},
		"amount changed after signing": func() (string, error) {
			return fake.Paid(first, nil, func(f url.Values) { f.Set("TradeAmt", "4000") })
		},
		"no CheckMacValue": func() (string, error) {
			return fake.Paid(first, nil, func(f url.Values) { f.Del("CheckMacValue") })
		},
	} {
		if reply, err := send(); err != nil || !strings.HasPrefix(reply, "0|") {
			t.Errorf("%s: %q %v", what, reply, err)
		}
	}
	if after := last(); after != before {
		t.Fatalf("forged notifications wrote into history: %s, then %s", before, after)
	}
	if reply, err := fake.Paid(first, func(f url.Values) { f.Set("TradeAmt", "40") }, nil); err != nil || !strings.HasPrefix(reply, "0|") {
		t.Errorf("a signed notification of NT$40 for NT$400: %q %v", reply, err)
	}
	// ECPay signed it: finance sees it; the customer's checkout still
	// awaits its payment, and nothing is credited.
	e.sync()
	if p, _ := e.deps.Payments.View().Payment(first); e.deps.Payments.Status(p, e.clock.Now()) != payments.StatusPending {
		t.Errorf("after a signed notification of another amount the checkout reads %s", e.deps.Payments.Status(p, e.clock.Now()))
	}
	if r := e.deps.Payments.View().Refused(); len(r) != 1 || r[0].TradeNo != first {
		t.Errorf("refused for finance: %+v", r)
	}
	if v, _ := e.models.Balances.View("acct_order", "", e.clock.Now()); !v.Balance.IsZero() {
		t.Fatalf("balance %s before any payment", v.Balance)
	}

	for _, trade := range []string{second, second, first, second, first} {
		if reply, err := fake.Paid(trade, nil, nil); err != nil || reply != "1|OK" {
			t.Fatalf("paying %s: %q %v", trade, reply, err)
		}
	}
	e.sync()
	got := map[string]string{}
	for _, up := range e.topUpsOf("acct_order") {
		if _, dup := got[up.Reference]; dup {
			t.Errorf("%s credited twice", up.Reference)
		}
		got[up.Reference] = up.Amount.String()
	}
	if len(got) != 2 || got[first] != "400" || got[second] != "900" {
		t.Fatalf("credits: %v", got)
	}
	if v, _ := e.models.Balances.View("acct_order", "", e.clock.Now()); v.Balance.String() != "1300" {
		t.Fatalf("balance %s after paying NT$400 and NT$900", v.Balance)
	}
}
