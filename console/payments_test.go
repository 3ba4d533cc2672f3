package console

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/payments/ecpay"
	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
	"github.com/routefree/routefree/projections"
)

// withPayments mounts card and ATM top-ups against a fake ECPay cashier, as
// serve does with a merchant in the environment: the published test
// merchant, the payments view fed by its own runner.
func withPayments(t *testing.T, ech *echo.Echo, d *Deps) *ecpaytest.Provider {
	t.Helper()
	fake := ecpaytest.New(ecpay.TestMerchantID, ecpay.TestHashKey, ecpay.TestHashIV)
	t.Cleanup(fake.Close)
	view := payments.NewView()
	runner, err := projections.NewRunner(d.Store, nil, view)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-runner.Running()
	main := d.Runner
	d.Payments, err = payments.New(payments.Config{Merchant: ecpay.Merchant{MerchantID: ecpay.TestMerchantID,
		HashKey: ecpay.TestHashKey, HashIV: ecpay.TestHashIV, Endpoint: fake.Endpoint()}},
		payments.Deps{Store: d.Store, Commands: d.Commands, View: view, WaitFor: func(ctx context.Context, pos eventstore.Position) error {
			if err := main.WaitFor(ctx, pos); err != nil {
				return err
			}
			return runner.WaitFor(ctx, pos)
		}})
	if err != nil {
		t.Fatal(err)
	}
	payments.Register(ech, d.Payments)
	return fake
}

