package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
)

// An amount is typed as a plain decimal number (1000, 1,000, 42.5, or
// their full-width forms). Scientific notation (1e3) or a plus sign is
// almost surely a slip of the keyboard: every money field of the console
// refuses it in the page's language, naming what was typed, and records
// nothing.
func TestMoneyFieldsTakePlainNumbersOnly(t *testing.T) {
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) {
		d.TurnkeyDir = t.TempDir()
		withPayments(t, ech, d)
	})
	e.openAccount("acct_num", "數字公司", domain.PlanBusiness)
	e.invoice("acct_num", "AB12345678", "2026-03")
	_, owner, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_num", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	childID, _, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_num", Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	customer, finance := e.browser(), e.browser()
	ccsrf, fcsrf := customer.signIn(owner), finance.signIn(e.finance)
	before := len(e.allEvents())
	for _, typed := range []string{"1e3", "+100", "１ｅ３", "1E+3", "0x10"} {
		for _, lang := range []string{langZH, langEN} {
			for _, c := range []struct {
				b           *browser
				path, field string
				form        url.Values
			}{
				{customer, "/console/accounts/acct_num/payments", "amount", url.Values{"csrf": {ccsrf}, "method": {"card"}}},
				{customer, "/console/accounts/acct_num/keys", "spend_limit", url.Values{"csrf": {ccsrf}, "name": {"新金鑰"}, "spend_period": {"monthly"}}},
				{customer, "/console/keys/" + childID, "spend_limit", url.Values{"csrf": {ccsrf}, "name": {"app"}, "spend_period": {"monthly"}}},
				{finance, "/console/accounts/acct_num/credit-limit", "credit_limit", url.Values{"csrf": {fcsrf}}},
				{finance, "/console/accounts/acct_num/topups", "amount", url.Values{"csrf": {fcsrf}, "method": {"bank-transfer"}, "reference": {"BANK-1"}}},
				{finance, "/console/accounts/acct_num/adjustments", "amount", url.Values{"csrf": {fcsrf}, "reason": {"補償"}}},
				{finance, "/console/invoices/AB12345678/allowances", "amount", url.Values{"csrf": {fcsrf}, "reason": {"折讓"}, "allowances": {"0"}}},
				{finance, "/console/quotes", "item_price", url.Values{"csrf": {fcsrf}, "agency": {"臺北市政府"}, "item_name": {"AI API"}, "item_qty": {"1"}, "item_unit": {"月"}}},
			} {
				c.form.Set(c.field, typed)
				resp, page := c.b.post(c.path+"?lang="+lang, c.form)
				// The typed text is marked up apart: compare without spaces.
				squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
				text := squeeze(visibleText(t, page))
				want := squeeze(strings.NewReplacer("{1}", tr(lang, fieldLabels[c.field]), "{2}", typed).Replace(tr(lang, "err.amount")))
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(text, want) {
					t.Errorf("%s %s %s=%q: %d, want %q in %q", lang, c.path, c.field, typed, resp.StatusCode, want, text)
				}
			}
		}
	}
	if after := e.allEvents(); len(after) != before {
		t.Fatalf("refused forms recorded %d events, the last %s", len(after)-before, after[len(after)-1].Type)
	}
}
