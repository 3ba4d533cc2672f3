package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
)

// rlo is RIGHT-TO-LEFT OVERRIDE: text after it, up to the end of its
// paragraph or of the element that isolates it, is laid out backwards.
const rlo = "\u202e"

// legacy appends an event as history recorded before today's refusals
// holds it, bypassing the commands that now refuse its text.
func (e *env) legacy(stream string, ev domain.Event) {
	e.t.Helper()
	d, err := commands.Event(uuid.New(), e.clock.Now(), ev)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.cap.Append(e.ctx, stream, eventstore.Any(), d); err != nil {
		e.t.Fatal(err)
	}
	e.sync()
}

// isolatedNames checks that every shown text holding a bidirectional
// override is one of the stored names, alone in an isolating element
// (<bdi>, or an element with dir set), or holds them only between FIRST
// STRONG ISOLATE and POP DIRECTIONAL ISOLATE (a label drawn on a chart),
// so that the override cannot reorder the text around the name. It returns
// how many such texts there are.
func isolatedNames(t *testing.T, what, page string, names ...string) int {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var walk func(*html.Node)
	walk = func(node *html.Node) {
		if node.Type == html.ElementNode && (node.Data == "script" || node.Data == "title") {
			return // not laid out as text on the page
		}
		if node.Type == html.TextNode && strings.Contains(node.Data, rlo) {
			n++
			if !isolatedText(node, names) {
				var b strings.Builder
				_ = html.Render(&b, node.Parent)
				t.Errorf("%s: %q is not isolated: %s", what, node.Data, b.String())
			}
		}
		for c := node.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return n
}

func isolatedText(node *html.Node, names []string) bool {
	inline := node.Data
	for _, name := range names {
		inline = strings.ReplaceAll(inline, "\u2068"+name+"\u2069", "")
	}
	if !strings.Contains(inline, rlo) {
		return true
	}
	p := node.Parent
	return slices.Contains(names, node.Data) && isolates(p) && p.FirstChild == node && p.LastChild == node
}

func isolates(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	if n.Data == "bdi" {
		return true
	}
	for _, a := range n.Attr {
		if a.Key == "dir" {
			return true
		}
	}
	return false
}

// Key names, staff token names, organisation names, references and
// reasons recorded before bidirectional controls were refused still hold
// them: every page that shows them isolates them, so that an override in
// a name cannot reverse the text beside it (a key's "(management key)",
// the question of a confirmation).
func TestStoredNamesAreIsolated(t *testing.T) {
	e := build(t, false, true)
	const acct = "acct_bidi"
	org, keyName, ref, staffName := "好公司"+rlo+"司公壞", "owner"+rlo+"txt.exe", "BANK-"+rlo+"01", "稽核"+rlo+"員"
	names := []string{org, keyName, ref, staffName}
	e.legacy(domain.AccountStream(acct), &domain.AccountOpened{AccountID: acct, Organisation: org, Plan: domain.PlanStarter})
	secret := commands.KeyPrefix + strings.Repeat("b", 40)
	keyID := "key_bidi"
	e.legacy(domain.KeyStream(keyID), &domain.KeyIssued{KeyID: keyID, AccountID: acct, Hash: commands.HashKey(secret),
		Prefix: secret[:len(commands.KeyPrefix)+6] + "…", Name: keyName, Management: true})
	e.legacy(domain.TopUpStream(acct), &domain.CreditsToppedUp{AccountID: acct, Amount: decimal.NewFromInt(500),
		Method: domain.MethodBankTransfer, Reference: ref})
	e.legacy(domain.StaffStream("stf_bidi"), &domain.StaffTokenIssued{TokenID: "stf_bidi", Role: "auditor", Name: staffName, Hash: commands.HashKey("rfs-bidi-not-used")})

	// A request of the key: its name labels the usage chart by key.
	e.request(acct, keyID, e.cat.IDs()[0], "", e.clock.Now(), 100, 100, "1.25")
	e.sync()

	b, fin, aud := e.browser(), e.browser(), e.browser()
	csrf, finCSRF := b.signIn(e.admin), fin.signIn(e.finance)
	aud.signIn(e.auditor)
	pages := map[string]int{ // path: how many texts with the override it shows at least
		"/console/accounts/" + acct: 5, // heading, facts, key list, usage by key, top-up list
		"/console/accounts":         1,
		"/console/staff":            1,
	}
	for path, want := range pages {
		resp, page := b.get(path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		if n := isolatedNames(t, path, page, names...); n < want {
			t.Errorf("%s shows %d stored names, want %d", path, n, want)
		}
	}
	// The audit log's events hold them in their data.
	// written as JSON escapes.
	_, page := aud.get("/console/audit")
	isolatedNames(t, "audit log", page, names...)
	if n := strings.Count(visibleText(t, page), `\u202e`); n < 4 {
		t.Errorf("the audit log shows %d escaped overrides, want 4", n)
	}

	// The customer's own page, signed in with the key.
	owner := e.browser()
	owner.signIn(secret)
	if _, page = owner.get("/console/accounts/" + acct); isolatedNames(t, "the customer's page", page, names...) < 5 {
		t.Error("the customer's page does not show its stored names")
	}

	// The confirmation steps name what they act on.
	for what, post := range map[string]struct {
		path string
		form url.Values
		as   *browser
	}{
		"revoke key":   {"/console/keys/" + keyID + "/revoke", url.Values{}, b},
		"disable key":  {"/console/keys/" + keyID + "/disable", url.Values{}, b},
		"revoke staff": {"/console/staff/stf_bidi/revoke", url.Values{}, b},
		"top-up":       {"/console/accounts/" + acct + "/topups", url.Values{"amount": {"100"}, "method": {"bank-transfer"}, "reference": {"BANK-02"}}, fin},
		"suspend":      {"/console/accounts/" + acct + "/suspend", url.Values{"reason": {"unpaid"}}, b},
	} {
		post.form.Set("csrf", csrf)
		if post.as == fin {
			post.form.Set("csrf", finCSRF)
		}
		resp, page := post.as.post(post.path, post.form)
		if resp.StatusCode != http.StatusOK || len(elementsByID(t, page, "confirm-step")) != 1 {
			t.Fatalf("%s: %d %s", what, resp.StatusCode, visibleText(t, page))
		}
		if n := isolatedNames(t, what, page, names...); n < 1 {
			t.Errorf("%s: the confirmation does not name its target", what)
		}
	}
}

// errorIsolates reads the page's error message: the texts of its isolating
// elements, and its text outside them.
func errorIsolates(t *testing.T, page string) (isolated []string, outside string) {
	t.Helper()
	found := elementByID(t, page, "error")
	var rest strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			rest.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if isolates(c) {
				var b strings.Builder
				for cc := c.FirstChild; cc != nil; cc = cc.NextSibling {
					_ = html.Render(&b, cc)
				}
				isolated = append(isolated, html.UnescapeString(b.String()))
				continue
			}
			walk(c)
		}
	}
	walk(found)
	return isolated, rest.String()
}

