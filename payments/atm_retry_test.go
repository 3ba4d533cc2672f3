package payments_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/payments"
)

// ECPay said it could not assign an ATM account, then assigned one (the
// customer chose again at the cashier): the checkout awaits the transfer
// into that account, shown to the customer, rather than reading failed
// beside the account they are to pay into; its transfer credits it. The
// failure stays listed for finance. ECPay's latest word stands.
func TestATMAccountAssignedAfterAFailureAwaitsTheTransfer(t *testing.T) {
	w := newWorld(t)
	co := w.checkout(1500, payments.ChooseATM)
	w2 := w.checkout(1600, payments.ChooseATM)
	if _, err := w.fake.PaymentInfo(w2.TradeNo, func(f url.Values) { f.Set("RtnCode", "10100073"); f.Set("vAccount", "") }); err != nil {
		t.Fatal(err)
	}
	if p, _ := w.svc.View().Payment(w2.TradeNo); w.svc.Status(p, time.Now()) != payments.StatusFailed {
		t.Fatalf("no account: %+v", p)
	}
	if _, err := w.fake.PaymentInfo(w2.TradeNo, func(f url.Values) { f.Set("vAccount", "9103522175880001") }); err != nil {
		t.Fatal(err)
	}
	p, _ := w.svc.View().Payment(w2.TradeNo)
	if st := w.svc.Status(p, time.Now()); st != payments.StatusPending || p.VAccount != "9103522175880001" || p.Failure != "" {
		t.Fatalf("account assigned after a failure: %s %+v", st, p)
	}
	failures := 0
	for _, r := range w.refused() {
		if r.TradeNo == w2.TradeNo && strings.Contains(r.Reason, "10100073") {
			failures++
		}
	}
	if failures != 1 {
		t.Fatalf("the failure is not listed for finance: %+v", w.refused())
	}
	if reply, err := w.fake.Paid(w2.TradeNo, nil, nil); err != nil || reply != "1|OK" {
		t.Fatalf("paid: %q %v", reply, err)
	}
	if p, _ := w.svc.View().Payment(w2.TradeNo); w.svc.Status(p, time.Now()) != payments.StatusPaid {
		t.Fatalf("after the transfer: %+v", p)
	}
	if p, _ := w.svc.View().Payment(co.TradeNo); w.svc.Status(p, time.Now()) != payments.StatusPending {
		t.Fatalf("the other checkout: %+v", p)
	}
}
