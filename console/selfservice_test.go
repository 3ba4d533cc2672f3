package console

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/httpapi"
	"github.com/routefree/routefree/projections"
)

// lastEvent decodes the last event of a stream.
func (e *env) lastEvent(stream string) domain.Event {
	e.t.Helper()
	evs, err := e.store.ReadStream(e.ctx, stream, 0, 1000)
	if err != nil || len(evs) == 0 {
		e.t.Fatalf("stream %s: %d events, %v", stream, len(evs), err)
	}
	last := evs[len(evs)-1]
	ev, err := domain.Decode(last.Type, last.SchemaVersion, last.Data)
	if err != nil {
		e.t.Fatal(err)
	}
	return ev
}

func (e *env) streamLen(stream string) int {
	e.t.Helper()
	evs, err := e.store.ReadStream(e.ctx, stream, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(evs)
}

func (e *env) key(acct, id string) projections.KeyInfo {
	e.t.Helper()
	for _, k := range e.models.Keys.ByAccount(acct) {
		if k.KeyID == id {
			return k
		}
	}
	e.t.Fatalf("no key %s", id)
	return projections.KeyInfo{}
}

// managedAccount is an account with a management key limited to NT$100 a
// month and an inference key under it limited to NT$50.
func managedAccount(e *env, acct string) (mgmtID, mgmt, childID string) {
	e.t.Helper()
	e.openAccount(acct, "自助服務股份有限公司", domain.PlanStarter)
	var err error
	mgmtID, mgmt, err = e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: acct, Name: "owner", Management: true,
		SpendLimit: decimal.NewFromInt(100), SpendPeriod: "monthly"})
	if err != nil {
		e.t.Fatal(err)
	}
	childID, _, err = e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: acct, Name: "app",
		SpendLimit: decimal.NewFromInt(50), SpendPeriod: "monthly"})
	if err != nil {
		e.t.Fatal(err)
	}
	e.sync()
	return mgmtID, mgmt, childID
}

