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

// OpenRouter's key management API with a management key: list, create,
// get, disable, delete, in OpenRouter's shape; an inference key gets 403.
func TestOpenRouterKeysAPI(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_k", "金鑰公司", domain.PlanStarter)
	e.openAccount("acct_other", "別家公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_k", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	plainID, plain := e.issueKey("acct_k")
	otherID, _ := e.issueKey("acct_other")
	e.request("acct_k", plainID, e.cat.IDs()[0], "", testNow.Add(-time.Hour), 100, 100, "1.25")
	e.sync()

	// An inference key may not manage keys, and no key gets in without one.
	for _, c := range []struct{ method, path string }{{"GET", "/api/v1/keys"}, {"POST", "/api/v1/keys"}, {"DELETE", "/api/v1/keys/" + plainID}} {
		if code, b := e.call(c.method, c.path, plain, map[string]any{"name": "x"}); code != http.StatusForbidden {
			t.Errorf("%s %s with an inference key: %d %s", c.method, c.path, code, b)
		}
	}
	if code, _ := e.call("GET", "/api/v1/keys", "", nil); code != http.StatusUnauthorized {
		t.Errorf("no key: %d", code)
	}

	// List: every field of OpenRouter's shape, with its JSON type.
	code, b := e.call("GET", "/api/v1/keys", mgmt, nil)
	if code != http.StatusOK {
		t.Fatalf("list: %d %s", code, b)
	}
	var list struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &list); err != nil || len(list.Data) != 2 {
		t.Fatalf("list: %s", b)
	}
	var row map[string]any
	for _, k := range list.Data {
		if k["hash"] == plainID {
			row = k
		}
		if k["hash"] == otherID {
			t.Fatal("another account's key is listed")
		}
	}
	if row == nil {
		t.Fatalf("the inference key is not listed: %s", b)
	}
	for field, kind := range map[string]string{"hash": "string", "name": "string", "label": "string", "disabled": "bool",
		"usage": "number", "usage_daily": "number", "usage_weekly": "number", "usage_monthly": "number",
		"byok_usage": "number", "byok_usage_daily": "number", "byok_usage_weekly": "number", "byok_usage_monthly": "number",
		"include_byok_in_limit": "bool", "created_at": "string", "workspace_id": "string",
		"limit": "null", "limit_remaining": "null", "limit_reset": "null", "creator_user_id": "null", "external_user": "null"} {
		if _, present := row[field]; !present {
			t.Errorf("%s missing", field)
		}
		if got := jsonKind(row[field]); got != kind {
			t.Errorf("%s is %s, want %s", field, got, kind)
		}
	}
	if _, ok := row["updated_at"]; !ok {
		t.Error("updated_at missing")
	}
	if row["usage"].(float64) != 1.25 || row["disabled"] != false || !strings.HasPrefix(row["label"].(string), "sk-rf-") {
		t.Errorf("row: %v", row)
	}
	if _, err := time.Parse(time.RFC3339, row["created_at"].(string)); err != nil {
		t.Errorf("created_at: %v", err)
	}

	// Create: the secret once, beside the key's data.
	code, b = e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "ci", "limit": 50, "limit_reset": "daily"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	var created struct {
		Data map[string]any `json:"data"`
		Key  string         `json:"key"`
	}
	if err := json.Unmarshal(b, &created); err != nil || !strings.HasPrefix(created.Key, "sk-rf-") ||
		created.Data["name"] != "ci" || created.Data["limit"] != 50.0 || created.Data["limit_period"] != "daily" ||
		created.Data["limit_remaining"] != 50.0 || created.Data["limit_reset"] != "daily" {
		t.Fatalf("create: %s", b)
	}
	newID := created.Data["hash"].(string)
	if code, b := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"limit": 5}); code != http.StatusBadRequest {
		t.Errorf("create without a name: %d %s", code, b)
	}

	// Get, and another account's key is unknown.
	if code, b := e.call("GET", "/api/v1/keys/"+newID, mgmt, nil); code != http.StatusOK || !strings.Contains(string(b), `"name":"ci"`) {
		t.Errorf("get: %d %s", code, b)
	}
	if code, _ := e.call("GET", "/api/v1/keys/"+otherID, mgmt, nil); code != http.StatusNotFound {
		t.Errorf("another account's key: %d", code)
	}
	if code, _ := e.call("DELETE", "/api/v1/keys/"+otherID, mgmt, nil); code != http.StatusNotFound {
		t.Errorf("delete another account's key: %d", code)
	}

	// PATCH renames (TestOpenRouterPatchKey covers limits); disabled stops
	// the key until it is enabled again, and a disabled key can be changed.
	if code, b := e.call("PATCH", "/api/v1/keys/"+newID, mgmt, map[string]any{"name": "renamed"}); code != http.StatusOK || !strings.Contains(string(b), `"name":"renamed"`) {
		t.Errorf("rename: %d %s", code, b)
	}
	state := func() projections.KeyInfo {
		for _, k := range e.models.Keys.ByAccount("acct_k") {
			if k.KeyID == newID {
				return k
			}
		}
		t.Fatalf("key %s not found", newID)
		return projections.KeyInfo{}
	}
	code, b = e.call("PATCH", "/api/v1/keys/"+newID, mgmt, map[string]any{"disabled": true})
	if code != http.StatusOK || !strings.Contains(string(b), `"disabled":true`) || !state().Disabled || state().Revoked {
		t.Fatalf("disable: %d %s %+v", code, b, state())
	}
	if code, b := e.call("PATCH", "/api/v1/keys/"+newID, mgmt, map[string]any{"disabled": false, "name": "back"}); code != http.StatusOK ||
		!strings.Contains(string(b), `"disabled":false`) || !strings.Contains(string(b), `"name":"back"`) || state().Disabled {
		t.Errorf("enable again: %d %s", code, b)
	}
	if code, b := e.call("PATCH", "/api/v1/keys/"+newID, mgmt, map[string]any{"disabled": true}); code != http.StatusOK {
		t.Fatalf("disable again: %d %s", code, b)
	}

	// DELETE revokes; the list leaves disabled keys out unless asked.
	if code, b := e.call("DELETE", "/api/v1/keys/"+plainID, mgmt, nil); code != http.StatusOK || !strings.Contains(string(b), `"deleted":true`) {
		t.Fatalf("delete: %d %s", code, b)
	}
	revoked := 0
	for _, k := range e.models.Keys.ByAccount("acct_k") {
		if k.Revoked {
			revoked++
		}
	}
	if revoked != 1 {
		t.Fatalf("%d keys revoked, want 1 (the deleted one)", revoked)
	}
	if code, b := e.call("PATCH", "/api/v1/keys/"+plainID, mgmt, map[string]any{"disabled": false}); code != http.StatusBadRequest {
		t.Errorf("enable a deleted key: %d %s", code, b)
	}
	_, b = e.call("GET", "/api/v1/keys", mgmt, nil)
	if err := json.Unmarshal(b, &list); err != nil || len(list.Data) != 1 {
		t.Fatalf("list after delete: %s", b)
	}
	_, b = e.call("GET", "/api/v1/keys?include_disabled=true", mgmt, nil)
	if err := json.Unmarshal(b, &list); err != nil || len(list.Data) != 3 {
		t.Fatalf("list with disabled: %s", b)
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	case float64:
		return "number"
	case nil:
		return "null"
	}
	return "other"
}

