package console

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
)

// Finance issues a quote in place of another from the quote's page: the
// builder comes filled in from the old quote, takes a reason, and the
// new quote withdraws the old one; both PDFs print the reason. An auditor
// is offered no replacement and cannot open its form.
func TestFinanceReplacesAQuoteFromItsPage(t *testing.T) {
	e := newEnv(t, false)
	svc := e.deps.Invoices.(*invoicing.Service)
	old, err := svc.CreateQuote(e.ctx, invoicing.QuoteRequest{Agency: "臺北市政府資訊局", AgencyTaxID: "04595257", Contact: "王小明",
		Remarks: "含教育訓練", Plan: domain.PlanEnterprise, ValidDays: 45,
		Items: []domain.QuoteItem{
			{Name: "AI API 服務", Spec: "企業方案", Quantity: decimal.NewFromInt(12), Unit: "月", UnitPrice: decimal.NewFromInt(10000)},
			{Name: "教育訓練", Quantity: decimal.RequireFromString("1.5"), Unit: "場", UnitPrice: decimal.NewFromInt(8000)},
		}})
	if err != nil {
		t.Fatal(err)
	}

	b := e.browser()
	csrf := b.signIn(e.finance)
	_, page := b.get("/console/quotes/" + old.QuoteID)
	replace := attrOf(t, page, "a", "id", "quote-replace", "href")
	resp, page := b.get(replace)
	if resp.StatusCode != http.StatusOK || len(elementsByID(t, page, "quote-replacing")) != 1 {
		t.Fatalf("the replacement form: %d", resp.StatusCode)
	}
	form := formAsSent(t, page, "quote-form")
	for field, want := range map[string]string{"replaces": old.QuoteID, "agency": "臺北市政府資訊局", "agency_tax_id": "04595257",
		"contact": "王小明", "remarks": "含教育訓練", "plan": "enterprise", "valid_days": "45"} {
		if got := form.Get(field); got != want {
			t.Errorf("the replacement form's %s is %q, want %q", field, got, want)
		}
	}
	if got := strings.Join(form["item_name"][:3], "|") + " " + strings.Join(form["item_qty"][:2], "|") + " " + strings.Join(form["item_price"][:2], "|"); got != "AI API 服務|教育訓練| 12|1.5 10000|8000" {
		t.Fatalf("the replacement form's items: %s", got)
	}

	form.Set("csrf", csrf)
	form["item_qty"][0] = "24"
	form.Set("reason", "期數更正為 24 個月")
	// It asks first, naming the quote withdrawn, the reason and the new
	// total, and changes nothing until confirmed.
	resp, page = b.post("/console/quotes", form)
	if resp.StatusCode != http.StatusOK || len(elementsByID(t, page, "confirm-step")) != 1 {
		t.Fatalf("the replacement without confirmation: %d", resp.StatusCode)
	}
	if text := visibleText(t, page); !strings.Contains(text, old.QuoteID) || !strings.Contains(text, "期數更正為 24 個月") || !strings.Contains(text, "NT$264,600.00") {
		t.Fatalf("the confirmation step says: %s", text)
	}
	if o, _ := svc.Quote(old.QuoteID); o.Withdrawal != nil || len(svc.Quotes()) != 1 {
		t.Fatal("the replacement acted before it was confirmed")
	}
	confirmed := formAsSent(t, page, "confirm-form")
	resp, _ = b.post("/console/quotes", confirmed)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("issuing the replacement: %d", resp.StatusCode)
	}
	// The confirmation sent twice (the back button, a resend) issues one.
	if resp, _ := b.post("/console/quotes", confirmed); resp.StatusCode >= 400 || len(svc.Quotes()) != 2 {
		t.Fatalf("the confirmation sent again: %d, %d quotes", resp.StatusCode, len(svc.Quotes()))
	}
	nq, err := svc.Quote(strings.TrimPrefix(strings.SplitN(resp.Header.Get("Location"), "?", 2)[0], "/console/quotes/"))
	if err != nil {
		t.Fatalf("the replacement leads to %q: %v", resp.Header.Get("Location"), err)
	}
	o, _ := svc.Quote(old.QuoteID)
	if nq.Replaces != old.QuoteID || nq.ReplaceReason != "期數更正為 24 個月" || !nq.Items[0].Quantity.Equal(decimal.NewFromInt(24)) ||
		o.Status != invoicing.QuoteReplaced || o.Withdrawal.Reason != "期數更正為 24 個月" {
		t.Fatalf("new quote replaces %q for %q; old quote %s %+v", nq.Replaces, nq.ReplaceReason, o.Status, o.Withdrawal)
	}
	var buf bytes.Buffer
	if err := svc.QuotePDF(&buf, nq.QuoteID); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "本報價單取代 "+old.QuoteID, "取代原因：期數更正為 24 個月")
	buf.Reset()
	if err := svc.QuotePDF(&buf, old.QuoteID); err != nil {
		t.Fatal(err)
	}
	pdftest.MustContain(t, pdftest.Text(t, buf.Bytes()), "已由 "+nq.QuoteID+" 取代", "撤回原因：期數更正為 24 個月")
	_, list := b.get("/console/quotes")
	if row := rowOf(t, list, old.QuoteID); !strings.Contains(row, "已由 "+nq.QuoteID+" 取代") || !strings.Contains(row, "期數更正為 24 個月") {
		t.Errorf("the replaced quote's row reads %q", row)
	}
	if _, page := b.get("/console/quotes/" + old.QuoteID); len(elementsByID(t, page, "quote-replace")) != 0 {
		t.Error("a replaced quote is offered for replacement again")
	}

	a := e.browser()
	a.signIn(e.auditor)
	if _, page := a.get("/console/quotes/" + nq.QuoteID); len(elementsByID(t, page, "quote-replace")) != 0 {
		t.Error("an auditor is offered a replacement")
	}
	if resp, _ := a.get("/console/quotes/" + nq.QuoteID + "/replace"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an auditor's replacement form: %d", resp.StatusCode)
	}
}

// formAsSent is what the form with the given id sends as it stands: its
// inputs' values, its textareas' text and its selects' selected options.
func formAsSent(t *testing.T, page, id string) url.Values {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	v := url.Values{}
	var walk func(n *html.Node, in bool)
	walk = func(n *html.Node, in bool) {
		if n.Type == html.ElementNode {
			in = in || (n.Data == "form" && attr(n, "id") == id)
			name := attr(n, "name")
			switch {
			case !in || name == "":
			case n.Data == "input":
				v.Add(name, attr(n, "value"))
			case n.Data == "textarea":
				text := ""
				if n.FirstChild != nil {
					text = n.FirstChild.Data
				}
				v.Add(name, text)
			case n.Data == "select":
				for o := n.FirstChild; o != nil; o = o.NextSibling {
					if o.Type == html.ElementNode && hasAttr(o, "selected") {
						v.Add(name, attr(o, "value"))
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, in)
		}
	}
	walk(doc, false)
	if len(v) == 0 {
		t.Fatalf("no form %q on the page", id)
	}
	return v
}