// OpenRouter's PATCH /api/v1/keys/{hash} renames a key and sets its limit,
// within the management key's own limits; a refused body changes nothing,
// and the gateway's limit follows the change.
func TestOpenRouterPatchKey(t *testing.T) {
	e := newEnv(t, false)
	mgmtID, mgmt, child := managedAccount(e, "acct_or")
	path := "/api/v1/keys/" + child

	code, b := e.call("PATCH", path, mgmt, map[string]any{"name": "production", "limit": 80, "include_byok_in_limit": true})
	if code != http.StatusOK || !strings.Contains(string(b), `"name":"production"`) || !strings.Contains(string(b), `"limit":80`) ||
		!strings.Contains(string(b), `"updated_at":"20`) {
		t.Fatalf("rename and limit: %d %s", code, b)
	}
	k := e.key("acct_or", child)
	if k.Name != "production" || !k.SpendLimit.Equal(decimal.NewFromInt(80)) || k.SpendPeriod != "monthly" {
		t.Fatalf("key after PATCH: %+v", k)
	}
	if v, _ := e.models.Balances.View("acct_or", child, e.clock.Now()); !v.KeySpendLimit.Equal(decimal.NewFromInt(80)) {
		t.Fatalf("the gateway's limit is %s, want 80", v.KeySpendLimit)
	}
	ch, ok := e.lastEvent(domain.KeyStream(child)).(*domain.KeyChanged)
	if !ok || ch.Actor.Kind != domain.ActorKey || ch.Actor.ID != mgmtID || ch.Name != "production" {
		t.Fatalf("recorded change: %#v", ch)
	}

	// Each refusal leaves the key as it was: no event is written.
	n := e.streamLen(domain.KeyStream(child))
	for _, c := range []struct {
		body map[string]any
		want int
	}{
		{map[string]any{"limit": 150}, http.StatusForbidden},                  // above the management key's NT$100
		{map[string]any{"limit": nil}, http.StatusForbidden},                  // no limit under a limited key
		{map[string]any{"limit_reset": "daily"}, http.StatusForbidden},        // another period than the key's own
		{map[string]any{"limit_reset": "yearly"}, http.StatusBadRequest},      // not a period
		{map[string]any{"name": ""}, http.StatusBadRequest},                   // a key needs a name
		{map[string]any{"name": "x", "colour": "red"}, http.StatusBadRequest}, // unknown field, with a valid one
		{map[string]any{"limit": -5}, http.StatusBadRequest},
		{map[string]any{"limit": "many"}, http.StatusBadRequest},
		{map[string]any{"disabled": "yes"}, http.StatusBadRequest},
		{map[string]any{"disabled": nil}, http.StatusBadRequest}, // not a way to enable
	} {
		if code, b := e.call("PATCH", path, mgmt, c.body); code != c.want {
			t.Errorf("PATCH %v: %d %s, want %d", c.body, code, b, c.want)
		}
	}
	// A management key cannot raise its own limit either.
	if code, b := e.call("PATCH", "/api/v1/keys/"+mgmtID, mgmt, map[string]any{"limit": 1000}); code != http.StatusForbidden {
		t.Errorf("raising its own limit: %d %s", code, b)
	}
	if got := e.streamLen(domain.KeyStream(child)); got != n {
		t.Fatalf("refused PATCHes wrote %d events", got-n)
	}
	if k := e.key("acct_or", child); k.Name != "production" || !k.SpendLimit.Equal(decimal.NewFromInt(80)) {
		t.Fatalf("key after refusals: %+v", k)
	}

	// An unlimited management key may lift a limit (null) and set a period.
	bossID, boss, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_or", Name: "boss", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	if code, b := e.call("PATCH", path, boss, map[string]any{"limit": nil}); code != http.StatusOK || !strings.Contains(string(b), `"limit":null`) {
		t.Fatalf("lift the limit: %d %s", code, b)
	}
	if code, b := e.call("PATCH", path, boss, map[string]any{"limit": 30, "limit_reset": "weekly"}); code != http.StatusOK ||
		!strings.Contains(string(b), `"limit_reset":"weekly"`) {
		t.Fatalf("weekly limit: %d %s", code, b)
	}
	if v, _ := e.models.Balances.View("acct_or", child, e.clock.Now()); !v.KeySpendLimit.Equal(decimal.NewFromInt(30)) || v.KeySpendPeriod != "weekly" {
		t.Fatalf("the gateway's limit is %s %s, want 30 weekly", v.KeySpendLimit, v.KeySpendPeriod)
	}
	// A disabled key can still be changed; a deleted one cannot.
	if code, _ := e.call("PATCH", path, boss, map[string]any{"disabled": true}); code != http.StatusOK {
		t.Fatal("disable")
	}
	if code, b := e.call("PATCH", path, boss, map[string]any{"name": "again"}); code != http.StatusOK || !strings.Contains(string(b), `"disabled":true`) {
		t.Fatalf("renaming a disabled key: %d %s", code, b)
	}
	if code, b := e.call("DELETE", path, boss, nil); code != http.StatusOK {
		t.Fatalf("delete: %d %s", code, b)
	}
	if code, b := e.call("PATCH", path, boss, map[string]any{"name": "once more"}); code != http.StatusBadRequest {
		t.Fatalf("renaming a deleted key: %d %s", code, b)
	}
	// A disabled management key is refused like a revoked one.
	if code, b := e.call("GET", "/api/v1/keys", boss, nil); code != http.StatusOK {
		t.Fatalf("list: %d %s", code, b)
	}
	if code, b := e.call("PATCH", "/api/v1/keys/"+bossID, boss, map[string]any{"disabled": true}); code != http.StatusOK {
		t.Fatalf("disable itself: %d %s", code, b)
	}
	if code, b := e.call("GET", "/api/v1/keys", boss, nil); code != http.StatusUnauthorized || !strings.Contains(string(b), "disabled") {
		t.Fatalf("a disabled management key: %d %s", code, b)
	}
}

