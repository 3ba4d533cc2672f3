package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/domain"
)

// postSecretFormTwice posts the page's form to action with its hidden
// fields and extra, twice (a double click, or the back button and a
// resend), and returns the first answer's page and the second answer.
func postSecretFormTwice(t *testing.T, b *browser, page, action string, extra url.Values) (string, *http.Response) {
	t.Helper()
	v := formFields(t, page, action)
	if v.Get("once") == "" {
		t.Fatalf("the form to %s carries no one-time token", action)
	}
	for k, vs := range extra {
		v[k] = vs
	}
	resp, first := b.post(action, v)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%s: %d, want 201", action, resp.StatusCode)
	}
	again, _ := b.post(action, v)
	return first, again
}

// A key or staff token is shown once, on the answer to its form. The same
// form sent again issues nothing more: it leads back to the list, saying
// the secret was already issued and shown.
func TestSecretFormsSentTwiceIssueOnce(t *testing.T) {
	e := newEnv(t, false)
	_, mgmt, _ := managedAccount(e, "acct_twice")
	b := e.browser()
	b.signIn(mgmt)
	acctPage := "/console/accounts/acct_twice"
	_, page := b.get(acctPage)
	keysBefore := countEvents(e, domain.TypeKeyIssued)
	first, again := postSecretFormTwice(t, b, page, acctPage+"/keys", url.Values{"name": {"批次工作"}, "spend_limit": {"40"}, "spend_period": {"monthly"}})
	if !strings.Contains(first, `id="new-key"`) {
		t.Fatal("the first answer shows no new key")
	}
	if n := countEvents(e, domain.TypeKeyIssued) - keysBefore; n != 1 {
		t.Fatalf("the key form sent twice issued %d keys", n)
	}
	if again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != acctPage+"?flash=key.repeated" {
		t.Fatalf("the key form sent again: %d %s", again.StatusCode, again.Header.Get("Location"))
	}

	admin := e.browser()
	admin.signIn(e.staffToken(string(auth.Admin)))
	_, page = admin.get("/console/staff")
	tokensBefore := countEvents(e, domain.TypeStaffTokenIssued)
	first, again = postSecretFormTwice(t, admin, page, "/console/staff", url.Values{"name": {"審計員"}, "role": {string(auth.Auditor)}})
	if !strings.Contains(first, `id="new-staff-token"`) {
		t.Fatal("the first answer shows no new staff token")
	}
	if n := countEvents(e, domain.TypeStaffTokenIssued) - tokensBefore; n != 1 {
		t.Fatalf("the staff token form sent twice issued %d tokens", n)
	}
	if again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != "/console/staff?flash=staff.repeated" {
		t.Fatalf("the staff token form sent again: %d %s", again.StatusCode, again.Header.Get("Location"))
	}

	// The flash reads in both languages.
	_, page = b.get(acctPage + "?flash=key.repeated")
	if !strings.Contains(page, tr(langZH, "key.repeated")) || tr(langEN, "key.repeated") == "key.repeated" {
		t.Fatal("the account page does not say the key was already issued")
	}
}

// The open-account form sent twice (a double click) opens one account; the
// second copy leads to it, saying the form was already sent.
func TestOpenAccountFormSentTwiceOpensOne(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.signIn(e.staffToken(string(auth.Admin)))
	_, page := b.get("/console/accounts")
	v := formFields(t, page, "/console/accounts")
	if v.Get("once") == "" {
		t.Fatal("the open-account form carries no one-time token")
	}
	v.Set("organisation", "雙擊股份有限公司")
	v.Set("plan", string(domain.PlanStarter))
	before := countEvents(e, domain.TypeAccountOpened)
	first, _ := b.post("/console/accounts", v)
	again, _ := b.post("/console/accounts", v)
	if n := countEvents(e, domain.TypeAccountOpened) - before; n != 1 {
		t.Fatalf("the form sent twice opened %d accounts", n)
	}
	to := strings.TrimSuffix(first.Header.Get("Location"), "?flash=account.opened")
	if first.StatusCode != http.StatusSeeOther || !strings.HasPrefix(to, "/console/accounts/acct_") ||
		again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != to+"?flash=form.repeated" {
		t.Fatalf("first %d %s, again %d %s", first.StatusCode, first.Header.Get("Location"), again.StatusCode, again.Header.Get("Location"))
	}
}
