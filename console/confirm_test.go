package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// askFirst posts a form without the confirmation: the answer must be the
// confirmation step (200, confirm=yes ready to send), and check must show
// that nothing changed. Then it posts the step's own form and returns
// that answer's status.
func askFirst(t *testing.T, b *browser, csrf, path string, v url.Values, unchanged func() bool) (int, string) {
	t.Helper()
	v.Set("csrf", csrf)
	resp, page := b.post(path, v)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s without confirmation: %d", path, resp.StatusCode)
	}
	if len(elementsByID(t, page, "confirm-step")) != 1 {
		t.Fatalf("%s without confirmation shows no confirmation step", path)
	}
	if !unchanged() {
		t.Fatalf("%s changed something before it was confirmed", path)
	}
	// The step's form posts to the same action with every field again.
	if action := attrOf(t, page, "form", "id", "confirm-form", "action"); action != path {
		t.Fatalf("%s: the confirmation posts to %q", path, action)
	}
	again := url.Values{}
	for _, in := range elements(t, page, "input", "name") {
		if in["type"] == "hidden" || in["type"] == "" {
			again.Add(in["name"], in["value"])
		}
	}
	// The layout's sign-out form carries a csrf field too; one is enough.
	again.Set("csrf", csrf)
	if again.Get("confirm") != "yes" {
		t.Fatalf("%s: the confirmation step sends confirm=%q", path, again.Get("confirm"))
	}
	for k := range v {
		if k != "csrf" && again.Get(k) != strings.TrimSpace(v.Get(k)) {
			t.Fatalf("%s: the confirmation step sends %s=%q, want %q", path, k, again.Get(k), v.Get(k))
		}
	}
	resp, page = b.post(path, again)
	return resp.StatusCode, page
}

// Revoking a key and suspending an account ask first: the first POST only
// asks and changes nothing, the confirmed one acts.
func TestRevokeAndSuspendAskFirst(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_cf", "確認股份有限公司", domain.PlanStarter)
	keyID, _ := e.issueKey("acct_cf")
	b := e.browser()
	csrf := b.signIn(e.admin)

	revoked := func() bool {
		for _, k := range e.models.Keys.ByAccount("acct_cf") {
			if k.KeyID == keyID {
				return k.Revoked
			}
		}
		t.Fatal("key missing")
		return false
	}
	if code, _ := askFirst(t, b, csrf, "/console/keys/"+keyID+"/revoke", url.Values{}, func() bool { return !revoked() }); code != http.StatusSeeOther {
		t.Fatalf("confirmed revoke: %d", code)
	}
	if !revoked() {
		t.Fatal("the confirmed revoke did not revoke the key")
	}

	suspended := func() bool {
		v, _ := e.models.Balances.View("acct_cf", "", e.clock.Now())
		return v.Suspended
	}
	if code, _ := askFirst(t, b, csrf, "/console/accounts/acct_cf/suspend", url.Values{"reason": {"unpaid invoices"}}, func() bool { return !suspended() }); code != http.StatusSeeOther {
		t.Fatalf("confirmed suspend: %d", code)
	}
	if !suspended() {
		t.Fatal("the confirmed suspend did not suspend the account")
	}
	// The confirmation step names what it acts on, in the page's language.
	b.get("/console/accounts/acct_cf?lang=en") // the choice is kept in its cookie
	e.openAccount("acct_cf2", "第二確認公司", domain.PlanStarter)
	_, ask := b.post("/console/accounts/acct_cf2/suspend", url.Values{"csrf": {csrf}, "reason": {"x"}})
	if text := visibleText(t, ask); !strings.Contains(text, "Suspend the account") || !strings.Contains(text, "第二確認公司") {
		t.Fatalf("the English confirmation step says %q", text)
	}
}

