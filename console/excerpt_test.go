package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
)

// hostileInputs are what a refusal must not echo back whole: an amount
// beyond any decimal a person types, 10,000 digits, and close to a
// megabyte of text (a body's limit).
func hostileInputs() map[string]string {
	return map[string]string{
		"1e400":        "1e400" + strings.Repeat("0", 40),
		"10000 digits": strings.Repeat("9", 10000),
		"1 MB":         strings.Repeat("7", 1<<20-400),
	}
}

// echoesWhole reports whether body repeats more of typed than a short
// prefix (domain.MaxQuoted characters).
func echoesWhole(body, typed string) bool {
	return strings.Contains(body, typed[:domain.MaxQuoted+1])
}

// Every refusal of the admin API quotes at most a short prefix of what it
// refuses, whichever field holds it, and records nothing.
func TestAPIRefusalsQuoteAShortPrefix(t *testing.T) {
	e := build(t, false, true)
	e.openAccount("acct_x", "長字串公司", domain.PlanBusiness)
	e.sync()
	before := len(e.allEvents())
	for name, typed := range hostileInputs() {
		for _, c := range []struct {
			path, token, body string
		}{
			{"/admin/api/accounts/acct_x/topups", e.finance, `{"amount":"%s","method":"bank-transfer","reference":"R1"}`},
			{"/admin/api/accounts/acct_x/topups", e.finance, `{"amount":%s,"method":"bank-transfer","reference":"R1"}`},
			{"/admin/api/accounts/acct_x/adjustments", e.finance, `{"amount":"%s","reason":"r"}`},
			{"/admin/api/accounts/acct_x/credit-limit", e.finance, `{"credit_limit":"%s"}`},
			{"/admin/api/accounts/acct_x/plan", e.admin, `{"plan":"%s"}`},
			{"/admin/api/accounts/acct_x/plan", e.admin, `{"plan":"enterprise","rpm":%s}`},
			{"/admin/api/accounts", e.admin, `{"account_id":"%s","organisation":"o","plan":"business"}`},
			{"/admin/api/accounts", e.admin, `{"organisation":"o","plan":"business","tax_id":"%s"}`},
			{"/admin/api/accounts/acct_x/data-requirement", e.admin, `{"residency":"%s"}`},
			{"/admin/api/accounts/acct_x/invoice-carrier", e.admin, `{"carrier":"%s"}`},
			{"/admin/api/accounts/acct_x/invoice-carrier", e.admin, `{"donation_code":"%s"}`},
			{"/admin/api/accounts/acct_x/keys", e.admin, `{"name":"k","expires_at":"%s"}`},
			{"/admin/api/prices", e.admin, `{"effective_at":"%s","from_catalog":true}`},
		} {
			body := fmt.Sprintf(c.body, typed)
			if strings.HasPrefix(typed, "7") && !strings.Contains(c.body, `"%s"`) {
				continue // a megabyte of digits is a number of the 10,000-digit kind
			}
			if strings.Contains(c.body, "account_id") && len(typed) <= 64 {
				continue // a valid account ID
			}
			code, resp := e.send(http.MethodPost, c.path, c.token, strings.NewReader(body))
			if code < 400 || code >= 500 || echoesWhole(string(resp), typed) || len(resp) > 2000 {
				t.Errorf("%s %s with %s: %d, %d bytes: %.300s", c.path, c.body, name, code, len(resp), resp)
			}
		}
	}
	if after := e.allEvents(); len(after) != before {
		t.Fatalf("refusals recorded %d events", len(after)-before)
	}
}

