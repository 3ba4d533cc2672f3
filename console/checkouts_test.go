package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
)

// checkoutRows reads the checkouts table of a page: trade number to the
// row's attributes.
func checkoutRows(t *testing.T, page string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, row := range elements(t, page, "tr", "data-trade") {
		out[row["data-trade"]] = row
	}
	return out
}

// Finance and auditors answer "I paid but got no credit" from the
// console: an account's checkouts, and everyone's filtered by state, show
// each trade's method, amount, state (an abandoned card checkout expired,
// a declined one failed, a paid ATM transfer paid), when it was created
// and paid, and the top-up and invoice it led to. Nobody else sees them,
// and the pages change nothing.
func TestStaffSeeCustomerCheckouts(t *testing.T) {
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { fake = withPayments(t, ech, d) })
	_, owner, _ := managedAccount(e, "acct_pay")
	e.openAccount("acct_else", "別家公司", domain.PlanStarter)
	_, otherOwner, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_else", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()

	abandoned := e.checkoutAtCashier("acct_pay", owner, "card", "500").TradeNo
	declined := e.checkoutAtCashier("acct_pay", owner, "card", "900").TradeNo
	if reply, err := fake.Paid(declined, func(f url.Values) { f.Set("RtnCode", "10100058"); f.Set("RtnMsg", "授權失敗") }, nil); err != nil || reply != "1|OK" {
		t.Fatalf("declined card: %q %v", reply, err)
	}
	atm := e.checkoutAtCashier("acct_pay", owner, "atm", "2400").TradeNo
	if _, err := fake.PaymentInfo(atm, nil); err != nil {
		t.Fatal(err)
	}
	if reply, err := fake.Paid(atm, nil, nil); err != nil || reply != "1|OK" {
		t.Fatalf("ATM transfer: %q %v", reply, err)
	}
	elsewhere := e.checkoutAtCashier("acct_else", otherOwner, "card", "300").TradeNo
	if reply, err := fake.Paid(elsewhere, nil, nil); err != nil || reply != "1|OK" {
		t.Fatalf("other account's card: %q %v", reply, err)
	}
	// The ATM transfer's top-up invoice.
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 20000000, 20000099); err != nil {
		t.Fatal(err)
	}
	inv, _, err := svc.IssueTopUp(e.ctx, "acct_pay", atm)
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	// Past the card window: the card checkout nobody paid expired.
	e.clock.mu.Lock()
	e.clock.t = testNow.Add(payments.DefaultCardPayWindow + time.Minute)
	e.clock.mu.Unlock()

	for who, secret := range map[string]string{"finance": e.finance, "auditor": e.auditor} {
		b := e.browser()
		b.signIn(secret)
		b.get("/console/accounts?lang=en")

		// The account page leads to its checkouts, and the navigation to everyone's.
		_, page := b.get("/console/accounts/acct_pay")
		if got := attrOf(t, page, "a", "id", "account-checkouts", "href"); got != "/console/accounts/acct_pay/checkouts" {
			t.Errorf("%s: the account page links to %q", who, got)
		}
		if got := attrOf(t, page, "a", "id", "nav-checkouts", "href"); got != "/console/payments" {
			t.Errorf("%s: the navigation links to %q", who, got)
		}

		resp, page := b.get("/console/accounts/acct_pay/checkouts")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: the account's checkouts: %d %s", who, resp.StatusCode, visibleText(t, page))
		}
		rows := checkoutRows(t, page)
		if len(rows) != 3 || rows[elsewhere] != nil {
			t.Fatalf("%s: the account's checkouts are %v", who, rows)
		}
		want := map[string]struct{ status, method, paid, invoice string }{
			abandoned: {payments.StatusExpired, domain.MethodCard, "", ""},
			declined:  {payments.StatusFailed, domain.MethodCard, "", ""},
			atm:       {payments.StatusPaid, domain.MethodBankTransfer, "2026-03-15 10:00", inv.Number},
		}
		for trade, w := range want {
			r := rows[trade]
			if r["data-status"] != w.status || r["data-method"] != w.method || r["data-paid-at"] != w.paid || r["data-invoice"] != w.invoice {
				t.Errorf("%s: checkout %s reads %v, want %+v", who, trade, r, w)
			}
		}
		text := visibleText(t, page)
		for _, s := range []string{abandoned, declined, atm, "NT$2,400.00", "NT$500.00", "Expired", "Failed", "Paid", "Bank transfer", inv.Number, "10100058"} {
			if !strings.Contains(text, s) {
				t.Errorf("%s: the account's checkouts do not show %q: %s", who, s, text)
			}
		}
		if got := attrOf(t, page, "a", "data-invoice-pdf", inv.Number, "href"); got != "/admin/api/invoices/"+inv.Number+"/pdf" {
			t.Errorf("%s: the invoice links to %q", who, got)
		}
		for _, f := range elements(t, page, "form", "method") {
			if strings.EqualFold(f["method"], "post") && f["action"] != "/console/signout" {
				t.Errorf("%s: the checkouts page has a form posting to %s", who, f["action"])
			}
		}

		// Everyone's checkouts, by state.
		_, page = b.get("/console/payments")
		if rows := checkoutRows(t, page); len(rows) != 4 || rows[elsewhere]["data-account"] != "acct_else" {
			t.Errorf("%s: all checkouts: %v", who, rows)
		}
		for status, trades := range map[string][]string{
			payments.StatusExpired: {abandoned}, payments.StatusFailed: {declined},
			payments.StatusPaid: {atm, elsewhere}, payments.StatusPending: nil,
		} {
			_, page = b.get("/console/payments?status=" + status)
			rows := checkoutRows(t, page)
			if len(rows) != len(trades) {
				t.Errorf("%s: %s checkouts: %v, want %v", who, status, rows, trades)
			}
			for _, trade := range trades {
				if rows[trade]["data-status"] != status {
					t.Errorf("%s: %s checkouts lack %s: %v", who, status, trade, rows)
				}
			}
		}
		// A trade number a customer reads out on the phone finds its checkout.
		if _, page = b.get("/console/payments?q=" + atm); len(checkoutRows(t, page)) != 1 {
			t.Errorf("%s: searching %s finds %v", who, atm, checkoutRows(t, page))
		}

		// The same in the API.
		code, body := e.call("GET", "/admin/api/payments?status=paid", secret, nil)
		var got struct {
			Data []struct {
				TradeNo   string    `json:"trade_no"`
				AccountID string    `json:"account_id"`
				Status    string    `json:"status"`
				PaidAt    time.Time `json:"paid_at"`
				Invoices  []string  `json:"invoices"`
			} `json:"data"`
		}
		if code != http.StatusOK || json.Unmarshal(body, &got) != nil || len(got.Data) != 2 {
			t.Fatalf("%s: API paid checkouts: %d %s", who, code, body)
		}
		for _, p := range got.Data {
			if p.Status != payments.StatusPaid || p.PaidAt.IsZero() || (p.TradeNo == atm && (len(p.Invoices) != 1 || p.Invoices[0] != inv.Number)) {
				t.Errorf("%s: API checkout %+v", who, p)
			}
		}
		if code, body := e.call("GET", "/admin/api/payments?status=lost", secret, nil); code != http.StatusBadRequest || !strings.Contains(string(body), "status must be pending, paid, expired, failed or otherwise") {
			t.Errorf("%s: API checkouts of an unknown state: %d %s", who, code, body)
		}
		if code, body := e.call("GET", "/admin/api/accounts/acct_pay/payments", secret, nil); code != http.StatusOK || strings.Count(string(body), `"trade_no"`) != 3 {
			t.Errorf("%s: API account checkouts: %d %s", who, code, body)
		}
	}

	// In Chinese.
	b := e.browser()
	b.signIn(e.finance)
	b.get("/console/accounts?lang=zh-TW")
	_, page := b.get("/console/payments")
	checkChinese(t, "checkouts", page)
	for _, s := range []string{tr(langZH, "pay.state.expired"), tr(langZH, "pay.state.failed"), tr(langZH, "pay.state.paid")} {
		if !strings.Contains(visibleText(t, page), s) {
			t.Errorf("the Chinese checkouts page does not say %q", s)
		}
	}

	// Admins, customers: not theirs to read.
	for who, secret := range map[string]string{"admin": e.admin, "customer": owner} {
		b := e.browser()
		b.signIn(secret)
		for _, path := range []string{"/console/payments", "/console/accounts/acct_pay/checkouts"} {
			if resp, _ := b.get(path); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s reads %s: %d", who, path, resp.StatusCode)
			}
		}
		if code, _ := e.call("GET", "/admin/api/payments", secret, nil); code != http.StatusForbidden {
			t.Errorf("%s reads the API's checkouts: %d", who, code)
		}
	}
	// The customer still reads their own, with the declined one failed.
	ob := e.browser()
	ob.signIn(owner)
	_, page = ob.get("/console/accounts/acct_pay/payments?status=failed")
	if rows := checkoutRows(t, page); len(rows) != 1 || rows[declined]["data-status"] != payments.StatusFailed ||
		!strings.Contains(visibleText(t, page), tr(langZH, "pay.failed")) {
		t.Errorf("the customer's top-up page lists as failed: %v", rows)
	}
	if code, body := e.call("GET", "/admin/api/accounts/acct_pay/payments", owner, nil); code != http.StatusOK || !strings.Contains(string(body), `"status":"failed"`) {
		t.Errorf("the customer's own checkouts: %d %s", code, body)
	}
}
