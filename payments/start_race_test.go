package payments_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
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
	"github.com/routefree/routefree/projections"
)

// process is a second gateway's payments on the world's SQLite file: its
// own store, view and runner, served on loopback.
type process struct {
	svc  *payments.Service
	url  string
	wait func(eventstore.Position)
}

// storeOnly is a store that reads no event by its ID, as KurrentDB's.
type storeOnly struct{ eventstore.Store }

// second opens another process on the world's file; byIDless: its store
// reads no event by ID.
func (w *world) second(byIDless bool) process {
	t := w.t
	t.Helper()
	raw, err := sqlite.Open(w.path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var store eventstore.Store = raw
	if byIDless {
		store = storeOnly{raw}
	}
	view := payments.NewView()
	runner, err := projections.NewRunner(store, nil, view)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; raw.Close() })
	<-runner.Running()
	cmds := commands.New(store)
	cmds.MaxTopUp = w.cmds.MaxTopUp
	svc, err := payments.New(payments.Config{
		Merchant: ecpay.Merchant{MerchantID: ecpay.TestMerchantID, HashKey: ecpay.TestHashKey, HashIV: ecpay.TestHashIV, Endpoint: w.fake.Endpoint()},
	}, payments.Deps{Store: store, Commands: cmds, View: view, WaitFor: runner.WaitFor})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	payments.Register(e, svc)
	return process{svc: svc, url: srv.URL, wait: func(pos eventstore.Position) {
		if err := runner.WaitFor(w.ctx, pos); err != nil {
			t.Fatal(err)
		}
	}}
}

// toCashier posts a checkout's form to the fake cashier, as the browser
// does.
func (w *world) toCashier(fields map[string]string) {
	w.t.Helper()
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v)
	}
	resp, err := http.PostForm(w.fake.Endpoint(), form)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("the fake cashier refused the checkout: %d", resp.StatusCode)
	}
}

