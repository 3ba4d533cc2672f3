package console

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
)

// Two tabs of the top-up page each hold their own form: the one-time token
// stops a resend of one form, not the other tab's. A checkout started while
// another of the account's, started within the last half hour, still awaits
// its payment first shows that one (amount, when it started) and asks, in
// the page's language; confirmed, the second checkout goes to the cashier.
// A paid checkout, or one older than half an hour, asks nothing.
func TestSecondTabCheckoutShowsThePendingOneFirst(t *testing.T) {
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { fake = withPayments(t, ech, d) })
	_, mgmt, _ := managedAccount(e, "acct_tabs")
	b := e.browser()
	b.signIn(mgmt)
	const path = "/console/accounts/acct_tabs/payments"
	tab := func(lang, amount string) (*http.Response, string) {
		t.Helper()
		_, page := b.get(path + "?lang=" + lang)
		form := formFields(t, page, path)
		form.Set("amount", amount)
		form.Set("method", "card")
		return b.post(path+"?lang="+lang, form)
	}
	// Both tabs open before either is sent.
	_, first := b.get(path + "?lang=en")
	_, second := b.get(path + "?lang=en")
	f1, f2 := formFields(t, first, path), formFields(t, second, path)
	f1.Set("amount", "700")
	f1.Set("method", "card")
	f2.Set("amount", "500")
	f2.Set("method", "card")

	resp, page := b.post(path+"?lang=en", f1)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="provider-form"`) {
		t.Fatalf("the first tab: %d %s", resp.StatusCode, visibleText(t, page))
	}
	pending := postToCashier(t, page)
	started := e.clock.Now()

	e.clock.set(started.Add(12 * time.Minute))
	resp, page = b.post(path+"?lang=en", f2)
	if resp.StatusCode != http.StatusOK || strings.Contains(page, `id="provider-form"`) {
		t.Fatalf("the second tab went to the cashier while %s awaits its payment: %d %s", pending, resp.StatusCode, visibleText(t, page))
	}
	text := elementText(t, page, "confirm-step")
	for _, want := range []string{pending, "NT$700", "2026-03-15 10:00", tr(langEN, "confirm.checkout"), "NT$500"} {
		if !strings.Contains(text, want) {
			t.Errorf("the question does not say %q: %s", want, text)
		}
	}
	if n := len(e.deps.Payments.View().Payments("acct_tabs")); n != 1 {
		t.Fatalf("%d checkouts before the second was confirmed", n)
	}

	// In Chinese, the same question.
	_, zh := tab("zh-TW", "300")
	if text := elementText(t, zh, "confirm-step"); !strings.Contains(text, tr(langZH, "confirm.checkout")) || !strings.Contains(text, pending) {
		t.Errorf("the Chinese page: %s", text)
	}

	// Confirmed, the second checkout goes to the cashier, once however
	// often the confirmation is sent.
	confirm := formFields(t, page, path)
	if confirm.Get("amount") != "500" || confirm.Get("once") != f2.Get("once") {
		t.Fatalf("the confirmation carries %v", confirm)
	}
	resp, page = b.post(path+"?lang=en", confirm)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="provider-form"`) {
		t.Fatalf("the confirmed second checkout: %d %s", resp.StatusCode, visibleText(t, page))
	}
	second2 := postToCashier(t, page)
	if resp, _ := b.post(path+"?lang=en", confirm); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the confirmation sent again: %d", resp.StatusCode)
	}
	if n := len(e.deps.Payments.View().Payments("acct_tabs")); n != 2 {
		t.Fatalf("%d checkouts after one confirmed second", n)
	}

	// Both paid: nothing pending, nothing asked.
	for _, trade := range []string{pending, second2} {
		if _, err := fake.Paid(trade, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	e.sync()
	if resp, page := tab("en", "200"); resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="provider-form"`) {
		t.Fatalf("a checkout with none pending: %d %s", resp.StatusCode, visibleText(t, page))
	}
	// That one is left unpaid; half an hour later it no longer counts as
	// recent, and the next checkout asks nothing.
	e.clock.set(e.clock.Now().Add(31 * time.Minute))
	if resp, page := tab("en", "100"); resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="provider-form"`) {
		t.Fatalf("a checkout beside one 31 minutes old: %d %s", resp.StatusCode, visibleText(t, page))
	}
}
