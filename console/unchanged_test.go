package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// The same prices published twice through the admin API record one list:
// the second answer says nothing changed and names the list in force.
func TestAPIPricesPublishedAgainSayNothingChanged(t *testing.T) {
	e := newEnv(t, false)
	model := e.cat.IDs()[0]
	body := map[string]any{"prices": map[string]any{model: map[string]string{"input": "7", "output": "9"}}}
	code, first := e.call("POST", "/admin/api/prices", e.admin, body)
	if code != http.StatusCreated {
		t.Fatalf("first publication: %d %s", code, first)
	}
	var was struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(first, &was); err != nil {
		t.Fatal(err)
	}
	before := countEvents(e, domain.TypePriceListPublished)
	code, again := e.call("POST", "/admin/api/prices", e.admin, body)
	var out struct {
		Version   int    `json:"version"`
		Unchanged bool   `json:"unchanged"`
		Message   string `json:"message"`
	}
	if err := json.Unmarshal(again, &out); err != nil {
		t.Fatalf("%v: %s", err, again)
	}
	if code != http.StatusOK || !out.Unchanged || out.Version != was.Version || !strings.Contains(out.Message, "nothing changed") {
		t.Fatalf("the same prices again: %d %s; want 200, unchanged, version %d", code, again, was.Version)
	}
	if n := countEvents(e, domain.TypePriceListPublished); n != before {
		t.Fatalf("%d price lists recorded by publishing the same prices again", n-before)
	}
}

// A plan change that changes nothing ({} or the plan the account has) and a
// credit limit set to the one it has record nothing, and are answered
// with the account as it is.
func TestAPIPlanChangeThatChangesNothingRecordsNothing(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_same", "同樣", domain.PlanBusiness)
	if code, body := e.call("POST", "/admin/api/accounts/acct_same/credit-limit", e.finance, map[string]any{"credit_limit": "20000"}); code != 200 {
		t.Fatalf("credit: %d %s", code, body)
	}
	before := countEvents(e, domain.TypePlanChanged)
	for _, c := range []struct {
		who, path string
		body      map[string]any
	}{
		{e.admin, "/admin/api/accounts/acct_same/plan", map[string]any{}},
		{e.admin, "/admin/api/accounts/acct_same/plan", map[string]any{"plan": "business"}},
		{e.finance, "/admin/api/accounts/acct_same/credit-limit", map[string]any{"credit_limit": "20000.00"}},
	} {
		code, body := e.call("POST", c.path, c.who, c.body)
		var out struct {
			Data struct {
				ID   string `json:"account_id"`
				Plan string `json:"plan"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &out); err != nil || code != http.StatusOK || out.Data.ID != "acct_same" || out.Data.Plan != "business" {
			t.Fatalf("%s %v: %d %s; want 200 with the account", c.path, c.body, code, body)
		}
	}
	if n := countEvents(e, domain.TypePlanChanged); n != before {
		t.Fatalf("%d plan changes recorded by changes that change nothing", n-before)
	}
	if code, body := e.call("POST", "/admin/api/accounts/acct_same/plan", e.admin, map[string]any{"plan": "enterprise"}); code != 200 {
		t.Fatalf("a real move: %d %s", code, body)
	}
	if n := countEvents(e, domain.TypePlanChanged); n != before+1 {
		t.Fatalf("%d plan changes recorded by a real move, want 1", n-before)
	}
}

// The rankings form takes "on" or nothing: any other value of listed is a
// form the console did not make, refused on its error page, recording
// nothing, rather than read as an opt-out.
func TestRankingsFormRefusesAnOddListedValue(t *testing.T) {
	e := newEnv(t, false)
	_, owner, _ := managedAccount(e, "acct_rank")
	b := e.browser()
	csrf := b.signIn(owner)
	if resp, _ := b.post("/console/accounts/acct_rank/rankings", url.Values{"csrf": {csrf}, "listed": {"on"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("opt in: %d", resp.StatusCode)
	}
	before := countEvents(e, domain.TypeRankingsListed)
	for _, v := range []string{"maybe", "off", ""} {
		resp, page := b.post("/console/accounts/acct_rank/rankings", url.Values{"csrf": {csrf}, "listed": {v}})
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(page, "listed") {
			t.Fatalf("listed=%q: %d %s, want the console's 400 page", v, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if n := countEvents(e, domain.TypeRankingsListed); n != before {
		t.Fatalf("%d choices recorded by refused forms", n-before)
	}
	ev, ok := e.lastEvent(domain.AccountStream("acct_rank")).(*domain.RankingsListed)
	if !ok || !ev.Listed {
		t.Fatalf("the account's choice is now %#v, want still listed", ev)
	}
}

// The console's plan form sent with the plan and terms the account has
// records nothing and says so, rather than "saved".
func TestPlanFormThatChangesNothingSaysSo(t *testing.T) {
	e := newEnv(t, true)
	e.openAccount("acct_same", "同方案公司", domain.PlanStarter)
	b := e.browser()
	csrf := b.signIn(e.admin)
	flash := func(plan string) string {
		t.Helper()
		resp, _ := b.post("/console/accounts/acct_same/plan", url.Values{"plan": {plan}, "csrf": {csrf}, "once": {randomToken()}})
		loc, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || err != nil {
			t.Fatalf("plan form: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		return loc.Query().Get("flash")
	}
	before := countEvents(e, domain.TypePlanChanged)
	if f := flash("starter"); f != "plan.unchanged" {
		t.Fatalf("the plan form with the account's own plan says %q", f)
	}
	if n := countEvents(e, domain.TypePlanChanged); n != before {
		t.Fatalf("%d plan changes recorded", n-before)
	}
	if f := flash("business"); f != "saved" {
		t.Fatalf("a real change says %q", f)
	}
	_, page := b.get("/console/accounts/acct_same?flash=plan.unchanged")
	if !strings.Contains(page, "Nothing changed") && !strings.Contains(page, "未變更") {
		t.Fatal("the account page does not show the unchanged message")
	}
}
