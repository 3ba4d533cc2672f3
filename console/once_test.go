package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// formFields are the hidden fields of the page's form that posts to action.
func formFields(t *testing.T, page, action string) url.Values {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var form *html.Node
	var find func(n *html.Node)
	find = func(n *html.Node) {
		if form == nil && n.Type == html.ElementNode && n.Data == "form" && attr(n, "action") == action {
			form = n
		}
		for c := n.FirstChild; c != nil && form == nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if form == nil {
		t.Fatalf("no form posts to %s", action)
	}
	out := url.Values{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "type") == "hidden" {
			out.Set(attr(n, "name"), attr(n, "value"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(form)
	return out
}

// confirmStepOf posts a form without the confirmation and returns the
// fields its confirmation step sends back (confirm=yes among them).
func confirmStepOf(t *testing.T, b *browser, path string, v url.Values) url.Values {
	t.Helper()
	resp, page := b.post(path, v)
	if resp.StatusCode != http.StatusOK || len(elementsByID(t, page, "confirm-step")) != 1 {
		t.Fatalf("%s without confirmation: %d, want the confirmation step", path, resp.StatusCode)
	}
	step := formFields(t, page, path)
	if step.Get("confirm") != "yes" || step.Get("once") == "" {
		t.Fatalf("%s: the confirmation step sends %v, want confirm=yes and a one-time token", path, step)
	}
	return step
}

// postFlash posts a form and returns the flash its 303 leads to.
func postFlash(t *testing.T, b *browser, path string, v url.Values) string {
	t.Helper()
	resp, page := b.post(path, v)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s: %d, want 303: %s", path, resp.StatusCode, visibleText(t, page))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query().Get("flash")
}

// countEvents counts the store's events of type typ.
func countEvents(e *env, typ string) int {
	e.t.Helper()
	n := 0
	from := eventstore.Start
	for {
		evs, err := e.store.ReadAll(e.ctx, from, 1000)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(evs) == 0 {
			return n
		}
		for _, ev := range evs {
			if ev.Type == typ {
				n++
			}
		}
		from = evs[len(evs)-1].Position
	}
}

// A confirmed allowance form sent twice (a double click, a resend) issues
// one allowance, and the second answer says it was already done; so does
// the same form from another server or after a restart, which knows the
// form by how many allowances the invoice had when it was shown.
func TestAllowanceFormSentTwiceIssuesOnce(t *testing.T) {
	e := newEnv(t, false)
	e.febUsage("acct_twice", "重送測試股份有限公司", "2100")
	e.closeFebruary()
	number := onlyInvoice(t, e.ledger(), "acct_twice").Number
	b := e.browser()
	csrf := b.signIn(e.finance)
	allowances := func() int {
		inv, err := e.ledger().Invoice(number)
		if err != nil {
			t.Fatal(err)
		}
		return len(inv.Allowances)
	}

	path := "/console/invoices/" + number + "/allowances"
	_, page := b.get("/console/invoices?month=2026-02")
	form := formFields(t, page, path)
	if form.Get("once") == "" {
		t.Fatal("the allowance form carries no one-time token")
	}
	form.Set("csrf", csrf)
	form.Set("amount", "50")
	form.Set("reason", "客訴退款")
	step := confirmStepOf(t, b, path, form)
	if step.Get("once") != form.Get("once") {
		t.Fatalf("the confirmation step sends once=%q, the form %q", step.Get("once"), form.Get("once"))
	}
	step.Set("csrf", csrf)
	if got := postFlash(t, b, path, step); got != "allowance.issued.credit" || allowances() != 1 {
		t.Fatalf("confirmed allowance: flash %q, %d allowances", got, allowances())
	}
	if got := postFlash(t, b, path, step); got != "form.repeated" {
		t.Fatalf("the same form again: flash %q, want form.repeated", got)
	}
	if n := allowances(); n != 1 || countEvents(e, domain.TypeAllowanceIssued) != 1 {
		t.Fatalf("the confirmed form sent twice issued %d allowances", n)
	}
	_, shown := b.get("/console/invoices?month=2026-02&flash=form.repeated")
	if !strings.Contains(visibleText(t, shown), tr(langZH, "form.repeated")) {
		t.Error("the page does not say the form was already sent")
	}

	// The same form with another token (as a server that never saw it):
	// the invoice has an allowance more than when the form was shown, the
	// same one, so it is reported done.
	again := url.Values{}
	for k, v := range step {
		again[k] = v
	}
	again.Set("once", "another-token-of-another-server")
	if got := postFlash(t, b, path, again); got != "form.repeated" || allowances() != 1 {
		t.Fatalf("the form on another server: flash %q, %d allowances", got, allowances())
	}
	// An old form asking for another allowance is refused: the invoice
	// changed since it was shown.
	again.Set("once", "a-third-token")
	again.Set("amount", "60")
	if resp, _ := b.post(path, again); resp.StatusCode != http.StatusConflict || allowances() != 1 {
		t.Fatalf("a stale form for another amount: %d, %d allowances", resp.StatusCode, allowances())
	}
	// A confirmed form without its token is refused, and changes nothing.
	bare := url.Values{"csrf": {csrf}, "amount": {"50"}, "reason": {"客訴退款"}, "back_month": {"2026-02"}, "confirm": {"yes"}}
	if resp, _ := b.post(path, bare); resp.StatusCode != http.StatusBadRequest || allowances() != 1 {
		t.Fatalf("a confirmed form without a token: %d, %d allowances", resp.StatusCode, allowances())
	}

	// A fresh page gives a fresh form: a second allowance is its own.
	_, page = b.get("/console/invoices?month=2026-02")
	next := formFields(t, page, path)
	if next.Get("once") == form.Get("once") {
		t.Fatal("the page gives the same one-time token again")
	}
	next.Set("csrf", csrf)
	next.Set("amount", "50")
	next.Set("reason", "客訴退款")
	step = confirmStepOf(t, b, path, next)
	step.Set("csrf", csrf)
	if got := postFlash(t, b, path, step); got != "allowance.issued.credit" || allowances() != 2 {
		t.Fatalf("a second allowance from a fresh page: flash %q, %d allowances", got, allowances())
	}
}

// The other confirmed finance forms, sent twice with the same token, act
// once and say so the second time; sent again as a new form, the ledger
// itself refuses or ignores what was already done.
func TestFinanceFormsSentTwiceActOnce(t *testing.T) {
	turnkey := t.TempDir()
	e := buildWithDeps(t, false, true, func(_ *echo.Echo, d *Deps) { d.TurnkeyDir = turnkey })
	e.febUsage("acct_v", "作廢重送股份有限公司", "1050")
	e.febUsage("acct_a", "折讓重送股份有限公司", "2100")
	b := e.browser()
	csrf := b.signIn(e.finance)
	page := func() string {
		t.Helper()
		_, p := b.get("/console/invoices?month=2026-02")
		return p
	}
	// twice sends a page's form, confirms it, and sends the confirmed form
	// again; it returns the confirmed fields.
	twice := func(path, okFlash string, fields url.Values) url.Values {
		t.Helper()
		form := formFields(t, page(), path)
		if form.Get("once") == "" {
			t.Fatalf("the form of %s carries no one-time token", path)
		}
		for k, v := range fields {
			form[k] = v
		}
		form.Set("csrf", csrf)
		step := confirmStepOf(t, b, path, form)
		step.Set("csrf", csrf)
		if got := postFlash(t, b, path, step); got != okFlash {
			t.Fatalf("%s confirmed: flash %q, want %q", path, got, okFlash)
		}
		if got := postFlash(t, b, path, step); got != "form.repeated" {
			t.Fatalf("%s sent twice: flash %q, want form.repeated", path, got)
		}
		return step
	}
	fresh := func(step url.Values) url.Values {
		v := url.Values{}
		for k, vs := range step {
			v[k] = vs
		}
		v.Set("once", randomToken())
		return v
	}

	// A number range: recorded once; the same range as a new form is
	// harmless, and says it was already there.
	rng := twice("/console/invoices/ranges", "range.ok", url.Values{"period": {"2026-03"}, "prefix": {"AB"}, "from": {"12345000"}, "to": {"12345099"}})
	if n := countEvents(e, domain.TypeInvoiceRangeSet); n != 1 {
		t.Fatalf("the range form sent twice recorded %d ranges", n)
	}
	if got := postFlash(t, b, "/console/invoices/ranges", fresh(rng)); got != "range.dup" || countEvents(e, domain.TypeInvoiceRangeSet) != 1 {
		t.Fatalf("the same range as a new form: flash %q, %d ranges", got, countEvents(e, domain.TypeInvoiceRangeSet))
	}

	// The close: invoices issued once; closing again issues nothing new.
	cl := twice("/console/invoices/close", "close.ok", url.Values{"month": {"2026-02"}})
	if n := countEvents(e, domain.TypeInvoiceIssued); n != 2 {
		t.Fatalf("the close sent twice issued %d invoices, want 2", n)
	}
	postFlash(t, b, "/console/invoices/close", fresh(cl))
	if n := countEvents(e, domain.TypeInvoiceIssued); n != 2 {
		t.Fatalf("closing again issued %d invoices, want 2", n)
	}

	// A void: recorded once; the ledger refuses it as a new form.
	voidMe := onlyInvoice(t, e.ledger(), "acct_v").Number
	void := twice("/console/invoices/"+voidMe+"/void", "invoice.voided.ok", url.Values{"reason": {"買方錯誤"}})
	if n := countEvents(e, domain.TypeInvoiceVoided); n != 1 {
		t.Fatalf("the void sent twice recorded %d voids", n)
	}
	if resp, _ := b.post("/console/invoices/"+voidMe+"/void", fresh(void)); resp.StatusCode != http.StatusConflict || countEvents(e, domain.TypeInvoiceVoided) != 1 {
		t.Fatalf("voiding a voided invoice: %d", resp.StatusCode)
	}

	// An allowance, then its void: each recorded once.
	allowMe := onlyInvoice(t, e.ledger(), "acct_a").Number
	twice("/console/invoices/"+allowMe+"/allowances", "allowance.issued.credit", url.Values{"amount": {"100"}, "reason": {"折扣"}})
	inv, _ := e.ledger().Invoice(allowMe)
	if len(inv.Allowances) != 1 {
		t.Fatalf("the allowance form sent twice issued %d allowances", len(inv.Allowances))
	}
	allowance := inv.Allowances[0].Number
	av := twice("/console/allowances/"+allowance+"/void", "allowance.voided.ok", url.Values{"reason": {"開錯"}})
	if n := countEvents(e, domain.TypeAllowanceVoided); n != 1 {
		t.Fatalf("the allowance void sent twice recorded %d voids", n)
	}
	if resp, _ := b.post("/console/allowances/"+allowance+"/void", fresh(av)); resp.StatusCode != http.StatusConflict || countEvents(e, domain.TypeAllowanceVoided) != 1 {
		t.Fatalf("voiding a voided allowance: %d", resp.StatusCode)
	}

	// The outbox: run once per form.
	twice("/console/invoices/outbox", "outbox.ok", nil)

	// Without a token, every confirmed form is refused and changes nothing.
	before := countEvents(e, domain.TypeInvoiceRangeSet)
	if resp, _ := b.post("/console/invoices/ranges", url.Values{"csrf": {csrf}, "period": {"2026-05"}, "prefix": {"CD"},
		"from": {"30000000"}, "to": {"30000049"}, "confirm": {"yes"}}); resp.StatusCode != http.StatusBadRequest || countEvents(e, domain.TypeInvoiceRangeSet) != before {
		t.Fatalf("a range without a one-time token: %d", resp.StatusCode)
	}
}

// The quote form answers with a redirect to the new quote's page (so a
// refresh issues nothing), and sent twice issues one quote.
func TestQuoteFormPostRedirectGet(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	csrf := b.signIn(e.finance)
	_, page := b.get("/console/quotes")
	form := formFields(t, page, "/console/quotes")
	if form.Get("once") == "" {
		t.Fatal("the quote form carries no one-time token")
	}
	form.Set("csrf", csrf)
	for k, v := range map[string]string{"agency": "臺北市政府", "contact": "王小明", "valid_days": "30",
		"item_name": "AI API", "item_qty": "1", "item_unit": "月", "item_price": "1000"} {
		form.Set(k, v)
	}
	resp, _ := b.post("/console/quotes", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("quote form: %d, want 303", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.Path, "/console/quotes/Q-") || loc.Query().Get("flash") != "quote.issued.ok" {
		t.Fatalf("quote form leads to %q", resp.Header.Get("Location"))
	}
	id := strings.TrimPrefix(loc.Path, "/console/quotes/")
	for i := 0; i < 2; i++ { // a refresh of the quote's page issues nothing
		resp, shown := b.get(loc.String())
		if resp.StatusCode != http.StatusOK || attrOf(t, shown, "section", "id", "quote-result", "data-quote") != id {
			t.Fatalf("the quote's page: %d", resp.StatusCode)
		}
		if href := attrOf(t, shown, "a", "id", "quote-pdf", "href"); href != "/admin/api/quotes/"+id+"/pdf" {
			t.Fatalf("the quote's PDF link %q", href)
		}
	}
	if n := countEvents(e, domain.TypeQuoteIssued); n != 1 {
		t.Fatalf("%d quotes issued, want 1", n)
	}
	// The same form again: the same quote's page, saying so, and no new quote.
	resp, _ = b.post("/console/quotes", form)
	if again, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusSeeOther || again.Path != loc.Path || again.Query().Get("flash") != "form.repeated" {
		t.Fatalf("the quote form sent twice: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := countEvents(e, domain.TypeQuoteIssued); n != 1 {
		t.Fatalf("the quote form sent twice issued %d quotes", n)
	}
	// Without a token it is refused.
	form.Del("once")
	if resp, _ := b.post("/console/quotes", form); resp.StatusCode != http.StatusBadRequest || countEvents(e, domain.TypeQuoteIssued) != 1 {
		t.Fatalf("a quote form without a token: %d", resp.StatusCode)
	}
	if resp, _ := b.get("/console/quotes/Q-nope"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown quote's page: %d", resp.StatusCode)
	}
}
