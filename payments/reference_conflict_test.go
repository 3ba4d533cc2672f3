package payments_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/payments/ecpay"
)

// Finance, answering "I paid but was not credited" before ECPay's
// notification came, recorded the payment by hand under its trade number,
// for another amount or method. The notification then credits nothing more
// (the trade number is the payment's one reference) and is not left
// answered "try again" for ECPay to resend while nobody sees it: it is
// acknowledged and listed for finance, naming the top-up recorded under
// that trade number.
func TestNotificationOfATradeRecordedByHandOtherwiseIsListedForFinance(t *testing.T) {
	w := newWorld(t)
	co := w.checkout(1000, payments.ChooseCard)
	ctx := domain.WithActor(w.ctx, domain.Actor{Kind: domain.ActorStaff, ID: "tok_finance", Role: "finance"})
	if _, err := w.cmds.TopUp(ctx, domain.CreditsToppedUp{AccountID: "acct_pay", Amount: decimal.NewFromInt(1000),
		Method: domain.MethodBankTransfer, Reference: co.TradeNo}); err != nil {
		t.Fatal(err)
	}
	// ECPay resends one notification as it sent it.
	same := func(f url.Values) { f.Set("TradeNo", "2603151000999999") }
	for i := range 2 {
		if reply, err := w.fake.Paid(co.TradeNo, same, nil); err != nil || reply != ecpay.ReplyOK {
			t.Fatalf("notification %d: %q %v", i, reply, err)
		}
	}
	if tops := w.topUps(); len(tops) != 1 {
		t.Fatalf("top-ups: %+v", tops)
	}
	var listed []payments.Refused
	for _, r := range w.refused() {
		if r.TradeNo == co.TradeNo {
			listed = append(listed, r)
		}
	}
	if len(listed) != 1 || !strings.Contains(listed[0].Reason, "already recorded") || !strings.Contains(listed[0].Reason, domain.MethodBankTransfer) {
		t.Fatalf("listed for finance: %+v", listed)
	}
}

// Finance recorded the payment by hand under its trade number typed in
// lower case or full width, which is the same reference (the same
// transfer) to the top-ups: the checkout reads paid by that top-up, and
// ECPay's notification, a replay of it, credits nothing more.
func TestTradeRecordedByHandInOtherCaseReadsPaid(t *testing.T) {
	w := newWorld(t)
	co := w.checkout(1000, payments.ChooseCard)
	ctx := domain.WithActor(w.ctx, domain.Actor{Kind: domain.ActorStaff, ID: "tok_finance", Role: "finance"})
	if _, err := w.cmds.TopUp(ctx, domain.CreditsToppedUp{AccountID: "acct_pay", Amount: decimal.NewFromInt(1000),
		Method: domain.MethodCard, Reference: strings.ToLower(co.TradeNo)}); err != nil {
		t.Fatal(err)
	}
	if reply, err := w.fake.Paid(co.TradeNo, nil, nil); err != nil || reply != ecpay.ReplyOK {
		t.Fatalf("notification: %q %v", reply, err)
	}
	if tops := w.topUps(); len(tops) != 1 {
		t.Fatalf("top-ups: %+v", tops)
	}
	// The view reads the hand-made top-up within a second of the store.
	var p payments.Payment
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if p, _ = w.svc.View().Payment(co.TradeNo); p.Paid {
			break
		}
	}
	if !p.Paid || p.TopUpEvent == "" {
		t.Fatalf("the checkout credited by hand reads %+v", p)
	}
}

// Finance recorded a checkout's payment by hand on another account, under
// its trade number: a payment credits one account, so ECPay's notification
// credits the checkout's account nothing, and is acknowledged and listed
// for finance naming the account that holds the trade number.
func TestNotificationOfATradeRecordedByHandOnAnotherAccountIsListedForFinance(t *testing.T) {
	w := newWorld(t)
	if _, err := w.cmds.OpenAccount(w.ctx, domain.AccountOpened{AccountID: "acct_other", Organisation: "別家有限公司"}); err != nil {
		t.Fatal(err)
	}
	co := w.checkout(1000, payments.ChooseCard)
	ctx := domain.WithActor(w.ctx, domain.Actor{Kind: domain.ActorStaff, ID: "tok_finance", Role: "finance"})
	if _, err := w.cmds.TopUp(ctx, domain.CreditsToppedUp{AccountID: "acct_other", Amount: decimal.NewFromInt(1000),
		Method: domain.MethodCard, Reference: co.TradeNo}); err != nil {
		t.Fatal(err)
	}
	if reply, err := w.fake.Paid(co.TradeNo, nil, nil); err != nil || reply != ecpay.ReplyOK {
		t.Fatalf("notification: %q %v", reply, err)
	}
	if tops := w.topUps(); len(tops) != 0 {
		t.Fatalf("the checkout's account was credited too: %+v", tops)
	}
	var listed []payments.Refused
	for _, r := range w.refused() {
		if r.TradeNo == co.TradeNo {
			listed = append(listed, r)
		}
	}
	if len(listed) != 1 || !strings.Contains(listed[0].Reason, "credited otherwise") || !strings.Contains(listed[0].Reason, "account acct_other") {
		t.Fatalf("listed for finance: %+v", listed)
	}
}

