package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// TestPatchSetsMovesAndClearsAKeysExpiry: PATCH /api/v1/keys/{hash} takes
// expires_at as POST does (an ISO 8601 UTC instant with seconds, in the
// future; null: never), each change a key.expiry_changed event naming the
// management key that made it, and the key is refused from the new
// instant on, not the old one.
func TestPatchSetsMovesAndClearsAKeysExpiry(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_x", "到期公司", domain.PlanStarter)
	mgmtID, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_x", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	code, b := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "contractor", "management": true})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	var created struct {
		Data struct {
			Hash string `json:"hash"`
		} `json:"data"`
		Key string `json:"key"`
	}
	if err := json.Unmarshal(b, &created); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/keys/" + created.Data.Hash
	patch := func(body string) (int, map[string]any, string) {
		t.Helper()
		code, b := e.call("PATCH", path, mgmt, json.RawMessage(body))
		var out struct {
			Data map[string]any `json:"data"`
		}
		_ = json.Unmarshal(b, &out)
		e.sync()
		return code, out.Data, string(b)
	}
	later := testNow.Add(3 * time.Hour).UTC()
	sooner := testNow.Add(time.Hour).UTC()

	// Set, with fractional seconds as the SDK's Date.toISOString() writes them.
	code, k, body := patch(`{"expires_at":"` + later.Format("2006-01-02T15:04:05") + `.000Z"}`)
	if code != http.StatusOK || k["expires_at"] != later.Format(time.RFC3339) {
		t.Fatalf("set: %d %s", code, body)
	}
	// Refused, changing nothing: past, minute precision, another zone, not a string.
	for _, bad := range []struct{ body, want string }{
		{`{"expires_at":"` + testNow.Add(-time.Second).UTC().Format(time.RFC3339) + `"}`, "must be in the future"},
		{`{"expires_at":"2030-01-01T00:00Z"}`, "not an ISO 8601 timestamp"},
		{`{"expires_at":"` + sooner.In(projections.Taipei).Format(time.RFC3339) + `"}`, "not in UTC"},
		{`{"expires_at":1893456000}`, "expires_at: must be"},
		{`{"expires_at":"` + sooner.Format(time.RFC3339) + `","limit":"5"}`, "limit"},
	} {
		if code, _, body := patch(bad.body); code != http.StatusBadRequest || !strings.Contains(body, bad.want) {
			t.Errorf("PATCH %s: %d %s", bad.body, code, body)
		}
	}
	if _, k, _ := patch(`{}`); k["expires_at"] != later.Format(time.RFC3339) {
		t.Fatalf("a refused expiry changed the key: %v", k["expires_at"])
	}
	// Cleared, then set again and moved sooner.
	if code, k, body := patch(`{"expires_at":null}`); code != http.StatusOK || k["expires_at"] != nil {
		t.Fatalf("clear: %d %s", code, body)
	}
	if code, k, body := patch(`{"expires_at":"` + later.Format(time.RFC3339) + `","name":"contractor (short)"}`); code != http.StatusOK || k["expires_at"] != later.Format(time.RFC3339) || k["name"] != "contractor (short)" {
		t.Fatalf("set again with a name: %d %s", code, body)
	}
	if code, k, body := patch(`{"expires_at":"` + sooner.Format(time.RFC3339) + `"}`); code != http.StatusOK || k["expires_at"] != sooner.Format(time.RFC3339) {
		t.Fatalf("move: %d %s", code, body)
	}

	// Each change is an event naming the management key.
	evs, err := e.store.ReadStream(e.ctx, domain.KeyStream(created.Data.Hash), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var changes []domain.KeyExpiryChanged
	for _, ev := range evs {
		if ev.Type != domain.TypeKeyExpiryChanged {
			continue
		}
		var c domain.KeyExpiryChanged
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			t.Fatal(err)
		}
		changes = append(changes, c)
	}
	if len(changes) != 4 || changes[1].ExpiresAt != nil || !changes[3].ExpiresAt.Equal(sooner) ||
		changes[3].Actor.Kind != "key" || changes[3].Actor.ID != mgmtID || changes[3].AccountID != "acct_x" {
		t.Fatalf("expiry events: %+v", changes)
	}

	// The key works until the new instant, and is refused from it on.
	e.clock.set(sooner.Add(-time.Second))
	if code, b := e.call("GET", "/api/v1/keys", created.Key, nil); code != http.StatusOK {
		t.Fatalf("before the moved expiry: %d %s", code, b)
	}
	e.clock.set(sooner)
	if code, b := e.call("GET", "/api/v1/keys", created.Key, nil); code != http.StatusUnauthorized || !strings.Contains(string(b), sooner.Format(time.RFC3339)) {
		t.Fatalf("at the moved expiry: %d %s", code, b)
	}
	// An expired key's expiry can still be moved by its manager, and it works again.
	if code, _, body := patch(`{"expires_at":null}`); code != http.StatusOK {
		t.Fatalf("clear after expiry: %d %s", code, body)
	}
	if code, b := e.call("GET", "/api/v1/keys", created.Key, nil); code != http.StatusOK {
		t.Fatalf("after its expiry was cleared: %d %s", code, b)
	}
	// A deleted key's expiry is not changed.
	if code, b := e.call("DELETE", path, mgmt, nil); code != http.StatusOK {
		t.Fatalf("delete: %d %s", code, b)
	}
	if code, _, body := patch(`{"expires_at":"` + later.Format(time.RFC3339) + `"}`); code != http.StatusBadRequest {
		t.Fatalf("a deleted key's expiry: %d %s", code, body)
	}
}

