package console

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
)

// Two tabs of the top-up page in one browser, on a phone: the first goes
// to the cashier; the second names the first's checkout and asks, in
// Chinese, on a page that fits the phone, and confirmed goes to the
// cashier too.
func TestBrowserTwoTabsCheckoutOnAPhone(t *testing.T) {
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { fake = withPayments(t, ech, d) })
	_, mgmt, _ := managedAccount(e, "acct_two_tabs")
	first := newChrome(t)
	phone := chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile)
	first.do("phone", phone)
	first.signIn(e.srv.URL, mgmt)
	ctx, cancel := chromedp.NewContext(first.ctx) // a second tab of the same browser
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab, for as long as ctx lasts
		t.Fatal(err)
	}
	second := &chrome{t: t, ctx: ctx}
	second.do("phone", phone)

	page := e.srv.URL + "/console/accounts/acct_two_tabs/payments?lang=zh-TW"
	for i, tab := range []*chrome{first, second} {
		tab.do(fmt.Sprintf("top-up page in tab %d", i+1), chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#checkout-form")))
	}
	first.do("first checkout",
		chromedp.SendKeys(chromedp.CSS("#checkout-amount"), "700"),
		chromedp.Click(chromedp.CSS("#checkout-submit")),
		chromedp.WaitVisible(chromedp.CSS("#fake-ecpay")))
	trade := get(first, "trade", chromedp.Text(chromedp.CSS("#trade")))

	second.do("second checkout",
		chromedp.SendKeys(chromedp.CSS("#checkout-amount"), "500"),
		chromedp.Click(chromedp.CSS("#checkout-submit")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-step")))
	text := get(second, "question", chromedp.Text(chromedp.CSS("#confirm-step")))
	for _, want := range []string{tr(langZH, "confirm.checkout"), trade, "NT$700.00", "NT$500.00"} {
		if !strings.Contains(text, want) {
			t.Errorf("the question does not say %q: %s", want, text)
		}
	}
	if bad := offScreen(second, "question on a phone", "#confirm-step dd", "#confirm-submit", "#confirm-cancel"); len(bad) > 0 {
		t.Errorf("the question on a phone (artefacts: %s):\n%s", second.artefacts("phone-checkout-question"), strings.Join(bad, "\n"))
	}
	if n := len(fake.Orders()); n != 1 {
		t.Fatalf("the cashier got %d orders before the second was confirmed", n)
	}
	second.do("confirmed", chromedp.Click(chromedp.CSS("#confirm-submit")), chromedp.WaitVisible(chromedp.CSS("#fake-ecpay")))
	if n := len(fake.Orders()); n != 2 {
		t.Fatalf("the cashier got %d orders after the second was confirmed", n)
	}
	time.Sleep(100 * time.Millisecond) // late console messages
	if v := first.violations(); len(v) > 0 {
		t.Fatalf("console errors or CSP violations (artefacts: %s):\n%s", first.artefacts("violations"), strings.Join(v, "\n"))
	}
}