// Finance recorded an ATM checkout's payment by hand on another account,
// under its trade number, before ECPay's payment info came: as the paid
// notification, it is acknowledged rather than answered "try again" for
// ECPay to resend for days, shows the checkout's account no virtual
// account to transfer into (a transfer would credit nothing: the trade
// number is the other account's), credits nothing, and is listed for
// finance with the virtual account ECPay assigned, naming the account that
// holds the trade number.
func TestPaymentInfoOfATradeRecordedByHandOnAnotherAccountIsListedForFinance(t *testing.T) {
	w := newWorld(t)
	if _, err := w.cmds.OpenAccount(w.ctx, domain.AccountOpened{AccountID: "acct_other", Organisation: "別家有限公司"}); err != nil {
		t.Fatal(err)
	}
	co, err := w.svc.Start(domain.WithActor(w.ctx, domain.Actor{Kind: domain.ActorKey, ID: "key_owner"}), "acct_pay",
		decimal.NewFromInt(1000), payments.ChooseATM, w.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := domain.WithActor(w.ctx, domain.Actor{Kind: domain.ActorStaff, ID: "tok_finance", Role: "finance"})
	if _, err := w.cmds.TopUp(ctx, domain.CreditsToppedUp{AccountID: "acct_other", Amount: decimal.NewFromInt(1000),
		Method: domain.MethodBankTransfer, Reference: co.TradeNo}); err != nil {
		t.Fatal(err)
	}
	// The cashier sends the payment info, which must be acknowledged; then
	// ECPay resends another one as it sent it.
	w.toCashier(co.Fields)
	same := func(f url.Values) { f.Set("TradeNo", "2603151000999998") }
	for i := range 2 {
		if _, err := w.fake.PaymentInfo(co.TradeNo, same); err != nil {
			t.Fatalf("payment info %d: %v", i, err)
		}
	}
	if tops := w.topUps(); len(tops) != 0 {
		t.Fatalf("the checkout's account was credited: %+v", tops)
	}
	if p, _ := w.svc.View().Payment(co.TradeNo); p.VAccount != "" || p.Paid || p.Failure != "" {
		t.Fatalf("the checkout of a trade recorded on another account reads %+v", p)
	}
	var listed []payments.Refused
	for _, r := range w.refused() {
		if r.TradeNo == co.TradeNo {
			listed = append(listed, r)
		}
	}
	if len(listed) != 2 {
		t.Fatalf("listed for finance: %+v", listed)
	}
	for _, r := range listed {
		if r.Endpoint != "payment-info" || r.Fields["vAccount"] != "9103522175887271" ||
			!strings.Contains(r.Reason, "credited otherwise") || !strings.Contains(r.Reason, "account acct_other") {
			t.Fatalf("listed for finance: %+v", listed)
		}
	}
}

// Finance recorded an ATM checkout's payment by hand on its own account,
// for another amount: ECPay's payment info is acknowledged and listed for
// finance, as the paid notification would be, not left to be resent.
func TestPaymentInfoOfATradeRecordedByHandOtherwiseIsListedForFinance(t *testing.T) {
	w := newWorld(t)
	co := w.checkout(1000, payments.ChooseATM)
	ctx := domain.WithActor(w.ctx, domain.Actor{Kind: domain.ActorStaff, ID: "tok_finance", Role: "finance"})
	if _, err := w.cmds.TopUp(ctx, domain.CreditsToppedUp{AccountID: "acct_pay", Amount: decimal.NewFromInt(900),
		Method: domain.MethodBankTransfer, Reference: co.TradeNo}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.fake.PaymentInfo(co.TradeNo, nil); err != nil {
		t.Fatalf("payment info: %v", err)
	}
	if tops := w.topUps(); len(tops) != 1 {
		t.Fatalf("top-ups: %+v", tops)
	}
	var listed []payments.Refused
	for _, r := range w.refused() {
		if r.TradeNo == co.TradeNo {
			listed = append(listed, r)
		}
	}
	if len(listed) != 1 || listed[0].Endpoint != "payment-info" || !strings.Contains(listed[0].Reason, "credited otherwise") ||
		!strings.Contains(listed[0].Reason, "amount 900") {
		t.Fatalf("listed for finance: %+v", listed)
	}
}
