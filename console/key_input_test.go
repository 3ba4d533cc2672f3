package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// A spending limit of 0 never means "no limit": the APIs and the console's
// forms refuse it (null, or leaving it out, is how a key has none), and
// the key stays as it was.
func TestZeroSpendLimitIsRefused(t *testing.T) {
	e := newEnv(t, false)
	_, _, child := managedAccount(e, "acct_zero")
	bossID, boss, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_zero", Name: "boss", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	n := e.streamLen(domain.KeyStream(child))
	for _, limit := range []any{0, "0", 0.0} {
		code, b := e.call("PATCH", "/api/v1/keys/"+child, boss, map[string]any{"limit": limit})
		if code != http.StatusBadRequest || !strings.Contains(string(b), "null") {
			t.Errorf("PATCH limit %v: %d %s", limit, code, b)
		}
	}
	if got := e.streamLen(domain.KeyStream(child)); got != n {
		t.Fatalf("refused PATCHes wrote %d events", got-n)
	}
	if k := e.key("acct_zero", child); !k.SpendLimit.Equal(decimal.NewFromInt(50)) {
		t.Fatalf("key after refusals: %+v", k)
	}
	keys := len(e.models.Keys.ByAccount("acct_zero"))
	if code, b := e.call("POST", "/api/v1/keys", boss, map[string]any{"name": "z", "limit": 0}); code != http.StatusBadRequest {
		t.Errorf("create with limit 0: %d %s", code, b)
	}
	if code, b := e.call("POST", "/admin/api/accounts/acct_zero/keys", e.admin, map[string]any{"name": "z", "spend_limit": "0"}); code != http.StatusBadRequest {
		t.Errorf("admin create with spend_limit 0: %d %s", code, b)
	}
	// Null, or no limit at all, is a key without one.
	if code, b := e.call("POST", "/api/v1/keys", boss, map[string]any{"name": "free", "limit": nil}); code != http.StatusCreated || !strings.Contains(string(b), `"limit":null`) {
		t.Errorf("create with limit null: %d %s", code, b)
	}
	if code, b := e.call("POST", "/admin/api/accounts/acct_zero/keys", e.admin, map[string]any{"name": "free too"}); code != http.StatusCreated {
		t.Errorf("admin create without a limit: %d %s", code, b)
	}
	if got := len(e.models.Keys.ByAccount("acct_zero")); got != keys+2 {
		t.Fatalf("%d keys issued, want the 2 without a limit", got-keys)
	}

	// The console's forms: "0" is refused, an empty field is no limit.
	br := e.browser()
	csrf := br.signIn(boss)
	page := "/console/accounts/acct_zero"
	if resp, body := br.post(page+"/keys", url.Values{"csrf": {csrf}, "name": {"form"}, "spend_limit": {"0"}, "spend_period": {"monthly"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("key form with 0: %d %.300s", resp.StatusCode, body)
	}
	if resp, _ := br.post("/console/keys/"+child, url.Values{"csrf": {csrf}, "name": {"app"}, "spend_limit": {"0"}, "spend_period": {"monthly"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("change form with 0: %d", resp.StatusCode)
	}
	if got := len(e.models.Keys.ByAccount("acct_zero")); got != keys+2 {
		t.Fatalf("the refused form issued a key")
	}
	// The forms as the page fills them: the new-key form's limit is empty,
	// and an unlimited key's edit form sent back unchanged keeps it so.
	_, body := br.get(page)
	limits := 0
	for _, in := range elements(t, body, "input", "name") {
		if in["name"] == "spend_limit" {
			limits++
			if in["value"] == "0" {
				t.Fatalf("a form offers a spending limit of 0: %v", in)
			}
		}
	}
	if limits < 2 {
		t.Fatalf("%d spending-limit fields on the account page, want the new key's and the edit forms'", limits)
	}
	form := formValues(t, body, "keyedit-"+bossID)
	if form.Get("name") != "boss" || form.Get("spend_limit") != "" {
		t.Fatalf("the unlimited key's edit form: %v", form)
	}
	if resp, _ := br.post("/console/keys/"+bossID, form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlimited key's form sent back: %d", resp.StatusCode)
	}
	if k := e.key("acct_zero", bossID); !k.SpendLimit.IsZero() {
		t.Fatalf("unlimited key after its form: %+v", k)
	}
}

// A key issued without a name is named after its ID, and any key can get
// a new limit through OpenRouter's PATCH without naming it again.
func TestKeyIssuedWithoutANameCanBeChanged(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_noname", "無名公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_noname", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	code, b := e.call("POST", "/admin/api/accounts/acct_noname/keys", e.admin, map[string]any{"spend_limit": "5"})
	var out struct {
		Data struct {
			KeyID string `json:"key_id"`
			Name  string `json:"name"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &out); code != http.StatusCreated || err != nil || out.Data.KeyID == "" || out.Data.Name != out.Data.KeyID {
		t.Fatalf("issue without a name: %d %s", code, b)
	}
	if code, b := e.call("PATCH", "/api/v1/keys/"+out.Data.KeyID, mgmt, map[string]any{"limit": 1}); code != http.StatusOK || !strings.Contains(string(b), `"limit":1`) {
		t.Fatalf("new limit: %d %s", code, b)
	}
	for _, name := range []string{strings.Repeat("x", 5000), "nul\x00byte"} {
		if code, b := e.call("POST", "/admin/api/accounts/acct_noname/keys", e.admin, map[string]any{"name": name}); code != http.StatusBadRequest {
			t.Errorf("issue named %.20q: %d %s", name, code, b)
		}
	}
}

// OpenRouter's label is the key's visible prefix, with one ellipsis.
func TestOpenRouterKeyLabel(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_label", "標籤公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_label", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	_, b := e.call("GET", "/api/v1/keys", mgmt, nil)
	var list struct {
		Data []struct {
			Label string `json:"label"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &list); err != nil || len(list.Data) != 1 {
		t.Fatalf("list: %s", b)
	}
	if l := list.Data[0].Label; !strings.HasPrefix(l, "sk-rf-") || strings.Count(l, "…") != 1 || !strings.HasSuffix(l, "…") || len(l) != len("sk-rf-")+6+len("…") {
		t.Fatalf("label %q", l)
	}
}

// formValues is what a browser would send for the form with id: its
// inputs' values and its selects' selected options.
func formValues(t *testing.T, page, id string) url.Values {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *html.Node, key string) string {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val
			}
		}
		return ""
	}
	out := url.Values{}
	var walk func(n *html.Node, in bool)
	walk = func(n *html.Node, in bool) {
		if n.Type == html.ElementNode {
			switch {
			case n.Data == "form" && attr(n, "id") == id:
				in = true
			case in && n.Data == "input" && attr(n, "name") != "":
				out.Set(attr(n, "name"), attr(n, "value"))
			case in && n.Data == "select":
				for o := n.FirstChild; o != nil; o = o.NextSibling {
					if o.Type == html.ElementNode && o.Data == "option" && (out.Get(attr(n, "name")) == "" || hasAttr(o, "selected")) {
						out.Set(attr(n, "name"), attr(o, "value"))
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, in)
		}
	}
	walk(doc, false)
	if len(out) == 0 {
		t.Fatalf("no form %q with fields in the page", id)
	}
	return out
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// A limit past what the admission ledgers hold (a trillion NTD, or 1e400,
// which is past a float's range) is refused with a 400 before anything is
// written, rather than stored and then failing every listing and request.
func TestHugeSpendLimitIsRefused(t *testing.T) {
	e := newEnv(t, false)
	_, _, child := managedAccount(e, "acct_huge")
	_, boss, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_huge", Name: "boss", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	keys := len(e.models.Keys.ByAccount("acct_huge"))
	n := e.streamLen(domain.KeyStream(child))
	for _, limit := range []json.RawMessage{json.RawMessage(`1e400`), json.RawMessage(`10000000000000`)} {
		if code, b := e.call("POST", "/api/v1/keys", boss, map[string]any{"name": "big", "limit": limit}); code != http.StatusBadRequest || !strings.Contains(string(b), "at most") {
			t.Errorf("create with limit %s: %d %s", limit, code, b)
		}
		if code, b := e.call("PATCH", "/api/v1/keys/"+child, boss, map[string]any{"limit": limit}); code != http.StatusBadRequest || !strings.Contains(string(b), "at most") {
			t.Errorf("PATCH limit %s: %d %s", limit, code, b)
		}
	}
	if got := len(e.models.Keys.ByAccount("acct_huge")); got != keys {
		t.Fatalf("%d keys issued with a refused limit", got-keys)
	}
	if got := e.streamLen(domain.KeyStream(child)); got != n {
		t.Fatalf("refused PATCHes wrote %d events", got-n)
	}
	if code, b := e.call("GET", "/api/v1/keys", boss, nil); code != http.StatusOK {
		t.Fatalf("listing after refusals: %d %s", code, b)
	}
}

// The key form's models typed with a Chinese input method come separated
// by a full-width comma (，) or an enumeration comma (、), or by spaces:
// each separates the models as a comma does, rather than making one
// unknown model of the whole list.
func TestKeyFormModelsSeparatedAsTyped(t *testing.T) {
	e := newEnv(t, false)
	_, mgmt, _ := managedAccount(e, "acct_sep")
	ids := e.cat.IDs()
	m0, m1 := ids[0], ids[1]
	b := e.browser()
	csrf := b.signIn(mgmt)
	for i, typed := range []string{m0 + "，" + m1, m0 + "、" + m1, m0 + " " + m1, " " + m0 + " , " + m1 + "，"} {
		name := "sep" + string(rune('a'+i))
		resp, page := b.post("/console/accounts/acct_sep/keys", url.Values{"csrf": {csrf}, "name": {name}, "models": {typed}, "spend_limit": {"10"}, "spend_period": {"monthly"}})
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("models %q: %d %s", typed, resp.StatusCode, visibleText(t, page))
			continue
		}
		e.sync()
		var got []string
		for _, k := range e.models.Keys.ByAccount("acct_sep") {
			if k.Name == name {
				got = k.Models
			}
		}
		if len(got) != 2 || got[0] != m0 || got[1] != m1 {
			t.Errorf("models %q: the key may use %q", typed, got)
		}
	}
}

// TestKeyFormTakesALastDay: the console's key form takes the key's last
// day (a Taipei date); the key works through it, the keys table says
// until when, and from the next day the key is shown expired, found by
// the status filter, and signs in no more.
func TestKeyFormTakesALastDay(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_day", "期限公司", domain.PlanStarter)
	_, boss, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_day", Name: "boss", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	br := e.browser()
	csrf := br.signIn(boss)
	page := "/console/accounts/acct_day"
	if resp, body := br.post(page+"/keys", url.Values{"csrf": {csrf}, "name": {"bad day"}, "expires_on": {"2026/03/20"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a last day not YYYY-MM-DD: %d %.300s", resp.StatusCode, body)
	}
	lastDay := testNow.In(projections.Taipei).AddDate(0, 0, 5).Format(time.DateOnly)
	if resp, body := br.post(page+"/keys", url.Values{"csrf": {csrf}, "name": {"short lived"}, "expires_on": {lastDay}}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("key form with a last day: %d %.300s", resp.StatusCode, body)
	}
	e.sync()
	var k projections.KeyInfo
	for _, x := range e.models.Keys.ByAccount("acct_day") {
		if x.Name == "short lived" {
			k = x
		}
	}
	end, _ := time.ParseInLocation(time.DateOnly, lastDay, projections.Taipei)
	if want := end.AddDate(0, 0, 1); !k.ExpiresAt.Equal(want) {
		t.Fatalf("the key expires at %v, want the end of %s in Taipei (%v)", k.ExpiresAt, lastDay, want)
	}
	if _, body := br.get(page); !strings.Contains(body, `data-expires="`+k.ExpiresAt.UTC().Format(time.RFC3339)+`"`) {
		t.Fatalf("the keys table does not say until when:\n%s", body)
	}
	e.clock.set(k.ExpiresAt)
	_, body := br.get(page + "?keys_status=expired")
	if !strings.Contains(body, "short lived") || strings.Contains(body, ">boss<") {
		t.Fatalf("the expired filter:\n%s", body)
	}
}