// A customer signed in with their management key creates a key within its
// own limits, renames it and sets its limit, and revokes it after a
// confirmation step, in the console.
func TestConsoleCustomerManagesKeys(t *testing.T) {
	e := newEnv(t, false)
	mgmtID, mgmt, child := managedAccount(e, "acct_self")
	b := e.browser()
	csrf := b.signIn(mgmt)
	acctPage := "/console/accounts/acct_self"

	// Create: above the key's own limit is refused, within it the secret shows once.
	if resp, _ := b.post(acctPage+"/keys", url.Values{"csrf": {csrf}, "name": {"too big"}, "spend_limit": {"200"}, "spend_period": {"monthly"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a key above its own limit: %d", resp.StatusCode)
	}
	resp, page := b.post(acctPage+"/keys", url.Values{"csrf": {csrf}, "name": {"batch"}, "spend_limit": {"40"}, "spend_period": {"monthly"}})
	if resp.StatusCode != http.StatusCreated || !strings.Contains(attrOf(t, page, "section", "id", "new-key", "id"), "new-key") {
		t.Fatalf("create: %d", resp.StatusCode)
	}

	// Rename and limit through the key's edit form.
	_, page = b.get(acctPage)
	if attrOf(t, page, "form", "id", "keyedit-"+child, "action") != "/console/keys/"+child {
		t.Fatal("no edit form for the key")
	}
	resp, _ = b.post("/console/keys/"+child, url.Values{"csrf": {csrf}, "name": {"翻譯服務"}, "spend_limit": {"75"}, "spend_period": {"monthly"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "flash=key.changed") {
		t.Fatalf("change: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if k := e.key("acct_self", child); k.Name != "翻譯服務" || !k.SpendLimit.Equal(decimal.NewFromInt(75)) {
		t.Fatalf("key after the form: %+v", k)
	}
	if resp, _ := b.post("/console/keys/"+child, url.Values{"csrf": {csrf}, "name": {"x"}, "spend_limit": {"101"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a limit above the management key's: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/console/keys/"+child, url.Values{"name": {"no csrf"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a change without the CSRF token: %d", resp.StatusCode)
	}
	_, page = b.get(acctPage)
	if !strings.Contains(page, "翻譯服務") || !strings.Contains(page, "NT$75.00") {
		t.Fatal("the account page does not show the renamed key and its limit")
	}

	// Disable asks first, then stops the key until Enable; both are recorded
	// with the management key as their actor.
	_, page = b.get(acctPage)
	if attrOf(t, page, "button", "id", "disable-"+child, "id") == "" {
		t.Fatal("no Disable button for the key")
	}
	resp, page = b.post("/console/keys/"+child+"/disable", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusOK || attrOf(t, page, "form", "id", "confirm-form", "action") != "/console/keys/"+child+"/disable" || e.key("acct_self", child).Disabled {
		t.Fatalf("disable without confirmation: %d", resp.StatusCode)
	}
	resp, _ = b.post("/console/keys/"+child+"/disable", url.Values{"csrf": {csrf}, "confirm": {"yes"}})
	if k := e.key("acct_self", child); resp.StatusCode != http.StatusSeeOther || !k.Disabled || k.Revoked {
		t.Fatalf("confirmed disable: %d %+v", resp.StatusCode, k)
	}
	if d, ok := e.lastEvent(domain.KeyStream(child)).(*domain.KeyDisabled); !ok || d.Actor.ID != mgmtID {
		t.Fatalf("disabling recorded as %#v", e.lastEvent(domain.KeyStream(child)))
	}
	_, page = b.get(acctPage)
	if attrOf(t, page, "button", "id", "enable-"+child, "id") == "" {
		t.Fatal("a disabled key has no Enable button")
	}
	resp, _ = b.post("/console/keys/"+child+"/enable", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || e.key("acct_self", child).Disabled {
		t.Fatalf("enable: %d", resp.StatusCode)
	}

	// Revoke: the first post only asks; the confirmation revokes.
	resp, page = b.post("/console/keys/"+child+"/revoke", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusOK || attrOf(t, page, "form", "id", "confirm-form", "action") != "/console/keys/"+child+"/revoke" {
		t.Fatalf("revoke without confirmation: %d", resp.StatusCode)
	}
	if !strings.Contains(page, "翻譯服務") || attrOf(t, page, "a", "id", "confirm-cancel", "href") != acctPage {
		t.Fatal("the confirmation step does not name the key or lead back to the account")
	}
	if e.key("acct_self", child).Revoked {
		t.Fatal("revoked before the confirmation")
	}
	resp, _ = b.post("/console/keys/"+child+"/revoke", url.Values{"csrf": {csrf}, "confirm": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther || !e.key("acct_self", child).Revoked {
		t.Fatalf("confirmed revoke: %d", resp.StatusCode)
	}
	rv, ok := e.lastEvent(domain.KeyStream(child)).(*domain.KeyRevoked)
	if !ok || rv.Actor.ID != mgmtID {
		t.Fatalf("revocation recorded as %#v", rv)
	}
	// A revoked key cannot be changed.
	if resp, _ := b.post("/console/keys/"+child, url.Values{"csrf": {csrf}, "name": {"late"}}); resp.StatusCode != http.StatusConflict {
		t.Fatalf("changing a revoked key: %d", resp.StatusCode)
	}

	// An inference key signs in and reads, but changes nothing.
	_, inference, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_self", Name: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	r := e.browser()
	rcsrf := r.signIn(inference)
	if resp, _ := r.post("/console/keys/"+mgmtID, url.Values{"csrf": {rcsrf}, "name": {"mine now"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an inference key changing a key: %d", resp.StatusCode)
	}
	if _, page := r.get(acctPage); strings.Contains(page, `id="keyedit-`) {
		t.Fatal("an inference key is offered the edit form")
	}
}

// The owner sets the invoice carrier, a donation code or a 統一編號 in the
// console; the next top-up invoice follows it, and bad input changes
// nothing.
func TestConsoleInvoiceCarrier(t *testing.T) {
	e := newEnv(t, false)
	_, mgmt, _ := managedAccount(e, "acct_inv")
	b := e.browser()
	csrf := b.signIn(mgmt)
	form := func(taxID, carrier, donation string) *http.Response {
		resp, _ := b.post("/console/accounts/acct_inv/invoice-carrier", url.Values{"csrf": {csrf}, "tax_id": {taxID}, "carrier": {carrier}, "donation_code": {donation}})
		return resp
	}
	if resp := form("", "/abc+123", ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("carrier: %d", resp.StatusCode)
	}
	_, page := b.get("/console/accounts/acct_inv")
	if attrOf(t, page, "section", "id", "invoice-to", "data-carrier") != "/ABC+123" {
		t.Fatal("the page does not show the carrier, upper-cased")
	}
	set, ok := e.lastEvent(domain.AccountStream("acct_inv")).(*domain.InvoiceCarrierSet)
	if !ok || set.Actor.Kind != domain.ActorKey {
		t.Fatalf("recorded as %#v", set)
	}

	n := e.streamLen(domain.AccountStream("acct_inv"))
	for _, bad := range [][3]string{{"12345678", "", ""}, {"04595257", "/ABC+123", ""}, {"", "/ABC+123", "919"}, {"", "ABC", ""}, {"", "", "12"}} {
		if resp := form(bad[0], bad[1], bad[2]); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: %d, want 400", bad, resp.StatusCode)
		}
	}
	if got := e.streamLen(domain.AccountStream("acct_inv")); got != n {
		t.Fatalf("refused settings wrote %d events", got-n)
	}

	// A 統一編號: the next top-up's invoice is B2B to it.
	if resp := form("04595257", "", ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("統一編號: %d", resp.StatusCode)
	}
	_, page = b.get("/console/accounts/acct_inv")
	if attrOf(t, page, "section", "id", "invoice-to", "data-tax-id") != "04595257" {
		t.Fatal("the page does not show the 統一編號")
	}
	e.invoice("acct_inv", "CD12345678", "2026-03")
	inv := e.deps.Invoices.(*invoicing.Service).Invoices("", "acct_inv")
	if len(inv) != 1 || inv[0].BuyerTaxID != "04595257" {
		t.Fatalf("invoice after the 統一編號: %+v", inv)
	}
	// Staff other than finance do not set it.
	a := e.browser()
	acsrf := a.signIn(e.auditor)
	if resp, _ := a.post("/console/accounts/acct_inv/invoice-carrier", url.Values{"csrf": {acsrf}, "donation_code": {"919"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("auditor: %d", resp.StatusCode)
	}
}

// The account page lists the customer's invoices and allowances with
// links that download their PDFs in the customer's own session.
func TestConsoleCustomerDownloadsInvoicesAndAllowances(t *testing.T) {
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) {
		httpapi.Register(ech.Group("/admin/api"), ech.Group("/api/v1"), d.Invoices.(*invoicing.Service), d.Auth)
	})
	_, mgmt, _ := managedAccount(e, "acct_dl")
	e.invoice("acct_dl", "EF12345678", "2026-03")
	// The buyer has no 統一編號: its invoice takes the allowance once its
	// period (March–April) is filed, from 16 May.
	e.clock.set(time.Date(2026, 5, 16, 10, 0, 0, 0, projections.Taipei))
	al, err := e.deps.Invoices.(*invoicing.Service).IssueAllowance(e.ctx, "EF12345678", 105, "discount")
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	b := e.browser()
	b.signIn(mgmt)
	_, page := b.get("/console/accounts/acct_dl")
	links := map[string]string{"EF12345678": "/api/v1/invoices/EF12345678/pdf", al.Number: "/api/v1/allowances/" + al.Number + "/pdf"}
	if href := attrOf(t, page, "tr", "data-invoice", "EF12345678", "data-invoice"); href == "" {
		t.Fatal("the invoice is not listed")
	}
	if href := attrOf(t, page, "tr", "data-allowance", al.Number, "data-allowance"); href == "" {
		t.Fatal("the allowance is not listed")
	}
	for _, href := range links {
		found := false
		for _, a := range elements(t, page, "a", "href") {
			found = found || a["href"] == href
		}
		if !found {
			t.Fatalf("no link %s on the account page", href)
		}
	}
	for number, href := range links {
		resp, body := b.get(href)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix([]byte(body), []byte("%PDF-")) {
			t.Fatalf("%s: %d %s", number, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(pdfText(t, []byte(body)), number) {
			t.Fatalf("the PDF of %s does not name it", number)
		}
	}
}

// The account page shows the credit left, and warns below 10 % of the
// last top-up, never below NT$100.
func TestLowBalanceWarning(t *testing.T) {
	e := newEnv(t, false)
	_, mgmt, key := managedAccount(e, "acct_low")
	b := e.browser()
	b.signIn(mgmt)
	topUp := func(ref string, amount int64) {
		if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "acct_low", Amount: decimal.NewFromInt(amount),
			Method: domain.MethodBankTransfer, Reference: ref}); err != nil {
			t.Fatal(err)
		}
		e.sync()
	}
	check := func(what string, low bool, remaining, threshold string) {
		t.Helper()
		_, page := b.get("/console/accounts/acct_low")
		if got := attrOf(t, page, "section", "id", "remaining", "data-low"); got != map[bool]string{true: "true", false: "false"}[low] {
			t.Errorf("%s: low=%s, want %v", what, got, low)
		}
		if got := attrOf(t, page, "section", "id", "remaining", "data-remaining"); !decimal.RequireFromString(got).Equal(decimal.RequireFromString(remaining)) {
			t.Errorf("%s: remaining %s, want %s", what, got, remaining)
		}
		if got := attrOf(t, page, "section", "id", "remaining", "data-threshold"); !decimal.RequireFromString(got).Equal(decimal.RequireFromString(threshold)) {
			t.Errorf("%s: threshold %s, want %s", what, got, threshold)
		}
		if hasAlert := strings.Contains(page, `id="low-balance"`); hasAlert != low {
			t.Errorf("%s: warning shown %v, want %v", what, hasAlert, low)
		}
	}
	check("nothing topped up", true, "0", "100")
	topUp("T1", 1000)
	check("after NT$1,000", false, "1000", "100")
	e.request("acct_low", key, e.cat.IDs()[0], "", e.clock.Now().Add(-time.Hour), 10, 10, "950")
	e.sync()
	check("NT$50 left", true, "50", "100")
	topUp("T2", 80000)
	check("after NT$80,000", false, "80050", "8000")
	e.request("acct_low", key, e.cat.IDs()[0], "", e.clock.Now().Add(-time.Hour), 10, 10, "72100")
	e.sync()
	check("NT$7,950 left of NT$80,000", true, "7950", "8000")
	_, page := b.get("/console/accounts/acct_low?lang=en")
	if !strings.Contains(page, "NT$7,950.00") || !strings.Contains(page, "NT$8,000.00") {
		t.Error("the warning does not show the amounts with thousands separators")
	}
}

// /rankings lists only apps of accounts whose owners opted in, in the
// console, over the window the page states.
func TestRankingsOptInAndWindow(t *testing.T) {
	e := newEnv(t, false)
	listedMgmtID, listed, listedKey := managedAccount(e, "acct_listed")
	_, _, hiddenKey := managedAccount(e, "acct_hidden")
	model := e.cat.IDs()[0]
	now := e.clock.Now()
	e.request("acct_listed", listedKey, model, "Recent App", now.Add(-2*24*time.Hour), 100, 100, "1")
	e.request("acct_listed", listedKey, model, "Older App", now.Add(-20*24*time.Hour), 500, 500, "1")
	e.request("acct_listed", listedKey, model, "Ancient App", now.Add(-60*24*time.Hour), 900, 900, "1")
	e.request("acct_hidden", hiddenKey, model, "Secret App", now.Add(-1*24*time.Hour), 9000, 9000, "1")
	e.sync()

	apps := func(path string) (map[string]bool, string) {
		t.Helper()
		_, page := e.browser().get(path)
		out := map[string]bool{}
		for _, a := range elements(t, page, "tr", "data-app") {
			out[a["data-app"]] = true
		}
		return out, page
	}
	if got, _ := apps("/rankings?days=30"); len(got) != 0 {
		t.Fatalf("apps listed before any owner opted in: %v", got)
	}

	// The owner opts in on the account page.
	b := e.browser()
	csrf := b.signIn(listed)
	resp, _ := b.post("/console/accounts/acct_listed/rankings", url.Values{"csrf": {csrf}, "listed": {"on"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("opt in: %d", resp.StatusCode)
	}
	ev, ok := e.lastEvent(domain.AccountStream("acct_listed")).(*domain.RankingsListed)
	if !ok || !ev.Listed || ev.Actor.Kind != domain.ActorKey || ev.Actor.ID != listedMgmtID {
		t.Fatalf("opt-in recorded as %#v", ev)
	}

	got, page := apps("/rankings")
	if !got["Recent App"] || got["Older App"] || got["Ancient App"] || got["Secret App"] || len(got) != 1 {
		t.Fatalf("last 7 days: %v", got)
	}
	if attrOf(t, page, "p", "id", "rank-window", "data-days") != "7" || attrOf(t, page, "p", "id", "rank-window", "data-from") != "2026-03-09" ||
		attrOf(t, page, "p", "id", "rank-window", "data-to") != "2026-03-15" || !strings.Contains(page, "2026-03-09 – 2026-03-15") {
		t.Fatal("the page does not state its 7-day window")
	}
	got, page = apps("/rankings?days=30&lang=en")
	if !got["Recent App"] || !got["Older App"] || got["Ancient App"] || got["Secret App"] {
		t.Fatalf("last 30 days: %v", got)
	}
	if !strings.Contains(page, "2026-02-14 – 2026-03-15") || !strings.Contains(page, "30 days") {
		t.Fatal("the page does not state its 30-day window")
	}
	if strings.Contains(page, "acct_listed") || strings.Contains(page, "自助服務") {
		t.Fatal("the rankings name the account")
	}
	// An unknown window falls back to the default, stated.
	if _, page := apps("/rankings?days=3650"); attrOf(t, page, "p", "id", "rank-window", "data-days") != "7" {
		t.Fatal("an unknown window is not the default")
	}

	// Staff cannot opt an account in; the owner opts out and the app goes.
	s := e.browser()
	scsrf := s.signIn(e.admin)
	if resp, _ := s.post("/console/accounts/acct_hidden/rankings", url.Values{"csrf": {scsrf}, "listed": {"on"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("admin opting an account in: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/console/accounts/acct_listed/rankings", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("opt out: %d", resp.StatusCode)
	}
	if got, _ := apps("/rankings?days=30"); len(got) != 0 {
		t.Fatalf("apps listed after opting out: %v", got)
	}
	// Models are ranked over the window whoever's they are.
	_, page = e.browser().get("/rankings")
	if len(elements(t, page, "tr", "data-model")) != 1 {
		t.Fatal("models are not ranked")
	}
}

// pdfText reads a PDF back with poppler's pdftotext.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		msg := "pdftotext is missing: install Debian's poppler-utils"
		if os.Getenv("ROUTEFREE_REQUIRE_SERVICES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	cmd := exec.Command("pdftotext", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// A customer in a real browser, on a phone: renames a key and sets its
// limit, revokes it through the confirmation step, sets a carrier and lists
// their apps, then finds them on /rankings.
func TestBrowserCustomerSelfService(t *testing.T) {
	e := newEnv(t, false)
	_, mgmt, child := managedAccount(e, "acct_phone")
	e.request("acct_phone", child, e.cat.IDs()[0], "手機記帳", e.clock.Now().Add(-time.Hour), 100, 100, "1")
	e.sync()
	c := newChrome(t)
	c.do("phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	c.signIn(e.srv.URL, mgmt)
	c.do("account", chromedp.Navigate(e.srv.URL+"/console/accounts/acct_phone"), chromedp.WaitVisible(chromedp.CSS("#remaining")))

	form := "#keyedit-" + child
	c.clearFlash("rename")
	c.do("rename",
		chromedp.Click(chromedp.CSS("#edit-"+child)),
		chromedp.WaitVisible(chromedp.CSS(form+` input[name="name"]`)),
		chromedp.SetValue(chromedp.CSS(form+` input[name="name"]`), "記帳 App"),
		chromedp.SetValue(chromedp.CSS(form+` input[name="spend_limit"]`), "60"),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if k := e.key("acct_phone", child); k.Name != "記帳 App" || !k.SpendLimit.Equal(decimal.NewFromInt(60)) {
		t.Fatalf("key after the browser's change: %+v", k)
	}

	c.do("revoke asks",
		chromedp.Click(chromedp.CSS(`tr[data-key="`+child+`"] button.danger`)),
		chromedp.WaitVisible(chromedp.CSS("#confirm-submit")),
	)
	if target := get(c, "confirm target", chromedp.Text(chromedp.CSS("#confirm-target"))); !strings.Contains(target, "記帳 App") {
		t.Fatalf("the confirmation names %q", target)
	}
	if e.key("acct_phone", child).Revoked {
		t.Fatal("revoked before the confirmation")
	}
	c.clearFlash("revoke confirms")
	c.do("revoke confirms", chromedp.Click(chromedp.CSS("#confirm-submit")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if !e.key("acct_phone", child).Revoked {
		t.Fatal("not revoked after the confirmation")
	}

	c.clearFlash("carrier")
	c.do("carrier",
		chromedp.SetValue(chromedp.CSS("#carrier-code"), "/xyz.789"),
		chromedp.Click(chromedp.CSS("#carrier-submit")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if got := c.attr("carrier shown", "#invoice-to", "data-carrier"); got != "/XYZ.789" {
		t.Fatalf("carrier shown %q", got)
	}
	c.clearFlash("list my apps")
	c.do("list my apps",
		chromedp.Click(chromedp.CSS("#rankings-listed")),
		chromedp.Click(chromedp.CSS("#rankings-submit")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
		chromedp.Navigate(e.srv.URL+"/rankings"),
		chromedp.WaitVisible(chromedp.CSS("#rank-apps")),
	)
	if n := len(get(c, "ranked", chromedp.Nodes(chromedp.CSSAll(`#rank-apps tr[data-app="手機記帳"]`)))); n != 1 {
		t.Fatalf("the listed app shows %d times on /rankings", n)
	}
	if get(c, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)) {
		t.Errorf("/rankings scrolls sideways on a phone (artefacts: %s)", c.artefacts("overflow"))
	}
	if v := c.violations(); len(v) > 0 {
		t.Fatalf("console errors or CSP violations:\n%s", strings.Join(v, "\n"))
	}
}

// An account's owner signed in through their organisation's OpenID Connect
// provider serves themselves too: they rename a key and list their apps,
// and the events name them.
func TestBrowserSSOCustomerSelfService(t *testing.T) {
	e, m := oidcEnv(t)
	keyID, _ := e.issueKey("acct_acme")
	m.QueueUser(&mockoidc.MockUser{Subject: "cust-9", Email: "lin@acme.example", EmailVerified: true})
	c := newChrome(t)
	c.ssoSignIn(e.srv.URL, "#sso-oidc")
	form := "#keyedit-" + keyID
	c.clearFlash("rename")
	c.do("rename",
		chromedp.WaitVisible(chromedp.CSS("#edit-"+keyID)),
		chromedp.Click(chromedp.CSS("#edit-"+keyID)),
		chromedp.WaitVisible(chromedp.CSS(form+` input[name="name"]`)),
		chromedp.SetValue(chromedp.CSS(form+` input[name="name"]`), "客服機器人"),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	c.clearFlash("list my apps")
	c.do("list my apps",
		chromedp.Click(chromedp.CSS("#rankings-listed")),
		chromedp.Click(chromedp.CSS("#rankings-submit")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	member := domain.Actor{Kind: domain.ActorMember, ID: "oidc:cust-9"}
	if ch, ok := e.lastEvent(domain.KeyStream(keyID)).(*domain.KeyChanged); !ok || ch.Name != "客服機器人" || ch.Actor != member {
		t.Fatalf("key change recorded as %#v", ch)
	}
	if l, ok := e.lastEvent(domain.AccountStream("acct_acme")).(*domain.RankingsListed); !ok || !l.Listed || l.Actor != member {
		t.Fatalf("rankings choice recorded as %#v", l)
	}
	if !e.views.RankingsListed("acct_acme") {
		t.Fatal("the account is not listed")
	}
}

// clearFlash removes the page's flash message, so that waiting for one
// waits for the next page's.
func (c *chrome) clearFlash(step string) {
	c.t.Helper()
	get(c, step+" (clear flash)", chromedp.Evaluate[bool](`(document.querySelectorAll(".flash").forEach(e => e.remove()), true)`))
}

// The low-balance warning follows the last top-up, however the page's
// top-up table is sorted, searched or paged: reordering a table must not
// make the warning come and go.
func TestLowBalanceWarningIgnoresTheTopUpTable(t *testing.T) {
	e := newEnv(t, false)
	_, mgmt, key := managedAccount(e, "acct_lowt")
	b := e.browser()
	b.signIn(mgmt)
	for i, amount := range []int64{1000, 80000} {
		if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "acct_lowt", Amount: decimal.NewFromInt(amount),
			Method: domain.MethodBankTransfer, Reference: []string{"T1", "T2"}[i]}); err != nil {
			t.Fatal(err)
		}
		e.clock.set(e.clock.Now().Add(time.Minute))
	}
	e.request("acct_lowt", key, e.cat.IDs()[0], "", e.clock.Now().Add(-time.Hour), 10, 10, "73050")
	e.sync()
	for _, q := range []string{"", "?topups_sort=amount&topups_dir=asc", "?topups_sort=date&topups_dir=asc", "?topups_q=T1", "?topups_method=credit-card"} {
		_, page := b.get("/console/accounts/acct_lowt" + q)
		low := attrOf(t, page, "section", "id", "remaining", "data-low")
		th := attrOf(t, page, "section", "id", "remaining", "data-threshold")
		if low != "true" || !decimal.RequireFromString(th).Equal(decimal.NewFromInt(8000)) {
			t.Errorf("%q: low=%s threshold %s, want low=true at 8000 (10%% of the last top-up, NT$80,000)", q, low, th)
		}
	}
}
