package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// TestARefusedKeyChangeChangesNothing: a change that names several things
// (a name or a limit, and an expiry) and is refused for any one of them is
// refused whole. A management key that expires may rename a key it issued,
// but asking in the same change for an expiry past its own is a 403 that
// leaves the name, the limit and the key's stream as they were: through
// PATCH /api/v1/keys/{hash} and the console's key form alike.
func TestARefusedKeyChangeChangesNothing(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_x", "到期公司", domain.PlanStarter)
	ends := testNow.Add(48 * time.Hour).UTC()
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_x", Name: "contractor", Management: true, ExpiresAt: &ends})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	code, b := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "app", "limit": 50,
		"expires_at": ends.Add(-time.Hour).Format(time.RFC3339)})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	var created struct {
		Data struct {
			Hash string `json:"hash"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &created); err != nil {
		t.Fatal(err)
	}
	child := created.Data.Hash
	unchanged := func(how string) {
		t.Helper()
		e.sync()
		k := e.key("acct_x", child)
		if k.Name != "app" || !k.SpendLimit.Equal(decimal.RequireFromString("50")) || !k.ExpiresAt.Equal(ends.Add(-time.Hour)) {
			t.Errorf("%s: the key is now %q, limit %s, expiry %v", how, k.Name, k.SpendLimit, k.ExpiresAt)
		}
		if ev := e.lastEvent(domain.KeyStream(child)); ev.EventType() != domain.TypeKeyIssued {
			t.Errorf("%s: recorded %s", how, ev.EventType())
		}
	}

	later := ends.Add(time.Hour).Format(time.RFC3339)
	for _, body := range []string{
		`{"name":"renamed","expires_at":"` + later + `"}`,
		`{"limit":20,"expires_at":"` + later + `"}`,
		`{"name":"renamed","expires_at":null}`,
	} {
		if code, b := e.call("PATCH", "/api/v1/keys/"+child, mgmt, json.RawMessage(body)); code != http.StatusForbidden {
			t.Errorf("PATCH %s: %d %s, want 403", body, code, b)
		}
		unchanged("PATCH " + body)
	}

	br := e.browser()
	csrf := br.signIn(mgmt)
	shown := ends.Add(-time.Hour).Add(-time.Second).In(projections.Taipei).Format(time.DateOnly)
	lastDay := ends.Add(72 * time.Hour).In(projections.Taipei).Format(time.DateOnly)
	resp, _ := br.post("/console/keys/"+child, url.Values{"csrf": {csrf}, "name": {"renamed"}, "spend_limit": {"20"},
		"spend_period": {"monthly"}, "expires_on": {lastDay}, "expires_on_was": {shown}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("the key form with a last day past the management key's: %d, want 403", resp.StatusCode)
	}
	unchanged("the key form")
}
