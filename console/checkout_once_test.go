package console

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
)

// postToCashier posts a checkout page's form to the (fake) cashier, as
// checkout.js does, and returns its trade number.
func postToCashier(t *testing.T, page string) string {
	t.Helper()
	action := attrOf(t, page, "form", "id", "provider-form", "action")
	form := formFields(t, page, action)
	resp, err := http.PostForm(action, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the cashier answered %d", resp.StatusCode)
	}
	return form.Get("MerchantTradeNo")
}

// A top-up form sent again (the back button and a resend) starts no second
// checkout: ECPay takes a trade number once, and a second trade could be
// paid as well. The resend leads to the top-up page, which says the form
// was already sent, shows its checkout and how to go on; a double click
// (two copies at once) starts one checkout too. The one checkout, paid,
// credits once.
func TestResentTopUpFormStartsOneCheckout(t *testing.T) {
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { fake = withPayments(t, ech, d) })
	_, mgmt, _ := managedAccount(e, "acct_twice")
	b := e.browser()
	b.signIn(mgmt)
	_, page := b.get("/console/accounts/acct_twice/payments?lang=en")
	form := formFields(t, page, "/console/accounts/acct_twice/payments")
	once := form.Get("once")
	form.Set("amount", "700")
	form.Set("method", "card")

	resp, page := b.post("/console/accounts/acct_twice/payments?lang=en", form)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("checkout: %d %s", resp.StatusCode, visibleText(t, page))
	}
	trade := postToCashier(t, page)

	// The back button and a resend of the same form.
	resp, page = b.post("/console/accounts/acct_twice/payments?lang=en", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the resent form: %d %s", resp.StatusCode, visibleText(t, page))
	}
	_, page = b.get(resp.Header.Get("Location"))
	if strings.Contains(page, `id="provider-form"`) {
		t.Fatal("the resent form leads to ECPay again")
	}
	text := visibleText(t, page)
	if !strings.Contains(text, tr(langEN, "pay.repeated")) || !strings.Contains(elementText(t, page, "checkout-started"), trade) {
		t.Fatalf("the top-up page after a resend: %s", text)
	}
	if got := attrOf(t, page, "tr", "data-trade", trade, "aria-current"); got != "true" {
		t.Errorf("the started checkout's row is not marked: %q", got)
	}
	// The page's own form, with its new token, may top up again.
	if next := formFields(t, page, "/console/accounts/acct_twice/payments").Get("once"); next == once || next == "" {
		t.Errorf("the page gives its form the token %q again", next)
	}

	// A double click: two copies of a new form at once, confirmed (the
	// first checkout still awaits its payment, so a new form asks first).
	_, page = b.get("/console/accounts/acct_twice/payments")
	form.Set("once", formFields(t, page, "/console/accounts/acct_twice/payments").Get("once"))
	form.Set("confirm", "yes")
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := b.c.PostForm(e.srv.URL+"/console/accounts/acct_twice/payments", form)
			if err == nil {
				codes[i] = resp.StatusCode
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if !(codes[0] == http.StatusOK && codes[1] == http.StatusSeeOther) && !(codes[1] == http.StatusOK && codes[0] == http.StatusSeeOther) {
		t.Errorf("a double click answered %v", codes)
	}

	rows := e.deps.Payments.View().Payments("acct_twice")
	if len(rows) != 2 {
		t.Fatalf("%d checkouts from two forms, one sent twice, the other double-clicked: %+v", len(rows), rows)
	}
	if n := len(fake.Orders()); n != 1 {
		t.Fatalf("the cashier got %d orders", n)
	}
	if _, err := fake.Paid(trade, nil, nil); err != nil {
		t.Fatal(err)
	}
	e.sync()
	if ups := e.topUpsOf("acct_twice"); len(ups) != 1 || ups[0].Reference != trade {
		t.Fatalf("top-ups: %+v", ups)
	}
	p, _ := e.deps.Payments.View().Payment(trade)
	if st := e.deps.Payments.Status(p, e.clock.Now()); st != payments.StatusPaid {
		t.Fatalf("the checkout reads %s", st)
	}
}