// The staff tokens page: an admin lists, issues (secret shown once) and
// revokes with a confirmation; the last admin token cannot be revoked,
// and the refusal reads in the page's language.
func TestStaffTokensPage(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	csrf := b.signIn(e.admin)
	resp, page := b.get("/console/staff")
	if resp.StatusCode != 200 {
		t.Fatalf("staff page: %d", resp.StatusCode)
	}
	if n := len(elements(t, page, "tr", "data-token")); n != 3 {
		t.Fatalf("staff page lists %d tokens, want 3", n)
	}
	if strings.Contains(page, "rf-staff-") {
		t.Fatal("the staff page shows a token's secret")
	}

	resp, issued := b.post("/console/staff", url.Values{"csrf": {csrf}, "role": {"auditor"}, "name": {"外部稽核"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("issue: %d", resp.StatusCode)
	}
	secret := strings.TrimSpace(elementText(t, issued, "new-staff-secret"))
	id := attrOf(t, issued, "section", "id", "new-staff-token", "data-token")
	if !strings.HasPrefix(secret, "rf-staff-") {
		t.Fatalf("issued secret %q", secret)
	}
	// The new token signs in, as an auditor.
	nb := e.browser()
	nb.signIn(secret)
	if resp, _ := nb.get("/console/audit"); resp.StatusCode != 200 {
		t.Fatalf("the new auditor token reads the audit page: %d", resp.StatusCode)
	}
	// A search by name finds it alone; the secret is never listed again.
	_, found := b.get("/console/staff?q=" + url.QueryEscape("外部"))
	if rows := elements(t, found, "tr", "data-token"); len(rows) != 1 || rows[0]["data-token"] != id {
		t.Fatalf("search found %v", rows)
	}
	if strings.Contains(found, secret) {
		t.Fatal("the list shows a secret")
	}

	isRevoked := func(id string) bool {
		for _, tk := range e.views.StaffTokens() {
			if tk.ID == id {
				return tk.Revoked
			}
		}
		t.Fatalf("no token %s", id)
		return false
	}
	if code, _ := askFirst(t, b, csrf, "/console/staff/"+id+"/revoke", url.Values{}, func() bool { return !isRevoked(id) }); code != http.StatusSeeOther {
		t.Fatalf("confirmed staff revoke: %d", code)
	}
	if !isRevoked(id) {
		t.Fatal("the confirmed staff revoke did not revoke")
	}
	if resp, _ := nb.get("/console/audit"); resp.StatusCode == 200 {
		t.Fatal("the revoked token still reads the audit page")
	}

	// The one admin token cannot revoke itself: refused, in Chinese, and
	// nothing changes.
	var self string
	for _, tk := range e.views.StaffTokens() {
		if tk.Role == "admin" && !tk.Revoked {
			self = tk.ID
		}
	}
	b.get("/console/staff?lang=zh-TW")
	resp, refused := b.post("/console/staff/"+self+"/revoke", url.Values{"csrf": {csrf}, "confirm": {"yes"}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("revoking the last admin token: %d", resp.StatusCode)
	}
	msg := elementText(t, refused, "error")
	if !strings.Contains(msg, "最後一個有效的管理員權杖") || strings.Contains(msg, "last admin") {
		t.Fatalf("the refusal reads %q", msg)
	}
	if isRevoked(self) {
		t.Fatal("the last admin token was revoked")
	}
	// Other roles have no staff page.
	fb := e.browser()
	fb.signIn(e.finance)
	if resp, _ := fb.get("/console/staff"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("finance reads the staff page: %d", resp.StatusCode)
	}
}

// elementByID is the page's element with id.
func elementByID(t *testing.T, page, id string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var found *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		for _, a := range n.Attr {
			if n.Type == html.ElementNode && a.Key == "id" && a.Val == id && found == nil {
				found = n
			}
		}
		for c := n.FirstChild; c != nil && found == nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if found == nil {
		t.Fatalf("no element %s in %s", id, visibleText(t, page))
	}
	return found
}

// elementText is the text of the element with id, as it reads: the text
// of its descendants (a quoted name in its <bdi>) run together.
func elementText(t *testing.T, page, id string) string {
	t.Helper()
	return nodesText(elementByID(t, page, id))
}

// nodesText is the text of nodes and their descendants, run together.
func nodesText(nodes ...*html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return b.String()
}

// Recording a top-up or a balance adjustment asks first, once the door has
// taken its input: a refused input is refused before the question, a
// reference already recorded with the same amount needs no question, and
// an adjustment form sent twice (a double click, a resend) records once.
func TestTopUpAndAdjustmentAskFirst(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_tq", "儲值確認股份有限公司", domain.PlanStarter)
	b := e.browser()
	csrf := b.signIn(e.finance)
	balance := func() decimal.Decimal {
		v, _ := e.models.Balances.View("acct_tq", "", e.clock.Now())
		return v.Balance
	}
	entries := func() int {
		evs, err := e.store.ReadStream(context.Background(), domain.TopUpStream("acct_tq"), 0, 100)
		if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Fatal(err)
		}
		return len(evs)
	}

	// Refused at the door, before any question.
	for _, bad := range []url.Values{
		{"amount": {"10.5"}, "method": {domain.MethodBankTransfer}, "reference": {"R-1"}},
		{"amount": {"10"}, "method": {domain.MethodBankTransfer}, "reference": {" "}},
		{"amount": {"10"}, "method": {"cash"}, "reference": {"R-1"}},
	} {
		bad.Set("csrf", csrf)
		resp, page := b.post("/console/accounts/acct_tq/topups", bad)
		if resp.StatusCode != http.StatusBadRequest || len(elementsByID(t, page, "confirm-step")) != 0 {
			t.Fatalf("top-up %v: %d, want 400 without a question", bad, resp.StatusCode)
		}
	}

	code, _ := askFirst(t, b, csrf, "/console/accounts/acct_tq/topups",
		url.Values{"amount": {"12000"}, "method": {domain.MethodBankTransfer}, "reference": {"BANK-0001"}},
		func() bool { return balance().IsZero() && entries() == 0 })
	if code != http.StatusSeeOther || !balance().Equal(decimal.NewFromInt(12000)) || entries() != 1 {
		t.Fatalf("confirmed top-up: %d, balance %s, %d entries", code, balance(), entries())
	}
	// The same reference and amount again: no question, not credited twice.
	resp, _ := b.post("/console/accounts/acct_tq/topups", url.Values{"csrf": {csrf}, "amount": {"12000"},
		"method": {domain.MethodBankTransfer}, "reference": {"BANK-0001"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "topup.dup") || entries() != 1 {
		t.Fatalf("repeated top-up: %d %s, %d entries", resp.StatusCode, resp.Header.Get("Location"), entries())
	}
	// The same reference with another amount is a conflict, before any question.
	resp, page := b.post("/console/accounts/acct_tq/topups", url.Values{"csrf": {csrf}, "amount": {"13000"},
		"method": {domain.MethodBankTransfer}, "reference": {"BANK-0001"}})
	if resp.StatusCode != http.StatusConflict || len(elementsByID(t, page, "confirm-step")) != 0 {
		t.Fatalf("conflicting top-up: %d", resp.StatusCode)
	}

	// An adjustment without its reason is refused before the question.
	resp, page = b.post("/console/accounts/acct_tq/adjustments", url.Values{"csrf": {csrf}, "amount": {"-200"}, "reason": {""}})
	if resp.StatusCode != http.StatusBadRequest || len(elementsByID(t, page, "confirm-step")) != 0 {
		t.Fatalf("adjustment without a reason: %d", resp.StatusCode)
	}
	// The account page's form carries a one-time token; the confirmed
	// form, sent twice, takes NT$200 back once.
	_, acct := b.get("/console/accounts/acct_tq")
	once := ""
	for _, in := range elements(t, acct, "input", "name") {
		if in["name"] == "once" {
			once = in["value"]
		}
	}
	if once == "" {
		t.Fatal("the adjustment form has no one-time token")
	}
	code, _ = askFirst(t, b, csrf, "/console/accounts/acct_tq/adjustments",
		url.Values{"amount": {"-200"}, "reason": {"refund of an outage"}, "once": {once}},
		func() bool { return balance().Equal(decimal.NewFromInt(12000)) && entries() == 1 })
	if code != http.StatusSeeOther {
		t.Fatalf("confirmed adjustment: %d", code)
	}
	resp, _ = b.post("/console/accounts/acct_tq/adjustments", url.Values{"csrf": {csrf}, "amount": {"-200"},
		"reason": {"refund of an outage"}, "once": {once}, "confirm": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the same adjustment sent again: %d", resp.StatusCode)
	}
	if !balance().Equal(decimal.NewFromInt(11800)) || entries() != 2 {
		t.Fatalf("after the adjustment sent twice: balance %s, %d entries; want 11800 and 2", balance(), entries())
	}
	// A new page gives a new token: a second adjustment is its own.
	_, acct = b.get("/console/accounts/acct_tq")
	if strings.Contains(acct, once) {
		t.Fatal("the account page gives the same one-time token again")
	}
}