// topUpsOf counts the account's recorded credits.
func (e *env) topUpsOf(acct string) []*domain.CreditsToppedUp {
	e.t.Helper()
	evs, err := e.store.ReadStream(e.ctx, domain.TopUpStream(acct), 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*domain.CreditsToppedUp
	for _, ev := range evs {
		if b, err := domain.Decode(ev.Type, ev.SchemaVersion, ev.Data); err == nil {
			if t, ok := b.(*domain.CreditsToppedUp); ok {
				out = append(out, t)
			}
		}
	}
	return out
}

// Must show 1: a customer tops up by card in a real browser. The amount
// form leads to a form that posts to the (fake) ECPay cashier, whose
// signed notification raises the balance; the top-up invoice follows,
// to the customer's carrier. Tampered and under-paid notifications are
// refused, a replay credits nothing, and nothing is credited twice. Then ATM: the
// virtual account shows on the page, and an unmatched notification is
// listed for finance.
func TestBrowserCardTopUp(t *testing.T) {
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { fake = withPayments(t, ech, d) })
	e.openAccount("acct_card", "刷卡儲值股份有限公司", domain.PlanStarter)
	if err := e.cmds.SetInvoiceCarrier(e.ctx, domain.InvoiceCarrierSet{AccountID: "acct_card", Carrier: "/ABC+123"}); err != nil {
		t.Fatal(err)
	}
	_, owner, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_card", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	inv := e.deps.Invoices.(*invoicing.Service)
	if err := inv.AssignRange(e.ctx, "2026-03", "AB", 10000000, 10009999); err != nil {
		t.Fatal(err)
	}
	ictx, stop := context.WithCancel(e.ctx)
	idone := make(chan error, 1)
	go func() { idone <- inv.Run(ictx, nil) }()
	t.Cleanup(func() { stop(); <-idone })

	c := newChrome(t)
	c.signIn(e.srv.URL, owner)
	c.do("top-up page", chromedp.Click(chromedp.CSS("#nav-topup")), chromedp.WaitVisible(chromedp.CSS("#checkout-form")))
	before := decimal.RequireFromString(c.attr("balance before", "#balance", "data-balance"))
	c.do("checkout",
		chromedp.SendKeys(chromedp.CSS("#checkout-amount"), "1,000"),
		chromedp.SetValue(chromedp.CSS("#checkout-method"), payments.ChooseCard),
		chromedp.Click(chromedp.CSS("#checkout-submit")),
		chromedp.WaitVisible(chromedp.CSS("#fake-ecpay")), // the form posted itself to the cashier
	)
	trade := get(c, "trade", chromedp.Text(chromedp.CSS("#trade")))
	order, ok := fake.Order(trade)
	if !ok || order.Get("TotalAmount") != "1000" || order.Get("ChoosePayment") != "Credit" || order.Get("MerchantID") != ecpay.TestMerchantID {
		t.Fatalf("the cashier got %v", order)
	}
	c.do("pay", chromedp.Click(chromedp.CSS("#pay")),
		chromedp.WaitVisible(chromedp.CSS(`#payments tr[data-trade="`+trade+`"][data-paid="true"]`)))
	after := decimal.RequireFromString(c.attr("balance after", "#balance", "data-balance"))
	if want := before.Add(decimal.NewFromInt(1000)); !after.Equal(want) {
		t.Fatalf("balance after paying %s, want %s", after, want)
	}

	// The top-up invoice, issued by invoicing's projector to the carrier.
	var issued *invoicing.Invoice
	for deadline := time.Now().Add(15 * time.Second); issued == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, i := range inv.Invoices("", "acct_card") {
			if slices.Contains(i.TopUps, trade) {
				issued = &i
			}
		}
	}
	if issued == nil {
		t.Fatal("no invoice for the card top-up")
	}
	// The list leaves the document out; the invoice shown has it.
	whole, err := inv.Invoice(invoicing.InvoiceRef(issued.Period, issued.Number))
	if err != nil {
		t.Fatal(err)
	}
	issued = &whole
	if issued.Total != 1000 || issued.Carrier != "/ABC+123" {
		t.Fatalf("top-up invoice: total %d, carrier %q", issued.Total, issued.Carrier)
	}

	// Tampered, under-paid: refused. Replayed: acknowledged, so that ECPay
	// stops resending. Nothing more credited.
	for what, send := range map[string]func() (string, error){
		"tampered": func() (string, error) {
			return fake.Paid(trade, nil, func(f url.Values) { f.Set("TradeAmt", "100000") })
		},
		"under-paid": func() (string, error) { return fake.Paid(trade, func(f url.Values) { f.Set("TradeAmt", "1") }, nil) },
	} {
		if reply, err := send(); err != nil || !strings.HasPrefix(reply, "0|") {
			t.Errorf("%s notification: %q %v", what, reply, err)
		}
	}
	if reply, err := fake.Paid(trade, nil, nil); err != nil || reply != "1|OK" {
		t.Errorf("replayed notification: %q %v", reply, err)
	}
	if tops := e.topUpsOf("acct_card"); len(tops) != 1 || tops[0].Reference != trade || tops[0].Method != domain.MethodCard {
		t.Fatalf("top-ups: %+v", tops)
	}
	if v, _ := e.models.Balances.View("acct_card", "", e.clock.Now()); !v.Balance.Equal(after) {
		t.Fatalf("balance moved to %s after the refused notifications", v.Balance)
	}

	// ATM: the virtual account ECPay assigned shows on the top-up page.
	c.do("atm checkout", chromedp.Navigate(e.srv.URL+"/console/accounts/acct_card/payments"),
		chromedp.WaitVisible(chromedp.CSS("#checkout-form")),
		chromedp.SendKeys(chromedp.CSS("#checkout-amount"), "2400"),
		chromedp.SetValue(chromedp.CSS("#checkout-method"), payments.ChooseATM),
		chromedp.Click(chromedp.CSS("#checkout-submit")),
		chromedp.WaitVisible(chromedp.CSS("#vaccount")))
	atmTrade := get(c, "atm trade", chromedp.Text(chromedp.CSS("#trade")))
	c.do("atm account", chromedp.Navigate(e.srv.URL+"/console/accounts/acct_card/payments"),
		chromedp.WaitVisible(chromedp.CSS(`#payments tr[data-trade="`+atmTrade+`"][data-paid="false"] .vaccount[data-vaccount="9103522175887271"]`)))
	if reply, err := fake.Paid(atmTrade, nil, nil); err != nil || reply != "1|OK" {
		t.Fatalf("ATM transfer: %q %v", reply, err)
	}
	// Unmatched: a signed transfer for a trade number never issued.
	if reply, err := fake.Send(e.srv.URL+payments.ReturnPath, url.Values{"MerchantID": {ecpay.TestMerchantID},
		"MerchantTradeNo": {"RF2603150000UNKNOWN"}, "RtnCode": {"1"}, "TradeAmt": {"5000"}, "PaymentType": {"ATM_TAISHIN"},
		"SimulatePaid": {"0"}}, nil, nil); err != nil || !strings.HasPrefix(reply, "0|") {
		t.Fatalf("unmatched transfer: %q %v", reply, err)
	}
	if tops := e.topUpsOf("acct_card"); len(tops) != 2 || tops[1].Method != domain.MethodBankTransfer || !tops[1].Amount.Equal(decimal.NewFromInt(2400)) {
		t.Fatalf("top-ups after the transfer: %+v", tops)
	}
	c.signOut()
	c.signIn(e.srv.URL, e.finance)
	c.do("refused list", chromedp.Navigate(e.srv.URL+"/console/payments/refused"),
		chromedp.WaitVisible(chromedp.CSS(`#refused tr[data-trade="RF2603150000UNKNOWN"]`)))
	time.Sleep(100 * time.Millisecond)
	if v := c.violations(); len(v) > 0 {
		t.Fatalf("console errors or CSP violations (artefacts: %s):\n%s", c.artefacts("violations"), strings.Join(v, "\n"))
	}
}

