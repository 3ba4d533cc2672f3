package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
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
