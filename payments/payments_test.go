package payments_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/payments/ecpay"
	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
	"github.com/routefree/routefree/projections"
)

// world is a gateway's payments over a real SQLite store and the
// projections runner, served on loopback, beside a fake ECPay.
type world struct {
	t     *testing.T
	ctx   context.Context
	store *sqlite.Store
	cmds  *commands.Handler
	svc   *payments.Service
	fake  *ecpaytest.Provider
	srv   *httptest.Server
	logs  *bytes.Buffer
	path  string // the SQLite file
	// wait returns once the payments view has read up to a position.
	wait func(eventstore.Position)
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	store, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	view := payments.NewView()
	runner, err := projections.NewRunner(store, nil, view)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done; store.Close() })
	<-runner.Running()
	fake := ecpaytest.New(ecpay.TestMerchantID, ecpay.TestHashKey, ecpay.TestHashIV)
	t.Cleanup(fake.Close)
	w := &world{t: t, ctx: ctx, store: store, cmds: commands.New(store), fake: fake, logs: &bytes.Buffer{}, path: path}
	w.cmds.MaxTopUp = decimal.NewFromInt(50000)
	e := echo.New()
	w.srv = httptest.NewServer(e)
	t.Cleanup(w.srv.Close)
	w.svc, err = payments.New(payments.Config{
		Merchant: ecpay.Merchant{MerchantID: ecpay.TestMerchantID, HashKey: ecpay.TestHashKey, HashIV: ecpay.TestHashIV, Endpoint: fake.Endpoint()},
	}, payments.Deps{Store: store, Commands: w.cmds, View: view, WaitFor: runner.WaitFor,
		Logger: slog.New(slog.NewJSONHandler(w.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	payments.Register(e, w.svc)
	w.wait = func(pos eventstore.Position) {
		if err := runner.WaitFor(ctx, pos); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.cmds.OpenAccount(ctx, domain.AccountOpened{AccountID: "acct_pay", Organisation: "付款測試有限公司"}); err != nil {
		t.Fatal(err)
	}
	return w
}

// checkout starts a checkout as the customer and posts its form to the
// fake cashier, as the browser does.
func (w *world) checkout(amount int64, choose string) payments.Checkout {
	w.t.Helper()
	ctx := domain.WithActor(w.ctx, domain.Actor{Kind: domain.ActorKey, ID: "key_owner"})
	co, err := w.svc.Start(ctx, "acct_pay", decimal.NewFromInt(amount), choose, w.srv.URL)
	if err != nil {
		w.t.Fatal(err)
	}
	form := url.Values{}
	for k, v := range co.Fields {
		form.Set(k, v)
	}
	resp, err := http.PostForm(co.Action, form)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("the fake cashier refused the checkout: %d", resp.StatusCode)
	}
	return co
}

// topUps are the account's recorded credits.
func (w *world) topUps() []*domain.CreditsToppedUp {
	w.t.Helper()
	evs, err := w.store.ReadStream(w.ctx, domain.TopUpStream("acct_pay"), 0, 1000)
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		w.t.Fatal(err)
	}
	var out []*domain.CreditsToppedUp
	for _, e := range evs {
		b, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			w.t.Fatal(err)
		}
		if t, ok := b.(*domain.CreditsToppedUp); ok {
			out = append(out, t)
		}
	}
	return out
}

func (w *world) refused() []payments.Refused { return w.svc.View().Refused() }

// A card payment credits once: the signed notification of the trade, for
// its amount. A forged, an under-paid, a replayed, an unknown and a
// simulated notification credit nothing; the signed ones that match
// nothing are listed for finance.
func TestCardNotifications(t *testing.T) {
	w := newWorld(t)
	co := w.checkout(1000, payments.ChooseCard)
	order, ok := w.fake.Order(co.TradeNo)
	if !ok || order.Get("ChoosePayment") != "Credit" || order.Get("TotalAmount") != "1000" ||
		order.Get("ReturnURL") != w.srv.URL+payments.ReturnPath || len(co.TradeNo) != 20 {
		t.Fatalf("order at the cashier: %v", order)
	}

	// Forged: the amount raised after signing.
	if reply, err := w.fake.Paid(co.TradeNo, nil, func(f url.Values) { f.Set("TradeAmt", "100000") }); err != nil || !strings.HasPrefix(reply, "0|") {
		t.Fatalf("forged notification: %q %v", reply, err)
	}
	// Signed, but for less than was asked.
	if reply, err := w.fake.Paid(co.TradeNo, func(f url.Values) { f.Set("TradeAmt", "10") }, nil); err != nil || !strings.HasPrefix(reply, "0|") {
		t.Fatalf("under-paid notification: %q %v", reply, err)
	}
	// A simulated payment from the merchant panel: acknowledged, not credited.
	if reply, err := w.fake.Paid(co.TradeNo, func(f url.Values) { f.Set("SimulatePaid", "1") }, nil); err != nil || reply != "1|OK" {
		t.Fatalf("simulated notification: %q %v", reply, err)
	}
	if n := len(w.topUps()); n != 0 {
		t.Fatalf("%d top-ups before the payment", n)
	}

	if reply, err := w.fake.Paid(co.TradeNo, nil, nil); err != nil || reply != "1|OK" {
		t.Fatalf("paid notification: %q %v", reply, err)
	}
	// Replayed: ECPay retrying because our first 1|OK was lost, or someone
	// posting it again. It credits nothing, and is acknowledged, or ECPay
	// would keep resending it for days and flag the trade to the merchant.
	for i := 0; i < 2; i++ {
		if reply, err := w.fake.Paid(co.TradeNo, nil, nil); err != nil || reply != "1|OK" {
			t.Fatalf("replay %d: %q %v", i, reply, err)
		}
	}
	tops := w.topUps()
	if len(tops) != 1 || !tops[0].Amount.Equal(decimal.NewFromInt(1000)) || tops[0].Method != domain.MethodCard ||
		tops[0].Reference != co.TradeNo || tops[0].Actor.Kind != domain.ActorSystem {
		t.Fatalf("top-ups: %+v", tops)
	}
	if p, ok := w.svc.View().Payment(co.TradeNo); !ok || !p.Paid {
		t.Fatalf("payment view: %+v", p)
	}

	// A signed notification of a trade number never issued.
	reply, err := w.fake.Send(w.srv.URL+payments.ReturnPath, url.Values{"MerchantID": {ecpay.TestMerchantID},
		"MerchantTradeNo": {"RF0000000000000NOPE"}, "RtnCode": {"1"}, "TradeAmt": {"1000"}, "SimulatePaid": {"0"}}, nil, nil)
	if err != nil || !strings.HasPrefix(reply, "0|") {
		t.Fatalf("unknown trade: %q %v", reply, err)
	}
	if n := len(w.topUps()); n != 1 {
		t.Fatalf("%d top-ups after the refusals", n)
	}

	// Finance sees the signed refusals, not the forgery or the replays.
	reasons := map[string]string{}
	for _, r := range w.refused() {
		reasons[r.TradeNo+" "+r.Fields["TradeAmt"]+" "+r.Fields["SimulatePaid"]] = r.Reason
		if _, ok := r.Fields["CheckMacValue"]; ok {
			t.Fatal("a refused notification kept its signature")
		}
	}
	want := []string{co.TradeNo + " 10 0", co.TradeNo + " 1000 1", "RF0000000000000NOPE 1000 0"}
	if len(reasons) != len(want) {
		t.Fatalf("refused for finance: %v", reasons)
	}
	for _, k := range want {
		if reasons[k] == "" {
			t.Errorf("not listed for finance: %s (have %v)", k, reasons)
		}
	}
	logs := w.logs.String()
	if strings.Contains(logs, ecpay.TestHashKey) || strings.Contains(logs, ecpay.TestHashIV) || strings.Contains(logs, "CheckMacValue\":\"") {
		t.Fatal("the logs hold a secret or a signature")
	}
	for _, why := range []string{"CheckMacValue does not verify", "differs", "replay", "unknown trade number"} {
		if !strings.Contains(logs, why) {
			t.Errorf("no refusal logged for %q", why)
		}
	}
}

// ATM: ECPay assigns a virtual account (shown to the customer), then
// notifies the transfer, which credits as a bank transfer. A signed
// payment info for an unknown trade number is listed for finance.
func TestATMVirtualAccount(t *testing.T) {
	w := newWorld(t)
	co := w.checkout(2400, payments.ChooseATM)
	if order, _ := w.fake.Order(co.TradeNo); order.Get("ChoosePayment") != "ATM" || order.Get("PaymentInfoURL") != w.srv.URL+payments.PaymentInfoPath {
		t.Fatalf("order at the cashier: %v", order)
	}
	// The fake sent the payment info while taking the checkout.
	p, ok := w.svc.View().Payment(co.TradeNo)
	if !ok || p.BankCode != "812" || p.VAccount != "9103522175887271" || p.ExpireDate != expiryOf(w, co.TradeNo) || p.Paid {
		t.Fatalf("payment view: %+v", p)
	}
	if ps := w.svc.View().Payments("acct_pay"); len(ps) != 1 || ps[0].Method != domain.MethodBankTransfer {
		t.Fatalf("account's payments: %+v", ps)
	}
	if reply, err := w.fake.Paid(co.TradeNo, nil, nil); err != nil || reply != "1|OK" {
		t.Fatalf("paid: %q %v", reply, err)
	}
	if tops := w.topUps(); len(tops) != 1 || tops[0].Method != domain.MethodBankTransfer || !tops[0].Amount.Equal(decimal.NewFromInt(2400)) {
		t.Fatalf("top-ups: %+v", tops)
	}

	// Unmatched: a virtual account for a trade number never issued.
	reply, err := w.fake.Send(w.srv.URL+payments.PaymentInfoPath, url.Values{"MerchantID": {ecpay.TestMerchantID},
		"MerchantTradeNo": {"RF2603150000UNKNOWN"}, "RtnCode": {"2"}, "TradeAmt": {"5000"}, "BankCode": {"812"},
		"vAccount": {"9103522175880000"}, "ExpireDate": {"2026/03/18"}}, nil, nil)
	if err != nil || !strings.HasPrefix(reply, "0|") {
		t.Fatalf("unmatched payment info: %q %v", reply, err)
	}
	rs := w.refused()
	if len(rs) != 1 || rs[0].TradeNo != "RF2603150000UNKNOWN" || rs[0].Endpoint != "payment-info" || rs[0].Fields["vAccount"] != "9103522175880000" {
		t.Fatalf("refused for finance: %+v", rs)
	}
	if n := len(w.topUps()); n != 1 {
		t.Fatalf("%d top-ups", n)
	}
}

// A checkout's amount is whole dollars within the top-up bound, by card
// or ATM; the account must exist. Nothing is recorded for a refused one.
func TestCheckoutRefusals(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		acct, amount, choose string
	}{{"acct_pay", "0", "card"}, {"acct_pay", "10.5", "card"}, {"acct_pay", "50001", "atm"}, {"acct_pay", "100", "cash"}, {"acct_none", "100", "card"}} {
		if _, err := w.svc.Start(w.ctx, c.acct, decimal.RequireFromString(c.amount), c.choose, w.srv.URL); err == nil {
			t.Errorf("checkout %+v accepted", c)
		}
	}
	if ps := w.svc.View().Payments("acct_pay"); len(ps) != 0 {
		t.Fatalf("refused checkouts recorded: %+v", ps)
	}
	// Two checkouts of the same second get different trade numbers.
	a, b := w.checkout(100, "card"), w.checkout(100, "card")
	if a.TradeNo == b.TradeNo {
		t.Fatal("two checkouts share a trade number")
	}
}

