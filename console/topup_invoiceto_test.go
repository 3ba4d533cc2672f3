package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
)

// The top-up page says where the payment's invoice goes, as the account
// stands (the invoice is issued to the details in force when it is
// issued, at payment): a customer who needs it to their 統一編號, or to
// their carrier, sees it before paying and changes it on the account page,
// rather than finding a paid top-up invoiced to the wrong buyer.
func TestTopUpPageSaysWhereTheInvoiceGoes(t *testing.T) {
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { withPayments(t, ech, d) })
	if _, err := e.cmds.OpenAccount(e.ctx, domain.AccountOpened{AccountID: "acct_to", Organisation: "統編公司", TaxID: "04595257", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	_, owner, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_to", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	b := e.browser()
	csrf := b.signIn(owner)
	_, page := b.get("/console/accounts/acct_to/payments?lang=en")
	if got := attrOf(t, page, "section", "id", "pay-invoice-to", "data-tax-id"); got != "04595257" {
		t.Fatalf("the top-up page gives the invoice's 統一編號 as %q:\n%s", got, visibleText(t, page))
	}
	if text := visibleText(t, page); !strings.Contains(text, "04595257") {
		t.Fatalf("the top-up page does not show the 統一編號: %s", text)
	}
	if got := attrOf(t, page, "a", "id", "pay-invoice-to-change", "href"); got != "/console/accounts/acct_to#invoice-to" {
		t.Fatalf("link to change it: %q", got)
	}

	resp, _ := b.post("/console/accounts/acct_to/invoice-carrier", url.Values{"csrf": {csrf}, "tax_id": {""}, "carrier": {"/ABC1234"}, "donation_code": {""}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("carrier form: %d", resp.StatusCode)
	}
	_, page = b.get("/console/accounts/acct_to/payments?lang=zh")
	if attrOf(t, page, "section", "id", "pay-invoice-to", "data-tax-id") != "" ||
		attrOf(t, page, "section", "id", "pay-invoice-to", "data-carrier") != "/ABC1234" ||
		!strings.Contains(visibleText(t, page), "/ABC1234") {
		t.Fatalf("after the change: %s", visibleText(t, page))
	}
}
