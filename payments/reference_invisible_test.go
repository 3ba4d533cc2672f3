package payments_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/payments/ecpay"
)

// A trade number finance typed by hand before references were refused
// characters that show nothing may hold one (a zero-width space pasted
// with it). That top-up is the trade's payment to the top-ups, and so to
// the payments view: the checkout reads paid by it, and ECPay's
// notification credits nothing more.
func TestTradeRecordedByHandWithAnInvisibleCharacterReadsPaid(t *testing.T) {
	w := newWorld(t)
	co := w.checkout(1000, payments.ChooseCard)
	ref := "\u200b" + co.TradeNo + "\u200b"
	d, err := commands.Event(commands.PaymentID(ref), time.Now(), &domain.CreditsToppedUp{AccountID: "acct_pay",
		Amount: decimal.NewFromInt(1000), Method: domain.MethodCard, Reference: ref})
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.store.Append(w.ctx, domain.TopUpStream("acct_pay"), eventstore.Any(), d)
	if err != nil {
		t.Fatal(err)
	}
	w.wait(res.Position)
	if p, _ := w.svc.View().Payment(co.TradeNo); !p.Paid || p.TopUpEvent != d.ID.String() {
		t.Fatalf("the checkout recorded by hand reads %+v, want paid by %s", p, d.ID)
	}
	if reply, err := w.fake.Paid(co.TradeNo, nil, nil); err != nil || reply != ecpay.ReplyOK {
		t.Fatalf("notification: %q %v", reply, err)
	}
	if tops := w.topUps(); len(tops) != 1 {
		t.Fatalf("top-ups: %+v", tops)
	}
}