// An error message that quotes what was stored or typed — a top-up's
// reference recorded before, in a right-to-left script and holding markup;
// the character of an organisation's name that invoices cannot print, here
// an override, named by its code point — quotes it isolated, escaped, so
// that it cannot reorder the sentence around it nor inject anything; so do the reasons of refused
// payment notifications, which quote ECPay's words. A message no
// translation knows shows its bidirectional controls as escapes.
func TestErrorMessagesIsolateWhatTheyQuote(t *testing.T) {
	var fake *ecpaytest.Provider
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { fake = withPayments(t, ech, d) })
	const acct = "acct_quote"
	e.openAccount(acct, "引用公司", domain.PlanStarter)
	ref := "<script>alert(1)</script> העברה-42"
	if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: acct, Amount: decimal.NewFromInt(500),
		Method: domain.MethodBankTransfer, Reference: ref}); err != nil {
		t.Fatal(err)
	}
	_, owner, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: acct, Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()

	fin, admin := e.browser(), e.browser()
	finCSRF, adminCSRF := fin.signIn(e.finance), admin.signIn(e.admin)
	unprintable := "U+202E"
	for _, lang := range []string{langZH, langEN} {
		fin.get("/console/accounts?lang=" + lang)
		admin.get("/console/accounts?lang=" + lang)

		// The same reference with another amount is refused, quoting it.
		resp, page := fin.post("/console/accounts/"+acct+"/topups", url.Values{"csrf": {finCSRF},
			"amount": {"999"}, "method": {domain.MethodBankTransfer}, "reference": {ref}})
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("%s: the reference used again: %d %s", lang, resp.StatusCode, visibleText(t, page))
		}
		isolated, outside := errorIsolates(t, page)
		if !slices.Contains(isolated, ref) || strings.Contains(outside, "alert") {
			t.Errorf("%s: the reference is not isolated in the message: %q, outside %q", lang, isolated, outside)
		}
		if strings.Contains(page, "<script>alert") {
			t.Errorf("%s: the reference's markup is in the page unescaped", lang)
		}

		// An organisation typed with an override is refused, quoting the character.
		resp, page = admin.post("/console/accounts", url.Values{"csrf": {adminCSRF},
			"organisation": {"好公司" + rlo + "司公壞"}, "plan": {"starter"}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: an organisation with an override: %d %s", lang, resp.StatusCode, visibleText(t, page))
		}
		// The override is named by its code point, not written out.
		isolated, outside = errorIsolates(t, page)
		if !slices.Contains(isolated, unprintable) {
			t.Errorf("%s: the unprintable character is not isolated in the message: %q", lang, isolated)
		}
		if strings.Contains(strings.Join(isolated, "")+outside, rlo) {
			t.Errorf("%s: the refusal writes the override out: %q %q", lang, isolated, outside)
		}
		isolatedNames(t, lang+" organisation refused", page, "好公司"+rlo+"司公壞")
	}

	// ECPay's words in a refused notification, on the finance pages.
	trade := e.checkoutAtCashier(acct, owner, "card", "500").TradeNo
	said := "<b>拒絕</b>" + rlo + "denied"
	if reply, err := fake.Paid(trade, func(f url.Values) { f.Set("RtnCode", "10100058"); f.Set("RtnMsg", said) }, nil); err != nil || reply != "1|OK" {
		t.Fatalf("declined card: %q %v", reply, err)
	}
	for _, path := range []string{"/console/payments/refused", "/console/payments?status=failed"} {
		_, page := fin.get(path)
		if isolatedNames(t, path, page, said) < 1 {
			t.Errorf("%s does not quote ECPay's words", path)
		}
		if strings.Contains(page, "<b>拒絕") {
			t.Errorf("%s: ECPay's words are in the page unescaped", path)
		}
	}

	// A message no translation knows: shown as it is, its controls escaped.
	text, detail := errorText(langEN, http.StatusConflict, "organisation \"壞"+rlo+"名\" is on fire")
	if strings.Contains(messageText(t, text)+detail, rlo) || !strings.Contains(detail, `\u202e`) {
		t.Errorf("an unknown message reads %q, detail %q", text, detail)
	}
}