// The checkout page lets its one form post to the cashier and nowhere
// else; an inference key, staff, and another account's owner cannot start
// a checkout.
func TestCheckoutFormAndGates(t *testing.T) {
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { fake = withPayments(t, ech, d) })
	e.openAccount("acct_a", "甲公司", domain.PlanStarter)
	e.openAccount("acct_b", "乙公司", domain.PlanStarter)
	_, owner, _ := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_a", Name: "owner", Management: true})
	_, inference := e.issueKey("acct_a")
	e.sync()
	b := e.browser()
	csrf := b.signIn(owner)
	resp, page := b.post("/console/accounts/acct_a/payments", url.Values{"csrf": {csrf}, "amount": {"500"}, "method": {"card"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("checkout: %d %s", resp.StatusCode, page)
	}
	origin := strings.TrimSuffix(fake.Endpoint(), ecpaytest.CheckoutPath)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+origin+";") {
		t.Fatalf("checkout CSP %q", csp)
	}
	if got := attrOf(t, page, "form", "id", "provider-form", "action"); got != fake.Endpoint() {
		t.Fatalf("form posts to %q", got)
	}
	if resp, _ := b.post("/console/accounts/acct_a/payments", url.Values{"csrf": {csrf}, "amount": {"0.5"}, "method": {"card"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("half a dollar: %d", resp.StatusCode)
	}
	if code, _ := e.call("POST", "/admin/api/accounts/acct_b/payments", owner, map[string]any{"amount": "100", "method": "card"}); code != http.StatusNotFound {
		t.Fatalf("another account's checkout: %d", code)
	}
	for who, secret := range map[string]string{"inference key": inference, "finance": e.finance, "admin": e.admin} {
		if code, _ := e.call("POST", "/admin/api/accounts/acct_a/payments", secret, map[string]any{"amount": "100", "method": "card"}); code != http.StatusForbidden {
			t.Errorf("%s started a checkout: %d", who, code)
		}
	}
	// The form's checkout awaits its payment: the API starts another once
	// confirmed.
	code, body := e.call("POST", "/admin/api/accounts/acct_a/payments", owner, map[string]any{"amount": "100", "method": "atm", "confirm": true})
	if code != http.StatusCreated || !strings.Contains(string(body), `"ChoosePayment":"ATM"`) || !strings.Contains(string(body), `"CheckMacValue"`) {
		t.Fatalf("API checkout: %d %s", code, body)
	}
	// ECPay takes ATM orders of NT$11 to NT$49,999: a larger one is
	// refused here, saying so, rather than on ECPay's error page.
	code, body = e.call("POST", "/admin/api/accounts/acct_a/payments", owner, map[string]any{"amount": "60000", "method": "atm"})
	if code != http.StatusBadRequest || !strings.Contains(string(body), "NT$11 to NT$49999") {
		t.Fatalf("ATM checkout of NT$60,000: %d %s", code, body)
	}
	// The console's form says so in the page's language.
	for lang, want := range map[string]string{langZH: "ATM 轉帳每筆須為 NT$11 至 NT$49999", langEN: "An ATM transfer is NT$11 to NT$49999 (NT$60000 given)"} {
		resp, page := b.post("/console/accounts/acct_a/payments?lang="+lang, url.Values{"csrf": {csrf}, "amount": {"60000"}, "method": {"atm"}})
		// The message's figures are marked up apart: compare without spaces.
		squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
		if text := visibleText(t, page); resp.StatusCode != http.StatusBadRequest || !strings.Contains(squeeze(text), squeeze(want)) {
			t.Errorf("%s form, ATM NT$60,000: %d %s", lang, resp.StatusCode, text)
		}
	}
	var recorded struct{ Data []json.RawMessage }
	if code, body := e.call("GET", "/admin/api/accounts/acct_a/payments", owner, nil); code != http.StatusOK || json.Unmarshal(body, &recorded) != nil || len(recorded.Data) != 2 {
		t.Fatalf("checkouts recorded: %d %s", code, body)
	}
	for _, lang := range []string{langZH, langEN} {
		_, page = b.get("/console/accounts/acct_a/payments?lang=" + lang)
		if text := visibleText(t, page); !strings.Contains(text, tr(lang, "pay.atm.range")+" NT$11.00 – NT$49,999.00") {
			t.Errorf("the %s top-up page does not give the ATM range: %s", lang, text)
		}
	}
	// Under a --max-topup below ECPay's bound, the page's range ends there.
	e.deps.Commands.MaxTopUp = decimal.NewFromInt(10000) // as serve --max-topup 10000
	if _, page = b.get("/console/accounts/acct_a/payments?lang=en"); !strings.Contains(visibleText(t, page), "NT$11.00 – NT$10,000.00") {
		t.Errorf("the ATM range under a lower bound: %s", visibleText(t, page))
	}
}

// An ATM account past its deadline takes no transfer: the customer's
// top-up page and the API say the checkout expired, not that it awaits
// payment, and no longer ask for a transfer to it.
func TestExpiredATMAccountIsNotOffered(t *testing.T) {
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { fake = withPayments(t, ech, d) })
	e.openAccount("acct_atm", "轉帳公司", domain.PlanStarter)
	_, owner, _ := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_atm", Name: "owner", Management: true})
	e.sync()
	atm := func(expire string) string {
		t.Helper()
		co := e.checkoutAtCashier("acct_atm", owner, "atm", "300")
		// The cashier assigned an account as the form arrived; ECPay assigns
		// another with this deadline.
		if _, err := fake.PaymentInfo(co.TradeNo, func(f url.Values) {
			f.Set("vAccount", "91035221758"+strings.ReplaceAll(expire, "/", "")[3:])
			f.Set("ExpireDate", expire)
		}); err != nil {
			t.Fatal(err)
		}
		return co.TradeNo
	}
	// The clock reads 2026-03-15 10:00 in Taipei.
	yesterday, today := atm("2026/03/14"), atm("2026/03/15")

	b := e.browser()
	b.signIn(owner)
	status := func(query string) map[string]string {
		t.Helper()
		_, page := b.get("/console/accounts/acct_atm/payments" + query)
		out := map[string]string{}
		for _, row := range elements(t, page, "tr", "data-trade") {
			out[row["data-trade"]] = row["data-status"]
		}
		return out
	}
	if got := status(""); got[yesterday] != payments.StatusExpired || got[today] != payments.StatusPending {
		t.Fatalf("statuses on the top-up page: %v", got)
	}
	_, page := b.get("/console/accounts/acct_atm/payments")
	if !strings.Contains(visibleText(t, page), tr(langZH, "pay.expired")) {
		t.Fatal("the page does not say the ATM account expired")
	}
	if got := status("?status=expired"); len(got) != 1 || got[yesterday] == "" {
		t.Fatalf("the expired filter lists %v", got)
	}
	code, body := e.call("GET", "/admin/api/accounts/acct_atm/payments", owner, nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"trade_no":"`+yesterday+`"`) ||
		strings.Count(string(body), `"status":"expired"`) != 1 || strings.Count(string(body), `"status":"pending"`) != 1 {
		t.Fatalf("API payments: %d %s", code, body)
	}

	// Past midnight in Taipei, today's account has expired too.
	e.clock.mu.Lock()
	e.clock.t = time.Date(2026, 3, 16, 0, 0, 1, 0, projections.Taipei)
	e.clock.mu.Unlock()
	if got := status(""); got[today] != payments.StatusExpired {
		t.Fatalf("statuses after the deadline: %v", got)
	}
}

// Amounts typed with a Chinese input method come in full-width digits and
// separators (１，０００); the forms read them as the numbers they are.
func TestFullWidthAmounts(t *testing.T) {
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { fake = withPayments(t, ech, d) })
	_, mgmt, _ := managedAccount(e, "acct_wide")

	// In the browser: the amount field lets the form go to the cashier.
	c := newChrome(t)
	c.signIn(e.srv.URL, mgmt)
	c.do("checkout of １２３", chromedp.Navigate(e.srv.URL+"/console/accounts/acct_wide/payments"),
		chromedp.WaitVisible(chromedp.CSS("#checkout-form")),
		chromedp.SendKeys(chromedp.CSS("#checkout-amount"), "１２３"),
		chromedp.Click(chromedp.CSS("#checkout-submit")),
		chromedp.WaitVisible(chromedp.CSS("#fake-ecpay")))
	trade := get(c, "trade", chromedp.Text(chromedp.CSS("#trade")))
	if order, ok := fake.Order(trade); !ok || order.Get("TotalAmount") != "123" {
		t.Fatalf("the cashier got %v", order)
	}

	b := e.browser()
	csrf := b.signIn(mgmt)
	// Confirmed: the browser's checkout still awaits its payment.
	resp, page := b.post("/console/accounts/acct_wide/payments", url.Values{"csrf": {csrf}, "amount": {"１，０００"}, "method": {"card"}, "confirm": {"yes"}})
	if resp.StatusCode != http.StatusOK || attrOf(t, page, "input", "name", "TotalAmount", "value") != "1000" {
		t.Fatalf("checkout of １，０００: %d %s", resp.StatusCode, visibleText(t, page))
	}
	resp, page = b.post("/console/accounts/acct_wide/keys", url.Values{"csrf": {csrf}, "name": {"寬字元"}, "spend_limit": {"　４２．５　"}, "spend_period": {"monthly"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("key limited to ４２．５: %d %s", resp.StatusCode, visibleText(t, page))
	}
	found := false
	for _, k := range e.models.Keys.ByAccount("acct_wide") {
		if k.Name == "寬字元" {
			found = k.SpendLimit.Equal(decimal.RequireFromString("42.5"))
		}
	}
	if !found {
		t.Fatal("the key's limit is not NT$42.5")
	}
}

// A card checkout the customer abandoned at the cashier, or sent again
// with the back button, is never notified: once ECPay's card payment
// window has passed without a notification, the top-up page and the API
// say it expired instead of awaiting payment for ever. A paid one stays
// paid, and a notification that comes late still credits.
func TestAbandonedCardCheckoutExpires(t *testing.T) {
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { fake = withPayments(t, ech, d) })
	_, owner, _ := managedAccount(e, "acct_gone")
	card := func() string {
		t.Helper()
		return e.checkoutAtCashier("acct_gone", owner, "card", "500").TradeNo
	}
	abandoned, paid := card(), card()
	if reply, err := fake.Paid(paid, nil, nil); err != nil || reply != "1|OK" {
		t.Fatalf("paying %s: %q %v", paid, reply, err)
	}
	b := e.browser()
	b.signIn(owner)
	status := func() map[string]string {
		t.Helper()
		_, page := b.get("/console/accounts/acct_gone/payments")
		out := map[string]string{}
		for _, row := range elements(t, page, "tr", "data-trade") {
			out[row["data-trade"]] = row["data-status"]
		}
		return out
	}
	apiStatus := func() map[string]string {
		t.Helper()
		code, body := e.call("GET", "/admin/api/accounts/acct_gone/payments", owner, nil)
		var got struct {
			Data []struct {
				TradeNo string `json:"trade_no"`
				Status  string `json:"status"`
			} `json:"data"`
		}
		if code != http.StatusOK || json.Unmarshal(body, &got) != nil {
			t.Fatalf("API payments: %d %s", code, body)
		}
		out := map[string]string{}
		for _, p := range got.Data {
			out[p.TradeNo] = p.Status
		}
		return out
	}
	setClock := func(d time.Duration) {
		e.clock.mu.Lock()
		e.clock.t = testNow.Add(d)
		e.clock.mu.Unlock()
	}

	// Within the window the customer may still be paying.
	setClock(payments.DefaultCardPayWindow)
	if got := status(); got[abandoned] != payments.StatusPending || got[paid] != payments.StatusPaid {
		t.Fatalf("statuses within the card window: %v", got)
	}
	setClock(payments.DefaultCardPayWindow + time.Second)
	want := map[string]string{abandoned: payments.StatusExpired, paid: payments.StatusPaid}
	if got := status(); !maps.Equal(got, want) {
		t.Fatalf("statuses on the page past the card window: %v, want %v", got, want)
	}
	if got := apiStatus(); !maps.Equal(got, want) {
		t.Fatalf("statuses in the API past the card window: %v, want %v", got, want)
	}
	_, page := b.get("/console/accounts/acct_gone/payments")
	if !strings.Contains(visibleText(t, page), tr(langZH, "pay.expired")) {
		t.Fatal("the page does not say the card checkout expired")
	}

	// A notification that comes after all still credits the customer.
	if reply, err := fake.Paid(abandoned, nil, nil); err != nil || reply != "1|OK" {
		t.Fatalf("late payment: %q %v", reply, err)
	}
	if got := apiStatus(); got[abandoned] != payments.StatusPaid {
		t.Fatalf("a late payment reads %v", got)
	}
}

// checkoutAtCashier starts a checkout with the account's management key
// and posts its form to the cashier, as the customer's browser does. It
// confirms the checkout, which the tests start beside pending ones.
func (e *env) checkoutAtCashier(acct, key, method, amount string) payments.Checkout {
	e.t.Helper()
	code, body := e.call("POST", "/admin/api/accounts/"+acct+"/payments", key, map[string]any{"amount": amount, "method": method, "confirm": true})
	if code != http.StatusCreated {
		e.t.Fatalf("%s checkout: %d %s", method, code, body)
	}
	var co struct {
		Data payments.Checkout `json:"data"`
	}
	if err := json.Unmarshal(body, &co); err != nil {
		e.t.Fatal(err)
	}
	form := url.Values{}
	for k, v := range co.Data.Fields {
		form.Set(k, v)
	}
	resp, err := http.PostForm(co.Data.Action, form)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return co.Data
}
