package console

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
)

// Many tabs of the top-up page sent at once, half of them to a second
// console on the same store: of the unconfirmed forms exactly one goes to
// the cashier, and every other names that checkout and asks, as a tab sent
// after it does. One checkout is recorded, and the cashier gets one order.
func TestTabsSentAtOnceStartOneCheckout(t *testing.T) {
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { fake = withPayments(t, ech, d) })
	other := secondInstance(t, e).srv.URL
	_, mgmt, _ := managedAccount(e, "acct_race")
	b := e.browser()
	b.signIn(mgmt)
	const path = "/console/accounts/acct_race/payments"
	const tabs = 12
	forms := make([]url.Values, tabs)
	for i := range forms {
		_, page := b.get(path + "?lang=en")
		forms[i] = formFields(t, page, path)
		forms[i].Set("amount", "700")
		forms[i].Set("method", "card")
	}
	pages := make([]string, tabs)
	codes := make([]int, tabs)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range forms {
		base := []string{e.srv.URL, other}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := b.c.PostForm(base+path+"?lang=en", forms[i])
			if err != nil {
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			codes[i], pages[i] = resp.StatusCode, string(body)
		}()
	}
	close(start)
	wg.Wait()

	var started []string
	asked := 0
	for i, page := range pages {
		switch {
		case codes[i] == http.StatusOK && strings.Contains(page, `id="provider-form"`):
			started = append(started, attrOf(t, page, "input", "name", "MerchantTradeNo", "value"))
		case codes[i] == http.StatusOK && strings.Contains(page, `id="confirm-step"`):
			asked++
		default:
			t.Errorf("tab %d: %d %s", i, codes[i], page)
		}
	}
	if len(started) != 1 || asked != tabs-1 {
		t.Fatalf("%d tabs sent at once started %v and asked %d", tabs, started, asked)
	}
	for i, page := range pages {
		if strings.Contains(page, `id="confirm-step"`) {
			if text := elementText(t, page, "confirm-step"); !strings.Contains(text, started[0]) || !strings.Contains(text, "NT$700") {
				t.Errorf("tab %d asks without naming %s: %s", i, started[0], text)
			}
		}
	}
	e.sync()
	if n := countEvents(e, domain.TypePaymentCheckoutStarted); n != 1 {
		t.Fatalf("%d checkouts recorded", n)
	}
	if ps := e.deps.Payments.View().Payments("acct_race"); len(ps) != 1 || ps[0].TradeNo != started[0] {
		t.Fatalf("the account's checkouts: %+v", ps)
	}
	postToCashier(t, pages[indexOf(pages, `id="provider-form"`)])
	if n := len(fake.Orders()); n != 1 {
		t.Fatalf("the cashier got %d orders", n)
	}
}

// indexOf is the index of the first page that holds s.
func indexOf(pages []string, s string) int {
	for i, p := range pages {
		if strings.Contains(p, s) {
			return i
		}
	}
	return -1
}