// The account's data requirement is an admin's to set; the read model
// shows it at once, and a bad residency changes nothing.
func TestAdminSetsDataRequirement(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_gov", "某市政府", domain.PlanStarter)
	_, key := e.issueKey("acct_gov")
	if code, _ := e.call("POST", "/admin/api/accounts/acct_gov/data-requirement", key, map[string]any{"residency": "tw"}); code != http.StatusForbidden {
		t.Errorf("a customer's key sets it: %d", code)
	}
	if code, b := e.call("POST", "/admin/api/accounts/acct_gov/data-requirement", e.admin, map[string]any{"residency": "jp"}); code != http.StatusBadRequest {
		t.Errorf("residency jp: %d %s", code, b)
	}
	code, b := e.call("POST", "/admin/api/accounts/acct_gov/data-requirement", e.admin, map[string]any{"residency": "TW", "no_retention": true})
	if code != http.StatusOK || !strings.Contains(string(b), `"residency":"tw"`) || !strings.Contains(string(b), `"no_retention":true`) {
		t.Fatalf("set: %d %s", code, b)
	}
	if v, _ := e.models.Balances.View("acct_gov", "", testNow); v.Residency != "tw" || !v.NoRetention {
		t.Fatalf("view: %+v", v)
	}
	if code, _ := e.call("POST", "/admin/api/accounts/acct_gov/data-requirement", e.admin, map[string]any{}); code != http.StatusOK {
		t.Fatal("lift")
	}
	if v, _ := e.models.Balances.View("acct_gov", "", testNow); v.Residency != "" || v.NoRetention {
		t.Fatalf("lifted view: %+v", v)
	}
}