// TestAnExpiringManagementKeyCannotOutliveItself: a management key that
// expires cannot move its own expiry later or clear it, nor issue or change
// a key to outlive it (as it cannot give a key more than its own spending
// limit); it may bring an expiry sooner. Staff may do either.
func TestAnExpiringManagementKeyCannotOutliveItself(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_x", "到期公司", domain.PlanStarter)
	ends := testNow.Add(24 * time.Hour).UTC()
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_x", Name: "contractor", Management: true, ExpiresAt: &ends})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	var list struct {
		Data []struct {
			Hash string `json:"hash"`
			Name string `json:"name"`
		} `json:"data"`
	}
	code, b := e.call("GET", "/api/v1/keys", mgmt, nil)
	if err := json.Unmarshal(b, &list); code != http.StatusOK || err != nil || len(list.Data) != 1 || list.Data[0].Name != "contractor" {
		t.Fatalf("GET /keys: %d %s (%v)", code, b, err)
	}
	self := list.Data[0]
	later := ends.Add(time.Hour).Format(time.RFC3339)
	for _, body := range []string{`{"expires_at":null}`, `{"expires_at":"` + later + `"}`} {
		code, b := e.call("PATCH", "/api/v1/keys/"+self.Hash, mgmt, json.RawMessage(body))
		if code != http.StatusForbidden || !strings.Contains(string(b), ends.Format(time.RFC3339)) {
			t.Errorf("own key PATCH %s: %d %s, want 403 naming its expiry", body, code, b)
		}
	}
	for _, body := range []map[string]any{{"name": "forever"}, {"name": "later", "expires_at": later}} {
		code, b := e.call("POST", "/api/v1/keys", mgmt, body)
		if code != http.StatusForbidden || !strings.Contains(string(b), ends.Format(time.RFC3339)) {
			t.Errorf("create %v: %d %s, want 403 naming the issuing key's expiry", body, code, b)
		}
	}
	// The console's pages say it in their language (the domain's own words).
	parent := domain.KeyIssued{Management: true, ExpiresAt: &ends}
	late := ends.Add(time.Hour)
	for _, c := range []struct {
		child  domain.KeyIssued
		zh, en string
	}{
		{domain.KeyIssued{}, "此金鑰於 " + ends.Format(time.RFC3339) + " 到期", "must expire by then too"},
		{domain.KeyIssued{ExpiresAt: &late}, "晚於此金鑰本身的 " + ends.Format(time.RFC3339), "is after this key's own"},
	} {
		err := domain.KeyWithin(parent, c.child)
		if err == nil {
			t.Fatalf("%+v: not refused", c.child)
		}
		if text, _ := errorText(langZH, 403, err.Error()); !strings.Contains(messageText(t, text), c.zh) {
			t.Errorf("zh %q, want %q", text, c.zh)
		}
		if text, _ := errorText(langEN, 403, err.Error()); !strings.Contains(messageText(t, text), c.en) {
			t.Errorf("en %q, want %q", text, c.en)
		}
	}
	sooner := ends.Add(-time.Hour).Format(time.RFC3339)
	if code, b := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "shorter", "expires_at": sooner}); code != http.StatusCreated {
		t.Errorf("create expiring sooner: %d %s", code, b)
	}
	if code, b := e.call("PATCH", "/api/v1/keys/"+self.Hash, mgmt, json.RawMessage(`{"expires_at":"`+sooner+`"}`)); code != http.StatusOK {
		t.Errorf("own expiry sooner: %d %s", code, b)
	}
	e.sync()
	if k := e.deps.Models.Keys.ByAccount("acct_x"); len(k) != 2 {
		t.Fatalf("%d keys after the refusals, want the contractor's and the shorter one", len(k))
	}
}
