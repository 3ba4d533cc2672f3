package console

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/projections"
)

// Past its period's filing deadline an invoice can no longer be voided:
// the invoices page offers finance no void for it, and says why instead,
// naming the last day and the ways on (an allowance, or the tax office's
// special void), as the server's refusal does. Until then the void is
// offered.
func TestLateInvoiceOffersNoVoid(t *testing.T) {
	e := newEnv(t, false)
	e.febUsage("acct_late", "逾期作廢股份有限公司", "2100")
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 10000000, 10000099); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(e.ctx, "2026-02", invoicing.CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	number := onlyInvoice(t, e.ledger(), "acct_late").Number
	b := e.browser()
	b.signIn(e.finance)

	// The 2026-03 period (March–April) is filed by the end of 15 May.
	lastDay := "2026-05-15"
	e.clock.set(time.Date(2026, 5, 15, 23, 59, 0, 0, projections.Taipei))
	_, page := b.get("/console/invoices?month=2026-02&lang=en")
	row := invoiceRowHTML(t, page, number)
	if !strings.Contains(row, `action="/console/invoices/`+number+`/void"`) {
		t.Fatalf("on the last day the page offers no void:\n%s", row)
	}
	if strings.Contains(row, lastDay) {
		t.Errorf("on the last day the page already says the void is late:\n%s", row)
	}

	e.clock.set(time.Date(2026, 5, 16, 0, 0, 0, 0, projections.Taipei))
	for lang, want := range map[string][]string{
		langEN: {"can no longer be voided", lastDay, "allowance", "special void"},
		langZH: {"已逾作廢期限", lastDay, "折讓單", "專案作廢"},
	} {
		_, page := b.get("/console/invoices?month=2026-02&lang=" + lang)
		row := invoiceRowHTML(t, page, number)
		if strings.Contains(row, "/void\"") {
			t.Errorf("%s: past the deadline the page still offers the void:\n%s", lang, row)
		}
		if !strings.Contains(row, `action="/console/invoices/`+number+`/allowances"`) {
			t.Errorf("%s: past the deadline the page offers no allowance:\n%s", lang, row)
		}
		text := visibleText(t, row)
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the row does not say %q: %s", lang, w, text)
			}
		}
	}
	// What the page no longer offers, the server refuses.
	if _, err := svc.Void(e.ctx, number, "wrong buyer"); err == nil || !strings.Contains(err.Error(), lastDay) {
		t.Fatalf("a void past the deadline: %v", err)
	}
}

// invoiceRowHTML is the HTML of the invoices table's row of an invoice.
func invoiceRowHTML(t *testing.T, page, number string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var found *html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" {
			for _, a := range n.Attr {
				if a.Key == "data-invoice" && a.Val == number {
					found = n
				}
			}
		}
		for c := n.FirstChild; c != nil && found == nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if found == nil {
		t.Fatalf("no row of invoice %s in the page", number)
	}
	var sb strings.Builder
	if err := html.Render(&sb, found); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}
