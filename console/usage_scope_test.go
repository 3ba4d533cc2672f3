package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// A management key with limits reads the usage of the keys within them
// only, as it lists only those: its usage report (GET
// /admin/api/accounts/{id}/usage and the console's charts) named the keys
// outside its limits with their cost, and its total, days, models and apps
// counted their requests. Staff, an unlimited management key and an
// inference key still read the whole account. On SQLite and PostgreSQL.
func TestALimitedManagementKeysUsageCoversOnlyKeysWithinItsLimits(t *testing.T) {
	for _, d := range []projections.Dialect{projections.SQLite, projections.Postgres} {
		t.Run(string(d), func(t *testing.T) { testLimitedUsage(t, newEnvOn(t, d)) })
	}
}

func testLimitedUsage(t *testing.T, e *env) {
	e.openAccount("acct_scope", "範圍公司", domain.PlanStarter)
	issue := func(k domain.KeyIssued) (string, string) {
		t.Helper()
		k.AccountID = "acct_scope"
		id, secret, err := e.cmds.IssueKey(e.ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return id, secret
	}
	m1, m2 := e.cat.IDs()[0], e.cat.IDs()[1]
	leadID, lead, withinID, outsideID := limitedLead(func(k domain.KeyIssued) (string, string) {
		if k.Name == "any model" {
			k.Name = "總帳金鑰"
		}
		return issue(k)
	}, m1)
	_, owner := issue(domain.KeyIssued{Name: "owner's", Management: true})
	_, inference := issue(domain.KeyIssued{Name: "app"})
	tw := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, projections.Taipei) }
	e.request("acct_scope", withinID, m1, "團隊工具", tw(13, 9), 100, 50, "1.5")
	e.request("acct_scope", leadID, m1, "團隊工具", tw(14, 23), 10, 5, "0.25")
	e.request("acct_scope", outsideID, m2, "總帳系統", tw(14, 10), 1000, 500, "40")
	e.request("acct_scope", outsideID, m1, "團隊工具", tw(13, 11), 1000, 500, "2")
	e.sync()

	report := func(who string) UsageReport {
		t.Helper()
		code, b := e.call("GET", "/admin/api/accounts/acct_scope/usage?from=2026-03-10&to=2026-03-15", who, nil)
		var r struct{ Data UsageReport }
		if code != http.StatusOK || json.Unmarshal(b, &r) != nil {
			t.Fatalf("usage: %d %s", code, b)
		}
		return r.Data
	}
	// check holds each breakdown of r to its total, and the total to want.
	check := func(who string, r UsageReport, requests, tokens int64, cost string) {
		t.Helper()
		want := decimal.RequireFromString(cost)
		if r.Total.Requests != requests || r.Total.Tokens != tokens || !r.Total.Cost.Equal(want) {
			t.Errorf("%s: total %d requests, %d tokens, NT$%s; want %d, %d, NT$%s", who, r.Total.Requests, r.Total.Tokens, r.Total.Cost, requests, tokens, want)
		}
		type sum struct {
			n, tokens int64
			cost      decimal.Decimal
		}
		sums := map[string]*sum{"daily": {}, "by_model": {}, "by_key": {}, "by_app": {}}
		add := func(name string, n, tokens int64, c decimal.Decimal) {
			s := sums[name]
			s.n, s.tokens, s.cost = s.n+n, s.tokens+tokens, s.cost.Add(c)
		}
		for _, d := range r.Days {
			add("daily", d.Requests, d.Tokens, d.Cost)
		}
		for _, m := range r.Models {
			add("by_model", m.Requests, m.Tokens, m.Cost)
		}
		for _, k := range r.Keys {
			add("by_key", k.Requests, k.Tokens, k.Cost)
		}
		for _, a := range r.Apps {
			add("by_app", a.Requests, a.Tokens, a.Cost)
		}
		for name, s := range sums {
			if s.n != requests || s.tokens != tokens || !s.cost.Equal(want) {
				t.Errorf("%s: %s sums to %d requests, %d tokens, NT$%s; want the total's %d, %d, NT$%s", who, name, s.n, s.tokens, s.cost, requests, tokens, want)
			}
		}
	}

	r := report(lead)
	check("a management key limited to "+m1, r, 2, 165, "1.75")
	for _, k := range r.Keys {
		if k.KeyID != leadID && k.KeyID != withinID {
			t.Errorf("a management key limited to %s reads the usage of key %s (%s): %+v", m1, k.KeyID, k.Name, r.Keys)
		}
	}
	for _, m := range r.Models {
		if m.Model != m1 {
			t.Errorf("a management key limited to %s reads the usage of %s: %+v", m1, m.Model, r.Models)
		}
	}
	for _, a := range r.Apps {
		if a.Name != "團隊工具" {
			t.Errorf("a management key limited to %s reads the usage of app %q: %+v", m1, a.Name, r.Apps)
		}
	}
	for who, secret := range map[string]string{"staff": e.admin, "the owner's key": owner, "an inference key": inference} {
		r := report(secret)
		check(who, r, 4, 3165, "43.75")
		if len(r.Keys) != 3 || len(r.Models) != 2 || len(r.Apps) != 2 {
			t.Errorf("%s: %d keys, %d models, %d apps; want 3, 2 and 2", who, len(r.Keys), len(r.Models), len(r.Apps))
		}
	}

	// The console's usage charts and their tables, signed in with the lead.
	b := e.browser()
	b.signIn(lead)
	resp, page := b.get("/console/accounts/acct_scope?from=2026-03-10&to=2026-03-15")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("account page: %d", resp.StatusCode)
	}
	for _, id := range []string{"chart-daily", "chart-models", "chart-keys", "chart-apps"} {
		sum := decimal.Zero
		for _, bar := range chartBars(t, page, id) {
			sum = sum.Add(decimal.RequireFromString(bar["data-value"]))
			if strings.Contains(bar["data-label"], "總帳") {
				t.Errorf("%s of a management key limited to %s shows %q", id, m1, bar["data-label"])
			}
		}
		if !sum.Equal(decimal.RequireFromString("1.75")) {
			t.Errorf("%s of a management key limited to %s sums to NT$%s, want its keys' NT$1.75", id, m1, sum)
		}
	}
	if !strings.Contains(page, "團隊工具") {
		t.Errorf("the account page of a management key limited to %s does not show its keys' app", m1)
	}
}
