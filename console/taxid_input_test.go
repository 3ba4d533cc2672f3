package console

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/routefree/routefree/invoicing"
)

// A 統一編號 typed with a Chinese input method comes in full-width digits
// (２２０９９１３１): the staff's open-account and quotation forms let it
// reach the server, which reads it as the number it is.
func TestFullWidthTaxIDs(t *testing.T) {
	e := newEnv(t, false)
	c := newChrome(t)
	c.signIn(e.srv.URL, e.admin)
	valid := func(sel string) bool {
		return get(c, "validity of "+sel, chromedp.Evaluate[bool](`document.querySelector('`+sel+`').checkValidity()`))
	}

	const org = "全形統編股份有限公司"
	c.do("open-account form", chromedp.Navigate(e.srv.URL+"/console/accounts"),
		chromedp.WaitVisible(chromedp.CSS("#open-account")),
		chromedp.SendKeys(chromedp.CSS(`#open-account input[name="organisation"]`), org),
		chromedp.SendKeys(chromedp.CSS(`#open-account input[name="tax_id"]`), "２２０９９１３１"))
	if !valid(`#open-account input[name="tax_id"]`) {
		t.Fatal("the open-account form blocks a full-width 統一編號")
	}
	c.do("open account", chromedp.Submit(chromedp.CSS(`#open-account input[name="organisation"]`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	e.sync()
	found := false
	for _, a := range e.models.Accounts.Opened() {
		if a.Organisation == org {
			found = true
			if a.TaxID != "22099131" {
				t.Fatalf("the account's 統一編號 is %q", a.TaxID)
			}
		}
	}
	if !found {
		t.Fatal("no account opened")
	}

	c.signOut()
	c.signIn(e.srv.URL, e.finance)
	c.do("quotation form", chromedp.Navigate(e.srv.URL+"/console/quotes"),
		chromedp.WaitVisible(chromedp.CSS("#quote-form")),
		chromedp.SendKeys(chromedp.CSS("#quote-agency"), "臺北市政府資訊局"),
		chromedp.SendKeys(chromedp.CSS(`input[name="agency_tax_id"]`), "２２０９９１３１"),
		chromedp.SendKeys(chromedp.CSS(`input[name="item_name"]`), "AI API 服務"),
		chromedp.SendKeys(chromedp.CSS(`input[name="item_qty"]`), "12"),
		chromedp.SendKeys(chromedp.CSS(`input[name="item_unit"]`), "月"),
		chromedp.SendKeys(chromedp.CSS(`input[name="item_price"]`), "10000"))
	if !valid(`input[name="agency_tax_id"]`) {
		t.Fatal("the quotation form blocks a full-width 統一編號")
	}
	c.do("quote", chromedp.Click(chromedp.CSS("#quote-submit")), chromedp.WaitVisible(chromedp.CSS("#quote-pdf")))
	qs := e.deps.Invoices.(*invoicing.Service).Quotes()
	if len(qs) != 1 || qs[0].AgencyTaxID != "22099131" {
		t.Fatalf("quotes: %+v", qs)
	}
}
