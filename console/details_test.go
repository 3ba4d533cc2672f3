package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// Finance or an admin corrects an account's organisation, 統一編號,
// address and contact through the admin API, with a reason: fields left
// out keep their value, the answer names what changed, refusals say why
// and record nothing, and every page shows the new details.
func TestAPICorrectsAnAccountsDetails(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_d", "範列公司", domain.PlanStarter)
	_, key := e.issueKey("acct_d")
	path := "/admin/api/accounts/acct_d/details"

	code, body := e.call("POST", path, e.auditor, map[string]any{"organisation": "範例股份有限公司", "reason": "typo"})
	wantAPI(t, code, body, http.StatusForbidden, "role")
	code, body = e.call("POST", path, key, map[string]any{"organisation": "範例股份有限公司", "reason": "typo"})
	wantAPI(t, code, body, http.StatusForbidden, "")
	code, body = e.call("POST", path, e.finance, map[string]any{"organisation": "範例股份有限公司"})
	wantAPI(t, code, body, http.StatusBadRequest, "needs a reason")
	code, body = e.call("POST", path, e.finance, map[string]any{"organisation": "𠀋記科技有限公司", "reason": "renamed"})
	wantAPI(t, code, body, http.StatusBadRequest, "which invoices cannot print")
	code, body = e.call("POST", path, e.finance, map[string]any{"tax_id": "12345678", "reason": "B2B"})
	wantAPI(t, code, body, http.StatusBadRequest, "fails its checksum")
	code, body = e.call("POST", "/admin/api/accounts/acct_none/details", e.finance, map[string]any{"contact": "x", "reason": "x"})
	wantAPI(t, code, body, http.StatusNotFound, "not found")
	if a, _ := e.views.Account("acct_d"); a.Organisation != "範列公司" || a.TaxID != "" {
		t.Fatalf("a refused correction changed the account: %+v", a)
	}

	code, body = e.call("POST", path, e.finance, map[string]any{"organisation": "範例股份有限公司", "tax_id": "04595257",
		"reason": "typo in the name; B2B from now on"})
	wantAPI(t, code, body, http.StatusOK, `"changed":["organisation","tax_id"]`)
	if !strings.Contains(string(body), `"organisation":"範例股份有限公司"`) || !strings.Contains(string(body), `"tax_id":"04595257"`) {
		t.Fatalf("the answer does not show the new details: %s", body)
	}
	code, body = e.call("POST", path, e.admin, map[string]any{"address": "臺北市信義區市府路1號", "reason": "moved"})
	wantAPI(t, code, body, http.StatusOK, `"changed":["address"]`)
	code, body = e.call("POST", path, e.admin, map[string]any{"address": "臺北市信義區市府路1號", "reason": "moved"})
	wantAPI(t, code, body, http.StatusOK, `"changed":[]`)

	code, body = e.call("GET", "/admin/api/accounts/acct_d", e.auditor, nil)
	var got struct{ Data AccountJSON }
	if code != http.StatusOK || json.Unmarshal(body, &got) != nil {
		t.Fatalf("GET account: %d %s", code, body)
	}
	if a := got.Data; a.Organisation != "範例股份有限公司" || a.TaxID != "04595257" || a.Address != "臺北市信義區市府路1號" {
		t.Fatalf("the account after the corrections: %+v", a)
	}
	b := e.browser()
	b.signIn(e.auditor)
	for _, page := range []string{"/console/accounts", "/console/accounts/acct_d"} {
		if _, html := b.get(page); !strings.Contains(html, "範例股份有限公司") || strings.Contains(html, "範列公司") {
			t.Errorf("%s does not show the corrected name", page)
		}
	}

	// The audit log names who corrected what, and why.
	var actors []domain.Actor
	for _, ev := range e.auditEvents() {
		if ev.Type == "account.details_changed" {
			actors = append(actors, *ev.Actor)
		}
	}
	if len(actors) != 2 || actors[0].Role != "finance" || actors[1].Role != "admin" {
		t.Fatalf("corrections in the audit log by %+v", actors)
	}
	_, html := b.get("/console/audit?type=account.details_changed")
	if !strings.Contains(html, `&#34;reason&#34;:&#34;moved&#34;`) {
		t.Fatal("the audit page does not show the correction's reason")
	}

	// The 統一編號 the customer sets with their invoice carrier is the
	// account's: pages show it, and a correction that leaves it out keeps it.
	_, owner, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_d", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	code, body = e.call("POST", "/admin/api/accounts/acct_d/invoice-carrier", owner, map[string]any{"tax_id": "22099131"})
	wantAPI(t, code, body, http.StatusOK, "22099131")
	if a, _ := e.views.Account("acct_d"); a.TaxID != "22099131" {
		t.Fatalf("the account's 統一編號 after the customer's: %q", a.TaxID)
	}
	code, body = e.call("POST", path, e.finance, map[string]any{"contact": "陳會計", "reason": "new contact"})
	wantAPI(t, code, body, http.StatusOK, `"changed":["contact"]`)
	if !strings.Contains(string(body), `"tax_id":"22099131"`) {
		t.Fatalf("a correction of the contact put back another 統一編號: %s", body)
	}
}