// The console's forms refuse the same inputs in the page's language with
// a short prefix of what was typed.
func TestFormRefusalsQuoteAShortPrefix(t *testing.T) {
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) {
		d.TurnkeyDir = t.TempDir()
		withPayments(t, ech, d)
	})
	e.openAccount("acct_x", "長字串公司", domain.PlanBusiness)
	e.sync()
	_, owner, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_x", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	finance, admin, customer := e.browser(), e.browser(), e.browser()
	fcsrf, acsrf, ccsrf := finance.signIn(e.finance), admin.signIn(e.admin), customer.signIn(owner)
	before := len(e.allEvents())
	for name, typed := range hostileInputs() {
		if len(typed) > 100000 {
			typed = typed[:100000] // a form's fields share the body's limit
		}
		for _, lang := range []string{langZH, langEN} {
			for _, c := range []struct {
				path, field string
				form        url.Values
			}{
				{"/console/accounts/acct_x/topups", "amount", url.Values{"method": {"bank-transfer"}, "reference": {"BANK-1"}}},
				{"/console/accounts/acct_x/payments", "amount", url.Values{"method": {"card"}}},
				{"/console/accounts/acct_x/adjustments", "amount", url.Values{"reason": {"補償"}}},
				{"/console/accounts/acct_x/credit-limit", "credit_limit", url.Values{}},
				{"/console/accounts/acct_x/keys", "spend_limit", url.Values{"name": {"k"}, "spend_period": {"monthly"}}},
				{"/console/accounts/acct_x/keys", "expires_on", url.Values{"name": {"k"}}},
				{"/console/quotes", "item_price", url.Values{"agency": {"臺北市政府"}, "item_name": {"AI API"}, "item_qty": {"1"}, "item_unit": {"月"}}},
				{"/console/quotes", "item_qty", url.Values{"agency": {"臺北市政府"}, "item_name": {"AI API"}, "item_price": {"1"}, "item_unit": {"月"}}},
				{"/console/quotes", "item_name", url.Values{"agency": {"臺北市政府"}, "item_qty": {"abc"}, "item_price": {"1"}, "item_unit": {"月"}}},
				{"/console/quotes", "valid_days", url.Values{"agency": {"臺北市政府"}, "item_name": {"AI API"}, "item_qty": {"1"}, "item_price": {"1"}, "item_unit": {"月"}}},
			} {
				b, csrf := finance, fcsrf
				switch {
				case strings.HasSuffix(c.path, "/keys"): // keys are the admin's and the customer's
					b, csrf = admin, acsrf
				case strings.HasSuffix(c.path, "/payments"): // a customer pays
					b, csrf = customer, ccsrf
				}
				c.form.Set("csrf", csrf)
				c.form.Set(c.field, typed)
				resp, page := b.post(c.path+"?lang="+lang, c.form)
				if resp.StatusCode != http.StatusBadRequest || echoesWhole(page, typed) {
					t.Errorf("%s %s %s=%s: %d, echoes it whole: %v", lang, c.path, c.field, name, resp.StatusCode, echoesWhole(page, typed))
				}
			}
		}
	}
	// A quantity in scientific notation is a slip, as an amount's is.
	for i, qty := range []string{"1e3", "+1", "0x10", "NaN"} {
		resp, _ := finance.post("/console/quotes", url.Values{"csrf": {fcsrf}, "once": {fmt.Sprintf("once-qty-%d", i)}, "agency": {"臺北市政府"},
			"item_name": {"AI API"}, "item_qty": {qty}, "item_price": {"1"}, "item_unit": {"月"}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("item_qty %s: %d", qty, resp.StatusCode)
		}
	}
	if after := e.allEvents(); len(after) != before {
		t.Fatalf("refused forms recorded %d events", len(after)-before)
	}
}

// A body that is not a JSON object is refused in JSON's words, not Go's
// ("cannot unmarshal array into Go value of type console.accountInput").
func TestAPIBodyNotAnObjectIsRefusedInJSONTerms(t *testing.T) {
	e := build(t, false, true)
	for _, body := range []string{`[]`, `"x"`, `5`, `true`} {
		code, resp := e.send(http.MethodPost, "/admin/api/accounts", e.admin, strings.NewReader(body))
		if code != http.StatusBadRequest || !strings.Contains(string(resp), "the body must be a JSON object") || strings.Contains(string(resp), "Go value") {
			t.Errorf("body %s: %d %s", body, code, resp)
		}
	}
}
