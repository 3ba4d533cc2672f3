package console

import (
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
)

// rowText is the visible text of the table row of a trade on a page.
func rowText(t *testing.T, page, trade string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var row *html.Node
	var find func(n *html.Node)
	find = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" {
			for _, a := range n.Attr {
				if a.Key == "data-trade" && a.Val == trade {
					row = n
				}
			}
		}
		for c := n.FirstChild; c != nil && row == nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if row == nil {
		t.Fatalf("no row of %s on the page", trade)
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(row)
	return b.String()
}

// An ATM checkout whose payment ECPay reports failed after it assigned
// the virtual account reads failed on the customer's top-up page, as a
// failure before any account: the account is not offered to transfer
// into, in either language, and the page offers a new checkout. An ATM
// checkout awaiting its transfer still shows its account.
func TestFailedATMCheckoutDoesNotOfferItsAccount(t *testing.T) {
	e, owner, failed, open := twoATMCheckouts(t)
	// The checkout's history keeps the account ECPay assigned (finance
	// reads it); the customer's page is what must not offer it.
	if p, ok := e.deps.Payments.View().Payment(failed); !ok || p.VAccount != failedAccount || e.deps.Payments.Status(p, e.deps.now()) != payments.StatusFailed {
		t.Fatalf("the failed checkout reads %+v", p)
	}

	for _, lang := range []string{langZH, langEN} {
		b := e.browser()
		b.signIn(owner)
		b.get("/console/accounts?lang=" + lang)
		_, page := b.get("/console/accounts/acct_atmfail/payments")
		rows := checkoutRows(t, page)
		if rows[failed]["data-status"] != payments.StatusFailed || rows[open]["data-status"] != payments.StatusPending {
			t.Fatalf("%s: the top-up page lists %v", lang, rows)
		}
		failedRow := rowText(t, page, failed)
		if strings.Contains(failedRow, failedAccount) || strings.Contains(failedRow, tr(lang, "pay.atm.expire")) {
			t.Errorf("%s: the failed checkout offers its account: %s", lang, failedRow)
		}
		if !strings.Contains(failedRow, tr(lang, "pay.failed")) {
			t.Errorf("%s: the failed checkout does not say it failed: %s", lang, failedRow)
		}
		if strings.Contains(page, failedAccount) {
			t.Errorf("%s: the failed checkout's account is on the page", lang)
		}
		for _, v := range elements(t, page, "span", "data-vaccount") {
			if v["data-vaccount"] != openAccount {
				t.Errorf("%s: the page offers account %s", lang, v["data-vaccount"])
			}
		}
		if !strings.Contains(rowText(t, page, open), openAccount) {
			t.Errorf("%s: the checkout awaiting its transfer does not show its account", lang)
		}
		if len(elementsByID(t, page, "checkout-form")) != 1 {
			t.Errorf("%s: the page offers no new checkout", lang)
		}
	}
}

// Finance reads a failed ATM checkout's virtual account on the checkouts
// pages (it is evidence of what ECPay assigned), as the failed checkout's
// account, without a date to pay by: it is not offered to transfer into.
// An ATM checkout awaiting its transfer still shows its pay-by date. In
// either language.
func TestFailedATMCheckoutShowsFinanceItsAccountWithoutAPayByDate(t *testing.T) {
	e, _, failed, open := twoATMCheckouts(t)

	for _, lang := range []string{langZH, langEN} {
		b := e.browser()
		b.signIn(e.finance)
		b.get("/console/accounts?lang=" + lang)
		for _, path := range []string{"/console/payments", "/console/accounts/acct_atmfail/checkouts"} {
			_, page := b.get(path)
			rows := checkoutRows(t, page)
			if rows[failed]["data-status"] != payments.StatusFailed || rows[open]["data-status"] != payments.StatusPending {
				t.Fatalf("%s %s: the checkouts read %v", lang, path, rows)
			}
			failedRow := rowText(t, page, failed)
			if !strings.Contains(failedRow, failedAccount) || !strings.Contains(failedRow, tr(lang, "pay.atm.failedaccount")) {
				t.Errorf("%s %s: the failed checkout does not show finance its account as the failed one's: %s", lang, path, failedRow)
			}
			if strings.Contains(failedRow, tr(lang, "pay.atm.expire")) {
				t.Errorf("%s %s: the failed checkout's account has a date to pay by: %s", lang, path, failedRow)
			}
			if openRow := rowText(t, page, open); !strings.Contains(openRow, openAccount) || !strings.Contains(openRow, tr(lang, "pay.atm.expire")) ||
				strings.Contains(openRow, tr(lang, "pay.atm.failedaccount")) {
				t.Errorf("%s %s: the checkout awaiting its transfer reads %s", lang, path, openRow)
			}
		}
	}
}

// The virtual accounts of twoATMCheckouts' checkouts.
const failedAccount, openAccount = "9103522175880042", "9103522175880077"

// twoATMCheckouts opens an account with a management key (owner) and two
// ATM checkouts at the fake cashier: failed, whose payment ECPay reported
// failed after it assigned failedAccount, and open, awaiting its transfer
// into openAccount.
func twoATMCheckouts(t *testing.T) (e *env, owner, failed, open string) {
	t.Helper()
	var fake *ecpaytest.Provider
	e = buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { fake = withPayments(t, ech, d) })
	e.openAccount("acct_atmfail", "轉帳公司", domain.PlanStarter)
	_, owner, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_atmfail", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	failed = e.checkoutAtCashier("acct_atmfail", owner, "atm", "2000").TradeNo
	if _, err := fake.PaymentInfo(failed, func(f url.Values) { f.Set("vAccount", failedAccount) }); err != nil {
		t.Fatal(err)
	}
	if reply, err := fake.Paid(failed, func(f url.Values) { f.Set("RtnCode", "10100248"); f.Set("RtnMsg", "交易失敗") }, nil); err != nil || reply != "1|OK" {
		t.Fatalf("the failed transfer's notification: %q %v", reply, err)
	}
	open = e.checkoutAtCashier("acct_atmfail", owner, "atm", "1000").TradeNo
	if _, err := fake.PaymentInfo(open, func(f url.Values) { f.Set("vAccount", openAccount) }); err != nil {
		t.Fatal(err)
	}
	return e, owner, failed, open
}