// The account page's correction form: prefilled with the account's
// details, refused input is refused before the question, the confirmation
// step shows each change, and only then is it recorded.
func TestConsoleDetailsForm(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_f", "範列公司", domain.PlanStarter)
	fin := e.browser()
	csrf := fin.signIn(e.finance)
	_, page := fin.get("/console/accounts/acct_f?lang=en")
	if attrOf(t, page, "input", "id", "details-organisation", "value") != "範列公司" {
		t.Fatal("the details form is not prefilled with the organisation")
	}
	for _, v := range []url.Values{
		{"organisation": {"範例公司"}, "reason": {" "}},
		{"organisation": {"𠀋記科技有限公司"}, "reason": {"renamed"}},
	} {
		v.Set("csrf", csrf)
		resp, page := fin.post("/console/accounts/acct_f/details?lang=en", v)
		if resp.StatusCode != http.StatusBadRequest || len(elementsByID(t, page, "confirm-step")) != 0 {
			t.Fatalf("%v: %d\n%s", v, resp.StatusCode, visibleText(t, page))
		}
		if text := visibleText(t, page); !strings.Contains(text, "needs a reason") && !strings.Contains(text, "invoices cannot print") {
			t.Fatalf("%v: the refusal does not say why:\n%s", v, text)
		}
	}
	correction := func() url.Values {
		return url.Values{"organisation": {"範例股份有限公司"}, "tax_id": {"04595257"}, "address": {""}, "contact": {"陳會計"},
			"reason": {"typo in the name"}}
	}
	ask := correction()
	ask.Set("csrf", csrf)
	_, page = fin.post("/console/accounts/acct_f/details", ask)
	if text := visibleText(t, page); !strings.Contains(text, "範列公司 → 範例股份有限公司") || !strings.Contains(text, "— → 04595257") ||
		!strings.Contains(text, "typo in the name") || strings.Contains(text, "地址") {
		t.Fatalf("the confirmation step does not show the changes alone:\n%s", text)
	}
	unchanged := func() bool { a, _ := e.views.Account("acct_f"); return a.Organisation == "範列公司" }
	if code, _ := askFirst(t, fin, csrf, "/console/accounts/acct_f/details", correction(), unchanged); code != http.StatusSeeOther {
		t.Fatalf("the confirmed correction: %d", code)
	}
	a, _ := e.views.Account("acct_f")
	if a.Organisation != "範例股份有限公司" || a.TaxID != "04595257" || a.Contact != "陳會計" {
		t.Fatalf("after the form: %+v", a)
	}
	for lang, says := range map[string]string{"zh-TW": "帳戶資料已更正", "en": "Account details corrected"} {
		_, page = fin.get("/console/accounts/acct_f?flash=details.saved&lang=" + lang)
		if !strings.Contains(visibleText(t, page), says) {
			t.Fatalf("the account page in %s does not say the details were corrected", lang)
		}
	}
	// Full-width digits from a Chinese input method are the same 統一編號.
	v := url.Values{"csrf": {csrf}, "organisation": {"範例股份有限公司"}, "tax_id": {"２２０９９１３１"}, "contact": {"陳會計"}, "reason": {"other company"}}
	if _, ask := fin.post("/console/accounts/acct_f/details", v); !strings.Contains(visibleText(t, ask), "04595257 → 22099131") {
		t.Fatalf("full-width 統一編號:\n%s", visibleText(t, ask))
	}

	// Auditors and customers see no form; the admin does.
	for who, secret := range map[string]string{"auditor": e.auditor, "admin": e.admin} {
		b := e.browser()
		b.signIn(secret)
		_, page := b.get("/console/accounts/acct_f")
		if has := len(elementsByID(t, page, "details-form")) == 1; has != (who == "admin") {
			t.Errorf("%s sees the details form: %v", who, has)
		}
	}
}