// ECPay takes ATM orders of NT$11 to NT$49,999 only: a checkout outside
// that range would be recorded and then stranded on ECPay's error page, so
// it is refused before anything is recorded, naming the range. A card
// takes larger amounts.
func TestATMCheckoutWithinECPayRange(t *testing.T) {
	w := newWorld(t)
	ctx := domain.WithActor(w.ctx, domain.Actor{Kind: domain.ActorKey, ID: "key_owner"})
	for _, amount := range []int64{1, 10, 50000} {
		_, err := w.svc.Start(ctx, "acct_pay", decimal.NewFromInt(amount), payments.ChooseATM, w.srv.URL)
		if !errors.Is(err, payments.ErrInvalid) || !strings.Contains(err.Error(), "NT$11") || !strings.Contains(err.Error(), "NT$49999") {
			t.Errorf("ATM checkout of NT$%d: %v", amount, err)
		}
	}
	if ps := w.svc.View().Payments("acct_pay"); len(ps) != 0 {
		t.Fatalf("refused ATM checkouts recorded: %+v", ps)
	}
	if len(w.fake.Orders()) != 0 {
		t.Fatalf("orders at the cashier: %v", w.fake.Orders())
	}
	// The range's ends reach the cashier, which takes them; a card takes
	// what ATM cannot.
	for _, c := range []struct {
		amount int64
		choose string
	}{{11, payments.ChooseATM}, {49999, payments.ChooseATM}, {50000, payments.ChooseCard}} {
		co := w.checkout(c.amount, c.choose)
		if order, ok := w.fake.Order(co.TradeNo); !ok || order.Get("TotalAmount") != strconv.FormatInt(c.amount, 10) {
			t.Errorf("%s NT$%d at the cashier: %v", c.choose, c.amount, order)
		}
	}
}

