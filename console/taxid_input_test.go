package console

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

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

// The quotation form's quantity, unit price and validity read full-width
// digits and separators, as a Chinese input method types them.
func TestQuoteFormReadsFullWidthNumbers(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	csrf := b.signIn(e.finance)
	_, page := b.get("/console/quotes")
	form := formFields(t, page, "/console/quotes")
	form.Set("csrf", csrf)
	for k, v := range map[string]string{"agency": "臺北市政府", "contact": "王小明", "valid_days": "３０",
		"item_name": "AI API", "item_qty": "１２", "item_unit": "月", "item_price": "１，０００．５"} {
		form.Set(k, v)
	}
	if resp, page := b.post("/console/quotes", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("quote form with full-width numbers: %d %s", resp.StatusCode, page)
	}
	qs := e.deps.Invoices.(*invoicing.Service).Quotes()
	if len(qs) != 1 || len(qs[0].Items) != 1 {
		t.Fatalf("quotes %+v, want one with one item", qs)
	}
	it := qs[0].Items[0]
	if !it.Quantity.Equal(decimal.NewFromInt(12)) || !it.UnitPrice.Equal(decimal.RequireFromString("1000.5")) || qs[0].ValidDays != 30 {
		t.Fatalf("quote item %s × %s, valid %d days; want 12 × 1000.5, 30 days", it.Quantity, it.UnitPrice, qs[0].ValidDays)
	}
}
