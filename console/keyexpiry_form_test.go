package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// TestKeyEditFormSetsTheExpiry: the key's edit form shows its last day
// (Taipei) and sets, moves or clears it, as a key.expiry_changed event
// naming the management key; a form that leaves the day as shown leaves
// an expiry set to the second through the API as it is.
func TestKeyEditFormSetsTheExpiry(t *testing.T) {
	e := newEnv(t, false)
	mgmtID, mgmt, child := managedAccount(e, "acct_exp")
	b := e.browser()
	csrf := b.signIn(mgmt)
	page := func() string { _, p := b.get("/console/accounts/acct_exp"); return p }
	edit := func(lastDay, shown string) *http.Response {
		t.Helper()
		resp, _ := b.post("/console/keys/"+child, url.Values{"csrf": {csrf}, "name": {"app"}, "spend_limit": {"50"},
			"spend_period": {"monthly"}, "expires_on": {lastDay}, "expires_on_was": {shown}})
		e.sync()
		return resp
	}
	if v := attrOf(t, page(), "input", "id", "expires-on-"+child, "value"); v != "" {
		t.Fatalf("a key that never expires shows last day %q", v)
	}
	// Set: the key works through 2026-04-30, Taipei.
	if resp := edit("2026-04-30", ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set: %d", resp.StatusCode)
	}
	want := time.Date(2026, 5, 1, 0, 0, 0, 0, projections.Taipei).UTC()
	if k := e.key("acct_exp", child); !k.ExpiresAt.Equal(want) {
		t.Fatalf("expiry after the form: %v, want %v", k.ExpiresAt, want)
	}
	if c, ok := e.lastEvent(domain.KeyStream(child)).(*domain.KeyExpiryChanged); !ok || c.Actor.ID != mgmtID {
		t.Fatalf("the change recorded as %#v", e.lastEvent(domain.KeyStream(child)))
	}
	if v := attrOf(t, page(), "input", "id", "expires-on-"+child, "value"); v != "2026-04-30" {
		t.Fatalf("the form shows last day %q", v)
	}
	// An instant set through the API is kept when the form leaves its day as shown.
	at := time.Date(2026, 4, 20, 15, 30, 0, 0, projections.Taipei).UTC()
	if err := e.cmds.ChangeKeyExpiry(e.ctx, child, &at, nil); err != nil {
		t.Fatal(err)
	}
	e.sync()
	shown := attrOf(t, page(), "input", "id", "expires-on-"+child, "value")
	if shown != "2026-04-20" {
		t.Fatalf("the form shows last day %q for %v", shown, at)
	}
	if resp := edit(shown, shown); resp.StatusCode != http.StatusSeeOther || !e.key("acct_exp", child).ExpiresAt.Equal(at) {
		t.Fatalf("a form that left the day: %d, expiry %v", resp.StatusCode, e.key("acct_exp", child).ExpiresAt)
	}
	// A day already past is refused; an empty day clears the expiry.
	resp, errPage := b.post("/console/keys/"+child, url.Values{"csrf": {csrf}, "name": {"app"}, "spend_limit": {"50"},
		"spend_period": {"monthly"}, "expires_on": {"2026-03-01"}, "expires_on_was": {shown}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(errPage, "金鑰的最後使用日須為今天或之後") {
		t.Fatalf("a past last day: %d %s", resp.StatusCode, errPage)
	}
	if resp := edit("", shown); resp.StatusCode != http.StatusSeeOther || !e.key("acct_exp", child).ExpiresAt.IsZero() {
		t.Fatalf("cleared: %d, expiry %v", resp.StatusCode, e.key("acct_exp", child).ExpiresAt)
	}
}