// ECPay retries a payment info it could not deliver (the gateway was
// down), so the transfer's notification may come first. The account that
// then arrives is the one the customer paid into: it is recorded and
// shown with the paid checkout, where finance searches for it, not listed
// as a conflict; another account after it still is.
func TestPaymentInfoDelayedPastThePayment(t *testing.T) {
	w := newWorld(t)
	ctx := domain.WithActor(w.ctx, domain.Actor{Kind: domain.ActorKey, ID: "key_owner"})
	co, err := w.svc.Start(ctx, "acct_pay", decimal.NewFromInt(2400), payments.ChooseATM, w.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	signed := func(path string, f url.Values) string {
		t.Helper()
		reply, err := w.fake.Send(w.srv.URL+path, f, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return reply
	}
	info := func(vAccount string) url.Values {
		return url.Values{"MerchantID": {ecpay.TestMerchantID}, "MerchantTradeNo": {co.TradeNo}, "RtnCode": {"2"},
			"RtnMsg": {"Get VirtualAccount Succeeded"}, "TradeAmt": {"2400"}, "PaymentType": {"ATM_TAISHIN"},
			"BankCode": {"812"}, "vAccount": {vAccount}, "ExpireDate": {"2026/03/18"}}
	}
	if reply := signed(payments.ReturnPath, url.Values{"MerchantID": {ecpay.TestMerchantID}, "MerchantTradeNo": {co.TradeNo},
		"RtnCode": {"1"}, "RtnMsg": {"交易成功"}, "TradeAmt": {"2400"}, "PaymentType": {"ATM_TAISHIN"}, "SimulatePaid": {"0"}}); reply != "1|OK" {
		t.Fatalf("the transfer: %q", reply)
	}
	if reply := signed(payments.PaymentInfoPath, info("9103522175887271")); reply != "1|OK" {
		t.Fatalf("the delayed payment info: %q", reply)
	}
	p, _ := w.svc.View().Payment(co.TradeNo)
	if !p.Paid || p.BankCode != "812" || p.VAccount != "9103522175887271" {
		t.Fatalf("the paid checkout shows %+v", p)
	}
	if rs := w.refused(); len(rs) != 0 {
		t.Fatalf("the delayed payment info listed for finance: %+v", rs)
	}
	// Another account after it is a conflict, as for any paid trade.
	if reply := signed(payments.PaymentInfoPath, info("9103522175889999")); reply != "1|OK" {
		t.Fatalf("another account: %q", reply)
	}
	if p, _ := w.svc.View().Payment(co.TradeNo); p.VAccount != "9103522175887271" {
		t.Fatalf("the paid checkout's account changed to %q", p.VAccount)
	}
	if rs := w.refused(); len(rs) != 1 || rs[0].Fields["vAccount"] != "9103522175889999" {
		t.Fatalf("refused for finance: %+v", rs)
	}
	if n := len(w.topUps()); n != 1 {
		t.Fatalf("%d top-ups", n)
	}
}

// Notifications of one trade racing each other (ECPay's retry beside the
// first post) are all acknowledged and credit once; a signed refused notification posted again is
// listed once.
func TestConcurrentNotificationsCreditOnce(t *testing.T) {
	w := newWorld(t)
	co := w.checkout(700, payments.ChooseCard)
	const n = 8
	replies := make(chan string, n)
	for i := 0; i < n; i++ {
		go func() {
			reply, err := w.fake.Paid(co.TradeNo, nil, nil)
			if err != nil {
				reply = err.Error()
			}
			replies <- reply
		}()
	}
	// Every copy is acknowledged, so that ECPay stops resending; one credits.
	for i := 0; i < n; i++ {
		if r := <-replies; r != "1|OK" {
			t.Errorf("reply %q", r)
		}
	}
	if tops := w.topUps(); len(tops) != 1 {
		t.Fatalf("%d top-ups", len(tops))
	}

	unknown := url.Values{"MerchantID": {ecpay.TestMerchantID}, "MerchantTradeNo": {"RF26031500000000DUP"},
		"RtnCode": {"1"}, "TradeAmt": {"99"}, "SimulatePaid": {"0"}}
	for i := 0; i < 3; i++ {
		f := url.Values{}
		for k, v := range unknown {
			f[k] = v
		}
		if reply, err := w.fake.Send(w.srv.URL+payments.ReturnPath, f, nil, nil); err != nil || !strings.HasPrefix(reply, "0|") {
			t.Fatalf("unknown trade: %q %v", reply, err)
		}
	}
	if rs := w.refused(); len(rs) != 1 {
		t.Fatalf("the same refused notification listed %d times", len(rs))
	}
}

// An ATM account takes transfers until the end of its ExpireDate in
// Taipei (ECPay sends a date for ATM, a date and time for other kinds);
// after that the checkout is expired, not awaiting payment. A paid one
// stays paid.
func TestPaymentStatusAt(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05", s, ecpay.Taipei)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	atm := payments.Payment{Method: domain.MethodBankTransfer, VAccount: "9103522175887271", ExpireDate: "2026/03/18"}
	withTime := atm
	withTime.ExpireDate = "2026/03/18 15:30:00"
	atm.StartedAt = at("2026-03-15 10:00:00")
	paid := atm
	paid.Paid = true
	card := payments.Payment{Method: domain.MethodCard, StartedAt: at("2026-03-15 10:00:00")}
	cardPaid := card
	cardPaid.Paid = true
	noAccount := payments.Payment{Method: domain.MethodBankTransfer, StartedAt: card.StartedAt}
	for _, c := range []struct {
		p    payments.Payment
		now  string
		want string
	}{
		{atm, "2026-03-18 23:59:59", payments.StatusPending},
		{atm, "2026-03-19 00:00:00", payments.StatusExpired},
		{withTime, "2026-03-18 15:30:00", payments.StatusPending},
		{withTime, "2026-03-18 15:30:01", payments.StatusExpired},
		{paid, "2026-04-01 00:00:00", payments.StatusPaid},
		{payments.Payment{Method: domain.MethodBankTransfer, VAccount: "1", ExpireDate: "soon", StartedAt: at("2026-03-15 10:00:00")}, "2027-01-01 00:00:00", payments.StatusPending},
		// A card checkout, or an ATM one ECPay gave no account, awaits its
		// payment for the card window from its start, then expires.
		{card, "2026-03-15 11:00:00", payments.StatusPending},
		{card, "2026-03-15 11:00:01", payments.StatusExpired},
		{cardPaid, "2027-01-01 00:00:00", payments.StatusPaid},
		{noAccount, "2026-03-15 11:00:00", payments.StatusPending},
		{noAccount, "2026-03-15 11:00:01", payments.StatusExpired},
		// The ATM account's own deadline, not the card window, counts.
		{atm, "2026-03-17 10:00:00", payments.StatusPending},
	} {
		// The same instant seen from UTC gives the same answer.
		if got := c.p.Status(at(c.now).UTC(), time.Hour); got != c.want {
			t.Errorf("%+v at %s: %s, want %s", c.p, c.now, got, c.want)
		}
	}
}

// A checkout is credited under the bound it was started under: money a
// customer already paid is credited even when --max-topup was lowered
// while the checkout was open (an ATM account stays open for days).
func TestPaidCheckoutCreditedAfterTheBoundIsLowered(t *testing.T) {
	w := newWorld(t)
	co := w.checkout(30000, payments.ChooseATM)
	w.cmds.MaxTopUp = decimal.NewFromInt(10000) // serve restarted with a lower --max-topup
	if reply, err := w.fake.Paid(co.TradeNo, nil, nil); err != nil || reply != "1|OK" {
		t.Fatalf("transfer of a checkout started under the old bound: %q %v", reply, err)
	}
	if tops := w.topUps(); len(tops) != 1 || !tops[0].Amount.Equal(decimal.NewFromInt(30000)) {
		t.Fatalf("top-ups: %+v", tops)
	}
	// New checkouts meet the new bound.
	ctx := domain.WithActor(w.ctx, domain.Actor{Kind: domain.ActorKey, ID: "key_owner"})
	if _, err := w.svc.Start(ctx, "acct_pay", decimal.NewFromInt(30000), payments.ChooseCard, w.srv.URL); !errors.Is(err, payments.ErrInvalid) {
		t.Fatalf("a new checkout above the lowered bound: %v", err)
	}
}

// A card window under a minute or over a week is a typo, named by its
// variable.
func TestCardPayWindowBounds(t *testing.T) {
	m := ecpay.Merchant{MerchantID: ecpay.TestMerchantID, HashKey: ecpay.TestHashKey, HashIV: ecpay.TestHashIV, Endpoint: "https://payment-stage.ecpay.com.tw/Cashier/AioCheckOut/V5"}
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d := payments.Deps{Store: store, Commands: commands.New(store), View: payments.NewView()}
	for _, w := range []time.Duration{30 * time.Second, 8 * 24 * time.Hour} {
		if _, err := payments.New(payments.Config{Merchant: m, CardPayWindow: w}, d); err == nil || !strings.Contains(err.Error(), payments.EnvCardPayWindow) {
			t.Errorf("card window %s: %v", w, err)
		}
	}
	for _, w := range []time.Duration{0, time.Minute, 3 * time.Hour} {
		if _, err := payments.New(payments.Config{Merchant: m, CardPayWindow: w}, d); err != nil {
			t.Errorf("card window %s: %v", w, err)
		}
	}
}

// Once a trade is paid, its ATM account is history: a later payment info
// naming another account changes nothing the customer sees, is listed for
// finance and is acknowledged, so that ECPay stops resending it. The same
// account sent again is a replay, acknowledged and not listed. Before the
// payment, a new account replaces the old one, as ECPay may assign.
func TestPaymentInfoAfterPaymentChangesNothing(t *testing.T) {
	w := newWorld(t)
	co := w.checkout(2400, payments.ChooseATM)
	if _, err := w.fake.PaymentInfo(co.TradeNo, func(f url.Values) { f.Set("vAccount", "9103522175880001") }); err != nil {
		t.Fatalf("a new account before the payment: %v", err)
	}
	if p, _ := w.svc.View().Payment(co.TradeNo); p.VAccount != "9103522175880001" {
		t.Fatalf("the account before the payment is %q", p.VAccount)
	}
	if reply, err := w.fake.Paid(co.TradeNo, nil, nil); err != nil || reply != "1|OK" {
		t.Fatalf("paid: %q %v", reply, err)
	}
	shown := func() [4]string {
		p, _ := w.svc.View().Payment(co.TradeNo)
		return [4]string{p.BankCode, p.VAccount, p.ExpireDate, strconv.FormatBool(p.Paid)}
	}
	want := shown()
	if want != [4]string{"812", "9103522175880001", expiryOf(w, co.TradeNo), "true"} {
		t.Fatalf("the paid trade shows %v", want)
	}

	// The same account again: a replay.
	if _, err := w.fake.PaymentInfo(co.TradeNo, func(f url.Values) { f.Set("vAccount", "9103522175880001") }); err != nil {
		t.Fatalf("the same account after the payment: %v", err)
	}
	if rs := w.refused(); len(rs) != 0 {
		t.Fatalf("a replayed payment info listed for finance: %+v", rs)
	}
	// Another account: refused, listed, acknowledged.
	if _, err := w.fake.PaymentInfo(co.TradeNo, func(f url.Values) {
		f.Set("BankCode", "007")
		f.Set("vAccount", "9103522175889999")
		f.Set("ExpireDate", "2026/03/30")
	}); err != nil {
		t.Fatalf("another account after the payment: %v", err)
	}
	if got := shown(); got != want {
		t.Fatalf("the paid trade changed to %v, was %v", got, want)
	}
	rs := w.refused()
	if len(rs) != 1 || rs[0].TradeNo != co.TradeNo || rs[0].Endpoint != "payment-info" || rs[0].Fields["vAccount"] != "9103522175889999" || !strings.Contains(rs[0].Reason, "paid") {
		t.Fatalf("refused for finance: %+v", rs)
	}
	if n := len(w.topUps()); n != 1 {
		t.Fatalf("%d top-ups", n)
	}

	// History recorded before the refusal existed: an account assigned
	// after the payment does not show either.
	d, err := commands.Event(domain.EventID(domain.TypePaymentAccountAssigned, co.TradeNo, "old"), time.Now(), &domain.PaymentAccountAssigned{
		AccountID: "acct_pay", Provider: payments.Provider, TradeNo: co.TradeNo, BankCode: "812", VAccount: "9103522175887777", ExpireDate: "2026/03/31"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.store.Append(w.ctx, domain.PaymentStream(co.TradeNo), eventstore.Any(), d)
	if err != nil {
		t.Fatal(err)
	}
	w.wait(res.Position)
	if got := shown(); got != want {
		t.Fatalf("an account recorded after the payment shows: %v, was %v", got, want)
	}
}

// ECPay's signed word that a payment did not go through (a declined card,
// an ATM account it could not assign) makes the checkout read failed, with
// the reason; a refusal of ours (an amount that differs) does not. A
// payment that comes after all credits it, and it reads paid, with when
// and by which top-up event. All lists every checkout, newest first.
func TestDeclinedPaymentFails(t *testing.T) {
	w := newWorld(t)
	card := w.checkout(1000, payments.ChooseCard)
	atm := w.checkout(2000, payments.ChooseATM)
	other := w.checkout(3000, payments.ChooseCard)
	if reply, err := w.fake.Paid(card.TradeNo, func(f url.Values) { f.Set("RtnCode", "10100058"); f.Set("RtnMsg", "授權失敗") }, nil); err != nil || reply != ecpay.ReplyOK {
		t.Fatalf("declined card: %q %v", reply, err)
	}
	if _, err := w.fake.PaymentInfo(atm.TradeNo, func(f url.Values) { f.Set("RtnCode", "10100073"); f.Set("vAccount", "") }); err != nil {
		t.Fatalf("no ATM account: %v", err)
	}
	if reply, err := w.fake.Paid(other.TradeNo, func(f url.Values) { f.Set("TradeAmt", "1") }, nil); err != nil || reply == ecpay.ReplyOK {
		t.Fatalf("under-paid: %q %v", reply, err)
	}
	now := time.Now()
	status := func(trade string) (payments.Payment, string) {
		t.Helper()
		p, ok := w.svc.View().Payment(trade)
		if !ok {
			t.Fatalf("no checkout %s", trade)
		}
		return p, w.svc.Status(p, now)
	}
	if p, s := status(card.TradeNo); s != payments.StatusFailed || !strings.Contains(p.Failure, "RtnCode 10100058") || p.FailedAt.IsZero() {
		t.Errorf("declined card: %s %+v", s, p)
	}
	if p, s := status(atm.TradeNo); s != payments.StatusFailed || !strings.Contains(p.Failure, "RtnCode 10100073") {
		t.Errorf("ATM without an account: %s %+v", s, p)
	}
	if p, s := status(other.TradeNo); s != payments.StatusPending || p.Failure != "" {
		t.Errorf("an under-paid notification made the checkout %s %+v", s, p)
	}

	// The customer tries the card again at the cashier and it goes through.
	if reply, err := w.fake.Paid(card.TradeNo, nil, nil); err != nil || reply != ecpay.ReplyOK {
		t.Fatalf("card paid: %q %v", reply, err)
	}
	p, s := status(card.TradeNo)
	if s != payments.StatusPaid || p.PaidAt.IsZero() || p.TopUpEvent == "" {
		t.Fatalf("paid after a decline: %s %+v", s, p)
	}
	evs, err := w.store.ReadStream(w.ctx, domain.TopUpStream("acct_pay"), 0, 10)
	if err != nil || len(evs) != 1 || evs[0].ID.String() != p.TopUpEvent {
		t.Fatalf("the top-up event %s is not the account's credit: %v %v", p.TopUpEvent, evs, err)
	}

	all := w.svc.View().All()
	if len(all) != 3 {
		t.Fatalf("All lists %d checkouts", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].StartedAt.After(all[i-1].StartedAt) {
			t.Errorf("All is not newest first: %v", all)
		}
	}
}

// The fake cashier's ATM account stays open for the form's ExpireDate days
// from the order, as ECPay's does: a customer trying the fake today sees it
// awaiting the transfer, not already expired.
func TestFakeATMAccountOpenForTheOrdersDays(t *testing.T) {
	w := newWorld(t)
	co := w.checkout(700, payments.ChooseATM)
	order, _ := w.fake.Order(co.TradeNo)
	at, err := time.ParseInLocation("2006/01/02 15:04:05", order.Get("MerchantTradeDate"), ecpay.Taipei)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := w.svc.View().Payment(co.TradeNo)
	if want := expiryOf(w, co.TradeNo); !ok || p.ExpireDate != want {
		t.Fatalf("ATM account open until %q, want %q (ExpireDate %s days from the order)", p.ExpireDate, want, order.Get("ExpireDate"))
	}
	if st := w.svc.Status(p, at); st != payments.StatusPending {
		t.Fatalf("status at the order: %s, want %s", st, payments.StatusPending)
	}
}

// expiryOf is the last day of an ATM order's account: its ExpireDate days
// after its MerchantTradeDate.
func expiryOf(w *world, trade string) string {
	w.t.Helper()
	order, _ := w.fake.Order(trade)
	at, err := time.ParseInLocation("2006/01/02 15:04:05", order.Get("MerchantTradeDate"), ecpay.Taipei)
	days, err2 := strconv.Atoi(order.Get("ExpireDate"))
	if err != nil || err2 != nil {
		w.t.Fatalf("order %s: %v %v", trade, err, err2)
	}
	return at.AddDate(0, 0, days).Format("2006/01/02")
}