// Checkouts that must not start beside a pending one, started at once by
// two processes on one SQLite file: exactly one starts, and each other is
// refused naming it, with nothing recorded. A confirmed checkout starts
// beside it.
func TestCheckoutsStartedAtOnceByTwoProcesses(t *testing.T) {
	w := newWorld(t)
	other := w.second(false)
	ctx := domain.WithActor(w.ctx, domain.Actor{Kind: domain.ActorKey, ID: "key_owner"})
	svcs := []*payments.Service{w.svc, other.svc}
	const n = 16
	trades := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			co, err := svcs[i%2].StartUnlessPending(ctx, "acct_pay", decimal.NewFromInt(500), payments.ChooseCard, w.srv.URL)
			trades[i], errs[i] = co.TradeNo, err
		}()
	}
	close(start)
	wg.Wait()
	var started []string
	for i, err := range errs {
		if err == nil {
			started = append(started, trades[i])
		}
	}
	if len(started) != 1 {
		t.Fatalf("%d checkouts started at once: %v (%v)", len(started), started, errs)
	}
	for i, err := range errs {
		var pe *payments.PendingError
		if err != nil && (!errors.As(err, &pe) || pe.Pending.TradeNo != started[0] || !pe.Pending.Amount.Equal(decimal.NewFromInt(500)) ||
			pe.Pending.Method != domain.MethodCard || pe.Pending.StartedAt.IsZero()) {
			t.Errorf("checkout %d refused with %v, not naming %s", i, err, started[0])
		}
	}
	evs, err := w.store.ReadStream(w.ctx, domain.CheckoutStream("acct_pay"), 0, 100)
	if err != nil || len(evs) != 1 || evs[0].Type != domain.TypePaymentCheckoutStarted {
		t.Fatalf("the account's checkout stream: %d events, %v", len(evs), err)
	}

	// Confirmed, a second starts beside the pending one.
	co, err := other.svc.Start(ctx, "acct_pay", decimal.NewFromInt(300), payments.ChooseCard, w.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	last, err := w.store.LastEvent(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.wait(last.Position)
	if ps := w.svc.View().Payments("acct_pay"); len(ps) != 2 || ps[0].TradeNo != co.TradeNo {
		t.Fatalf("the account's checkouts after one confirmed: %+v", ps)
	}
}

// A checkout started by one process is paid through another whose store
// reads no event by ID (as KurrentDB's): that one finds the trade in its
// view and credits it once. A checkout recorded by an earlier version, in
// its trade's own stream, still credits and still counts as pending.
func TestCheckoutFoundByAnotherProcessAndInOlderHistory(t *testing.T) {
	w := newWorld(t)
	other := w.second(true)
	ctx := domain.WithActor(w.ctx, domain.Actor{Kind: domain.ActorKey, ID: "key_owner"})
	co, err := w.svc.Start(ctx, "acct_pay", decimal.NewFromInt(800), payments.ChooseCard, other.url)
	if err != nil {
		t.Fatal(err)
	}
	w.toCashier(co.Fields)
	last, err := w.store.LastEvent(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	other.wait(last.Position) // the customer is on ECPay's page by now
	if reply, err := w.fake.Paid(co.TradeNo, nil, nil); err != nil || reply != ecpay.ReplyOK {
		t.Fatalf("the payment notified to the other process: %q %v", reply, err)
	}
	if ups := w.topUps(); len(ups) != 1 || ups[0].Reference != co.TradeNo || !ups[0].Amount.Equal(decimal.NewFromInt(800)) {
		t.Fatalf("top-ups: %+v", ups)
	}

	// An earlier version's checkout, in its trade's stream.
	now := time.Now()
	trade := "RF" + now.In(ecpay.Taipei).Format("060102150405") + "OLDER2"
	old := &domain.PaymentCheckoutStarted{AccountID: "acct_pay", Provider: payments.Provider, TradeNo: trade, Amount: decimal.NewFromInt(1200), Method: domain.MethodBankTransfer}
	d, err := commands.Event(domain.EventID(domain.TypePaymentCheckoutStarted, trade), now, old)
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.store.Append(w.ctx, domain.PaymentStream(trade), eventstore.NoStream(), d)
	if err != nil {
		t.Fatal(err)
	}
	w.wait(res.Position)
	var pe *payments.PendingError
	if _, err := w.svc.StartUnlessPending(ctx, "acct_pay", decimal.NewFromInt(100), payments.ChooseCard, w.srv.URL); !errors.As(err, &pe) || pe.Pending.TradeNo != trade {
		t.Fatalf("beside an earlier version's pending checkout: %v", err)
	}
	m := ecpay.Merchant{MerchantID: ecpay.TestMerchantID, HashKey: ecpay.TestHashKey, HashIV: ecpay.TestHashIV, Endpoint: w.fake.Endpoint()}
	fields, err := m.Fields(ecpay.Order{TradeNo: trade, Date: now, Amount: 1200, Description: "RouteFree credit top-up", ItemName: "RouteFree",
		Choose: ecpay.ChooseATM, ReturnURL: w.srv.URL + payments.ReturnPath, PaymentInfoURL: w.srv.URL + payments.PaymentInfoPath, ExpireDays: 3})
	if err != nil {
		t.Fatal(err)
	}
	w.toCashier(fields)
	if _, err := w.fake.PaymentInfo(trade, nil); err != nil {
		t.Fatal(err)
	}
	if reply, err := w.fake.Paid(trade, nil, nil); err != nil || reply != ecpay.ReplyOK {
		t.Fatalf("an earlier version's checkout paid: %q %v", reply, err)
	}
	if ups := w.topUps(); len(ups) != 2 || ups[1].Reference != trade {
		t.Fatalf("top-ups: %+v", ups)
	}
	if p, ok := w.svc.View().Payment(trade); !ok || !p.Paid || p.VAccount == "" {
		t.Fatalf("the earlier version's checkout reads %+v", p)
	}
}
