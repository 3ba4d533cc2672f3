package console

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// A management key that expires during a day shows that day as its last
// one, and its key forms take days. Given its own last day for a key it
// makes or edits, the form answered 400: that day ends at midnight, after
// the management key's expiry. The key now expires with the management
// key, and a later day is still refused.
func TestAKeyGivenItsManagersLastDayExpiresWithIt(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_day", "到期日股份有限公司", domain.PlanStarter)
	ends := time.Date(2026, 4, 20, 18, 0, 0, 0, projections.Taipei).UTC() // works through April 20, Taipei
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_day", Name: "owner", Management: true,
		SpendLimit: decimal.NewFromInt(100), SpendPeriod: "monthly", ExpiresAt: &ends})
	if err != nil {
		t.Fatal(err)
	}
	childID, _, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_day", Name: "app",
		SpendLimit: decimal.NewFromInt(50), SpendPeriod: "monthly", ExpiresAt: &ends})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	if got := lastDay(&ends); got != "2026-04-20" {
		t.Fatalf("the management key's last day shows as %s", got)
	}
	b := e.browser()
	csrf := b.signIn(mgmt)

	resp, _ := b.post("/console/accounts/acct_day/keys", url.Values{"csrf": {csrf}, "name": {"nightly"},
		"spend_limit": {"10"}, "spend_period": {"monthly"}, "expires_on": {"2026-04-20"}})
	e.sync()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("a new key given the management key's last day: %d", resp.StatusCode)
	}
	var made *projections.KeyInfo
	for _, k := range e.models.Keys.ByAccount("acct_day") {
		if k.Name == "nightly" {
			made = &k
		}
	}
	if made == nil || !made.ExpiresAt.Equal(ends) {
		t.Fatalf("the new key: %+v, want it to expire at %v", made, ends)
	}

	// The edit form: the key expires a day sooner, then is given the
	// management key's last day again.
	sooner := ends.Add(-24 * time.Hour)
	if err := e.cmds.ChangeKeyExpiry(e.ctx, childID, &sooner, nil); err != nil {
		t.Fatal(err)
	}
	e.sync()
	edit := func(day string) int {
		resp, _ := b.post("/console/keys/"+childID, url.Values{"csrf": {csrf}, "name": {"app"}, "spend_limit": {"50"},
			"spend_period": {"monthly"}, "expires_on": {day}, "expires_on_was": {"2026-04-19"}})
		e.sync()
		return resp.StatusCode
	}
	if code := edit("2026-04-20"); code != http.StatusSeeOther || !e.key("acct_day", childID).ExpiresAt.Equal(ends) {
		t.Fatalf("an edit to the management key's last day: %d, expiry %v, want %v", code, e.key("acct_day", childID).ExpiresAt, ends)
	}
	if code := edit("2026-04-21"); code != http.StatusForbidden && code != http.StatusBadRequest {
		t.Fatalf("an edit past the management key's last day: %d, want a refusal", code)
	}
	if !e.key("acct_day", childID).ExpiresAt.Equal(ends) {
		t.Fatalf("a refused edit moved the expiry to %v", e.key("acct_day", childID).ExpiresAt)
	}
}
