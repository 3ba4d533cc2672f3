package console

import (
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
)

// refusedReason is the visible text of the reason of the refused
// notification of a trade at an endpoint, on the refused-notifications page.
func refusedReason(t *testing.T, page, lang, trade, endpoint string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *html.Node, k string) string {
		for _, a := range n.Attr {
			if a.Key == k {
				return a.Val
			}
		}
		return ""
	}
	var cell *html.Node
	var find func(n *html.Node, inRow bool)
	find = func(n *html.Node, inRow bool) {
		if n.Type == html.ElementNode && n.Data == "tr" {
			inRow = attr(n, "data-trade") == trade && attr(n, "data-endpoint") == endpoint
		}
		if inRow && n.Type == html.ElementNode && n.Data == "td" && attr(n, "data-label") == tr(lang, "pay.refused.reason") {
			cell = n
		}
		for c := n.FirstChild; c != nil && cell == nil; c = c.NextSibling {
			find(c, inRow)
		}
	}
	find(doc, false)
	if cell == nil {
		t.Fatalf("%s: no refused %s notification of %s listed", lang, endpoint, trade)
	}
	return strings.Join(strings.Fields(nodesText(cell)), " ")
}

// The reasons of the notifications whose trade number finance recorded by
// hand otherwise (on another account, or for another amount), and of an
// ATM account sent for a trade already paid, read in the page's language
// on the finance page of refused notifications, as the other reasons do,
// the payment's method in the page's words too.
func TestCreditedOtherwiseReasonsAreTranslated(t *testing.T) {
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { fake = withPayments(t, ech, d) })
	e.openAccount("acct_cust", "付款公司", domain.PlanStarter)
	e.openAccount("acct_other", "別家公司", domain.PlanStarter)
	_, owner, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_cust", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	byHand := func(acct string, amount int64, method, ref string) {
		t.Helper()
		if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: acct, Amount: decimal.NewFromInt(amount), Method: method, Reference: ref}); err != nil {
			t.Fatal(err)
		}
	}
	// A card payment finance recorded on another account.
	elsewhere := e.checkoutAtCashier("acct_cust", owner, "card", "800").TradeNo
	byHand("acct_other", 800, domain.MethodBankTransfer, elsewhere)
	if reply, err := fake.Paid(elsewhere, nil, nil); err != nil || reply != "1|OK" {
		t.Fatalf("paid: %q %v", reply, err)
	}
	// A card payment finance recorded on its account, in lower case, for another amount.
	otherAmount := e.checkoutAtCashier("acct_cust", owner, "card", "600").TradeNo
	byHand("acct_cust", 500, domain.MethodCard, strings.ToLower(otherAmount))
	if reply, err := fake.Paid(otherAmount, nil, nil); err != nil || reply != "1|OK" {
		t.Fatalf("paid: %q %v", reply, err)
	}
	// An ATM account sent again for a trade finance recorded on another account.
	atm := e.checkoutAtCashier("acct_cust", owner, "atm", "700").TradeNo
	byHand("acct_other", 700, domain.MethodBankTransfer, atm)
	if _, err := fake.PaymentInfo(atm, func(f url.Values) { f.Set("vAccount", "9103522175880099") }); err != nil {
		t.Fatal(err)
	}
	// Another ATM account for a trade already paid.
	paid := e.checkoutAtCashier("acct_cust", owner, "atm", "900").TradeNo
	if reply, err := fake.Paid(paid, nil, nil); err != nil || reply != "1|OK" {
		t.Fatalf("paid: %q %v", reply, err)
	}
	if _, err := fake.PaymentInfo(paid, func(f url.Values) { f.Set("vAccount", "9103522175880098") }); err != nil {
		t.Fatal(err)
	}
	e.sync()

	cases := []struct {
		trade, endpoint string
		zh, en          []string
	}{
		{elsewhere, "return", []string{"已另行入帳", elsewhere, "acct_other", "800", tr(langZH, "method.bank-transfer")},
			[]string{"Credited otherwise", elsewhere, "acct_other", "800", tr(langEN, "method.bank-transfer")}},
		{otherAmount, "return", []string{"已另行入帳", otherAmount, "500", tr(langZH, "method.credit-card")},
			[]string{"Credited otherwise", otherAmount, "500", tr(langEN, "method.credit-card")}},
		{atm, "payment-info", []string{"已另行入帳", atm, "acct_other", "700", tr(langZH, "method.bank-transfer")},
			[]string{"Credited otherwise", atm, "acct_other", "700", tr(langEN, "method.bank-transfer")}},
		{paid, "payment-info", []string{"已付款", "ATM"}, []string{"already paid", "ATM account"}},
	}
	for _, lang := range []string{langZH, langEN} {
		b := e.browser()
		b.signIn(e.finance)
		b.get("/console/accounts?lang=" + lang)
		_, page := b.get("/console/payments/refused")
		for _, c := range cases {
			reason := refusedReason(t, page, lang, c.trade, c.endpoint)
			want := c.en
			if lang == langZH {
				want = c.zh
				stripped := reason
				for _, w := range allowedEnglish {
					stripped = strings.ReplaceAll(stripped, w, " ")
				}
				if m := englishPhrase.FindString(stripped); m != "" {
					t.Errorf("zh: the reason of %s (%s) shows English %q: %s", c.trade, c.endpoint, m, reason)
				}
			}
			for _, w := range want {
				if !strings.Contains(reason, w) {
					t.Errorf("%s: the reason of %s (%s) reads %q, without %q", lang, c.trade, c.endpoint, reason, w)
				}
			}
		}
	}
	// The top-ups' refusal that names no account holding the reference.
	const unnamed = `credited otherwise: reference "RF260315100000ABCDEF" is already recorded on another account: a payment credits one account`
	for lang, want := range map[string]string{langZH: "已另行入帳：參考編號「RF260315100000ABCDEF」已登錄於其他帳戶",
		langEN: "Credited otherwise: reference RF260315100000ABCDEF is already recorded on another account"} {
		if got := strings.Join(strings.Fields(messageText(t, reasonOf(lang, unnamed))), " "); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
}
