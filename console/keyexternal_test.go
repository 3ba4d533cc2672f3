package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// TestCreateTakesOpenRouterExternal: POST /api/v1/keys takes OpenRouter's
// partner identity, {"user", "api_key"?}, checked as its schema has it and
// not kept; a malformed one is a 400 naming the field, issuing no key.
func TestCreateTakesOpenRouterExternal(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_ext", "夥伴公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_ext", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	for _, bad := range []struct{ body, want string }{
		{`{"name":"a","external":{"api_key":"k"}}`, "external.user is required"},
		{`{"name":"a","external":{"user":42}}`, "external.user: must be a string"},
		{`{"name":"a","external":{"user":"u","id":"x"}}`, "unknown field external.id"},
		{`{"name":"a","external":"u"}`, "external: must be an object"},
	} {
		if code, b := e.call("POST", "/api/v1/keys", mgmt, json.RawMessage(bad.body)); code != http.StatusBadRequest || !strings.Contains(string(b), bad.want) {
			t.Errorf("POST %s: %d %s", bad.body, code, b)
		}
	}
	e.sync()
	if n := len(e.models.Keys.ByAccount("acct_ext")); n != 1 {
		t.Fatalf("%d keys after refused creates, want the management key alone", n)
	}
	code, b := e.call("POST", "/api/v1/keys", mgmt, json.RawMessage(`{"name":"partner","external":{"user":"customer-42","api_key":"lookup-1"}}`))
	var out struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &out); code != http.StatusCreated || err != nil || out.Data["external_user"] != nil {
		t.Fatalf("create with external: %d %s", code, b)
	}
}