// GET /api/v1/keys pages by OpenRouter's offset, a hundred keys a page;
// revoked keys are counted only when included.
func TestOpenRouterKeysOffset(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_pg", "分頁公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_pg", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 104; i++ { // with the management key: 105
		if _, _, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_pg", Name: "k"}); err != nil {
			t.Fatal(err)
		}
	}
	revoked, _ := e.issueKey("acct_pg")
	if err := e.cmds.RevokeKey(e.ctx, revoked); err != nil {
		t.Fatal(err)
	}
	e.sync()
	page := func(query string) []string {
		t.Helper()
		code, b := e.call("GET", "/api/v1/keys"+query, mgmt, nil)
		if code != http.StatusOK {
			t.Fatalf("keys%s: %d %s", query, code, b)
		}
		var r struct {
			Data []struct {
				Hash string `json:"hash"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(r.Data))
		for i, k := range r.Data {
			out[i] = k.Hash
		}
		return out
	}
	first, second := page(""), page("?offset=100")
	if len(first) != 100 || len(second) != 5 {
		t.Fatalf("pages of %d and %d keys, want 100 and 5", len(first), len(second))
	}
	seen := map[string]bool{}
	for _, h := range append(first, second...) {
		if seen[h] || h == revoked {
			t.Fatalf("key %s listed twice, or revoked and listed", h)
		}
		seen[h] = true
	}
	if got := page("?offset=100&include_disabled=true"); len(got) != 6 {
		t.Fatalf("second page with the revoked key: %d keys, want 6", len(got))
	}
	if got := page("?offset=500"); len(got) != 0 {
		t.Fatalf("past the end: %v", got)
	}
	for _, bad := range []string{"-1", "x", "1.5"} {
		if code, b := e.call("GET", "/api/v1/keys?offset="+bad, mgmt, nil); code != http.StatusBadRequest {
			t.Errorf("offset=%s: %d %s, want 400", bad, code, b)
		}
	}
	// include_disabled as clients write a boolean: Python's requests sends
	// True as "True". A word that is no boolean is refused, not read as
	// false, which would leave the revoked key out without a word.
	for _, yes := range []string{"True", "TRUE", "1"} {
		if got := page("?offset=100&include_disabled=" + yes); len(got) != 6 {
			t.Errorf("include_disabled=%s: %d keys, want 6", yes, len(got))
		}
	}
	if got := page("?offset=100&include_disabled=False"); len(got) != 5 {
		t.Errorf("include_disabled=False: %d keys, want 5", len(got))
	}
	if code, b := e.call("GET", "/api/v1/keys?include_disabled=yes", mgmt, nil); code != http.StatusBadRequest || !strings.Contains(string(b), "include_disabled") {
		t.Errorf("include_disabled=yes: %d, want 400 naming it", code)
	}
}

// Keys list in the order they were issued, so that a page read with
// ?offset= while keys are being created stays where it was: new keys come
// after it.
func TestKeysListInIssueOrder(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_order", "順序公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_order", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	listed := func(offset string) []string {
		t.Helper()
		code, b := e.call("GET", "/api/v1/keys?offset="+offset, mgmt, nil)
		var list struct {
			Data []struct {
				Name string `json:"name"`
			} `json:"data"`
		}
		if code != http.StatusOK || json.Unmarshal(b, &list) != nil {
			t.Fatalf("list: %d %s", code, b)
		}
		var names []string
		for _, k := range list.Data {
			names = append(names, k.Name)
		}
		return names
	}
	create := func(name string) {
		t.Helper()
		if code, b := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": name}); code != http.StatusCreated {
			t.Fatalf("create %s: %d %s", name, code, b)
		}
		e.sync()
	}
	want := []string{"provisioning"}
	for _, n := range []string{"k1", "k2", "k3", "k4", "k5", "k6"} {
		create(n)
		want = append(want, n)
	}
	if got := listed("0"); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("keys listed %v, want the order of issue %v", got, want)
	}
	before := listed("3")
	create("k7")
	if got := listed("3"); strings.Join(got[:len(before)], ",") != strings.Join(before, ",") || got[len(got)-1] != "k7" {
		t.Fatalf("the page at offset 3 moved from %v to %v as a key was created", before, got)
	}
}

// A key management body over the megabyte is 413, as the gateway answers
// an oversized body, and one whose text is not valid UTF-8 (a raw invalid
// byte, or a \u escape of half a surrogate pair) is refused rather than
// stored with U+FFFD in place of what was sent. Nothing is written.
func TestKeysAPIRefusesHostileBodies(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_h", "敵意公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_h", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := e.issueKey("acct_h")
	send := func(method, path, body string) (int, string) {
		t.Helper()
		code, b := e.send(method, path, mgmt, strings.NewReader(body))
		return code, string(b)
	}
	huge := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
	for _, c := range []struct{ method, path string }{{"POST", "/api/v1/keys"}, {"PATCH", "/api/v1/keys/" + id}} {
		if code, b := send(c.method, c.path, huge); code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s %s with 2 MB: %d %.200s, want 413", c.method, c.path, code, b)
		}
		for name, body := range map[string]string{
			"raw invalid byte":    "{\"name\":\"caf\xe9\"}",
			"lone high surrogate": `{"name":"a\ud800b"}`,
			"lone low surrogate":  `{"name":"\udc00"}`,
			"reversed pair":       `{"name":"\udc00\ud800"}`,
		} {
			code, b := send(c.method, c.path, body)
			if code != http.StatusBadRequest || !strings.Contains(b, "UTF-8") {
				t.Errorf("%s %s, %s: %d %s, want 400 naming UTF-8", c.method, c.path, name, code, b)
			}
		}
	}
	// A valid pair and multi-byte text pass.
	if code, b := send("PATCH", "/api/v1/keys/"+id, `{"name":"\ud83d\ude00 臺灣 café"}`); code != http.StatusOK || !strings.Contains(b, `"name":"😀 臺灣 café"`) {
		t.Fatalf("valid text: %d %s", code, b)
	}
	e.sync()
	keys := e.models.Keys.ByAccount("acct_h")
	if len(keys) != 2 {
		t.Fatalf("%d keys, want the two issued", len(keys))
	}
	for _, k := range keys {
		if strings.ContainsRune(k.Name, '\uFFFD') {
			t.Fatalf("key name stored as %q", k.Name)
		}
	}
}

// A key management body with a field of the wrong JSON type is refused in
// JSON's terms, naming the field as the client sent it, never in Go's
// (type names, struct fields). Every field of the create and the update
// bodies is covered, and nothing is written.
func TestKeysAPITypeErrorsInJSONTerms(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_t", "型別公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_t", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := e.issueKey("acct_t")
	e.sync()
	key := func() projections.KeyInfo {
		for _, k := range e.models.Keys.ByAccount("acct_t") {
			if k.KeyID == id {
				return k
			}
		}
		t.Fatal("key not found")
		return projections.KeyInfo{}
	}
	before := key()
	goWords := []string{"Go ", "json:", "orKeyInput", "RawMessage", "float64", "[]string", "of type", "decimal", "can't convert"}
	for _, c := range []struct {
		method, body string
		field, want  string // the field as sent, and what the message says it must be
	}{
		{"POST", `{"name":5}`, "name", "must be a string"},
		{"POST", `{"name":"x","limit":"abc"}`, "limit", "must be a number"},
		{"POST", `{"name":"x","limit":"5"}`, "limit", "must be a number of NTD or null, got string"}, // a number's text is still a string
		{"POST", `{"name":"x","limit":true}`, "limit", "must be a number"},
		{"POST", `{"name":"x","limit":[1]}`, "limit", "must be a number"},
		{"POST", `{"name":"x","Limit":{}}`, "Limit", "must be a number"},
		{"POST", `{"name":"x","limit":5,"limit_reset":1}`, "limit_reset", "must be daily, weekly, monthly or null"},
		{"POST", `{"name":"x","limit":5,"limit_period":[]}`, "limit_period", "must be daily, weekly, monthly or null"},
		{"POST", `{"name":"x","models":"openai/gpt-4.1"}`, "models", "must be an array"},
		{"POST", `{"name":"x","models":[1]}`, "models[0]", "must be a string"},
		{"POST", `{"name":"x","management":"yes"}`, "management", "must be true or false"},
		{"POST", `{"name":"x","include_byok_in_limit":1}`, "include_byok_in_limit", "must be true or false"},
		{"POST", `{"name":"x","expires_at":1}`, "expires_at", "must be an ISO 8601 UTC timestamp"},
		{"POST", `{"name":"x","workspace_id":1}`, "workspace_id", "must be a string"},
		{"POST", `{"name":"x","creator_user_id":false}`, "creator_user_id", "must be a string"},
		{"POST", `[{"name":"x"}]`, "request body", "must be a JSON object"},
		{"PATCH", `{"name":5}`, "name", "must be a non-empty string"},
		{"PATCH", `{"limit":"abc"}`, "limit", "must be a number"},
		{"PATCH", `{"limit":"5"}`, "limit", "must be a number of NTD or null, got string"},
		{"PATCH", `{"limit":true}`, "limit", "must be a number"},
		{"PATCH", `{"limit_reset":1}`, "limit_reset", "must be daily, weekly, monthly or null"},
		{"PATCH", `{"limit_period":{}}`, "limit_period", "must be daily, weekly, monthly or null"},
		{"PATCH", `{"disabled":"no"}`, "disabled", "must be true or false"},
		{"PATCH", `{"include_byok_in_limit":1}`, "include_byok_in_limit", "must be true or false"},
		{"PATCH", `"x"`, "request body", "must be a JSON object"},
	} {
		path := "/api/v1/keys"
		if c.method == "PATCH" {
			path += "/" + id
		}
		code, b := e.send(c.method, path, mgmt, strings.NewReader(c.body))
		msg := string(b)
		if code != http.StatusBadRequest || !strings.Contains(msg, c.field) || !strings.Contains(msg, c.want) {
			t.Errorf("%s %s: %d %s, want 400 saying %s %s", c.method, c.body, code, msg, c.field, c.want)
		}
		for _, w := range goWords {
			if strings.Contains(msg, w) {
				t.Errorf("%s %s: %s names Go's %q", c.method, c.body, msg, w)
			}
		}
	}
	e.sync()
	keys := e.models.Keys.ByAccount("acct_t")
	if len(keys) != 2 {
		t.Fatalf("%d keys, want the two issued", len(keys))
	}
	if after := key(); after.Name != before.Name || !after.SpendLimit.Equal(before.SpendLimit) ||
		after.SpendPeriod != before.SpendPeriod || after.Disabled != before.Disabled {
		t.Fatalf("a refused update changed the key: %+v, was %+v", after, before)
	}
}

// A request without a key is told what /api/v1/keys accepts, a management
// key, and nothing of staff tokens, which it refuses.
func TestKeysAPIUnauthenticatedNamesManagementKey(t *testing.T) {
	e := newEnv(t, false)
	for _, path := range []string{"/api/v1/keys", "/api/v1/activity"} {
		code, b := e.send("GET", path, "", nil)
		msg := strings.ToLower(string(b))
		if code != http.StatusUnauthorized || !strings.Contains(msg, "management key") || strings.Contains(msg, "staff") {
			t.Errorf("GET %s without a key: %d %s", path, code, b)
		}
		if code, b := e.send("GET", path, e.staffToken("admin"), nil); code != http.StatusForbidden {
			t.Errorf("GET %s with a staff token: %d %s", path, code, b)
		}
	}
}

// TestKeysExpireAsOpenRouterSays: a key created with expires_at (an ISO
// 8601 instant in UTC, as OpenRouter takes it) shows it, works until then
// and is refused from then on, here as on the model endpoints; another
// time zone, a malformed instant and one already past are refused.
func TestKeysExpireAsOpenRouterSays(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_k", "金鑰公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_k", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	expires := testNow.Add(2 * time.Hour).UTC()
	code, b := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "two hours", "management": true, "expires_at": expires.Format(time.RFC3339)})
	if code != http.StatusCreated {
		t.Fatalf("create with expires_at: %d %s", code, b)
	}
	var created struct {
		Data map[string]any `json:"data"`
		Key  string         `json:"key"`
	}
	if err := json.Unmarshal(b, &created); err != nil || created.Data["expires_at"] != expires.Format(time.RFC3339) {
		t.Fatalf("create with expires_at: %s", b)
	}
	e.sync()
	if code, b := e.call("GET", "/api/v1/keys", created.Key, nil); code != http.StatusOK {
		t.Fatalf("the key before it expires: %d %s", code, b)
	}
	for _, bad := range []struct{ at, want string }{
		{expires.In(projections.Taipei).Format(time.RFC3339), "not in UTC"},
		{"2027-12-31 23:59:59", "not an ISO 8601 timestamp"},
		{testNow.Add(-time.Minute).UTC().Format(time.RFC3339), "must be in the future"},
	} {
		code, b := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "x", "expires_at": bad.at})
		if code != http.StatusBadRequest || !strings.Contains(string(b), bad.want) {
			t.Errorf("expires_at %q: %d %s", bad.at, code, b)
		}
	}
	e.clock.set(expires)
	if code, b := e.call("GET", "/api/v1/keys", created.Key, nil); code != http.StatusUnauthorized {
		t.Fatalf("the key at its expiry: %d %s", code, b)
	}
	if code, b := e.call("GET", "/api/v1/keys", mgmt, nil); code != http.StatusOK || !strings.Contains(string(b), expires.Format(time.RFC3339)) {
		t.Fatalf("the list after the expiry: %d %s", code, b)
	}
}
