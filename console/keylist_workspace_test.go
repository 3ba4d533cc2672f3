package console

import (
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// TestListKeysByWorkspace: GET /api/v1/keys?workspace_id= filters by
// workspace as OpenRouter's does; RouteFree's workspace is the account, so
// the caller's own account lists its keys and another is a 404, never the
// caller's keys under another workspace's name.
func TestListKeysByWorkspace(t *testing.T) {
	e, mgmt := workspaceEnv(t)
	if code, b := e.call("GET", "/api/v1/keys?workspace_id=acct_ws", mgmt, nil); code != http.StatusOK || !strings.Contains(string(b), `"workspace_id":"acct_ws"`) {
		t.Fatalf("own workspace: %d %s", code, b)
	}
	for _, ws := range []string{"acct_other_ws", "0df9e665-d932-5740-b2c7-b52af166bc11"} {
		if code, b := e.call("GET", "/api/v1/keys?workspace_id="+ws, mgmt, nil); code != http.StatusNotFound || !strings.Contains(string(b), "workspace") {
			t.Errorf("workspace %s: %d %s", ws, code, b)
		}
	}
}

// TestCreateKeyInAnotherWorkspaceIsRefused: POST /api/v1/keys with a
// workspace_id creates the key in that workspace, as OpenRouter's does;
// RouteFree's workspace is the account, so another is a 404 that issues
// nothing, never a key of the caller's account answered as made where it
// was asked for. The caller's own account, null or "" (none) is taken.
func TestCreateKeyInAnotherWorkspaceIsRefused(t *testing.T) {
	e, mgmt := workspaceEnv(t)
	for _, ws := range []string{"acct_other_ws", "0df9e665-d932-5740-b2c7-b52af166bc11"} {
		code, b := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "elsewhere", "workspace_id": ws})
		if code != http.StatusNotFound || !strings.Contains(string(b), "workspace") {
			t.Errorf("create in workspace %q: %d %s, want 404", ws, code, b)
		}
	}
	e.sync()
	if n := len(e.models.Keys.ByAccount("acct_ws")); n != 1 {
		t.Fatalf("%d keys in the caller's account, want the management key alone", n)
	}
	for _, ws := range []any{"acct_ws", nil, ""} {
		if code, b := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "here", "workspace_id": ws}); code != http.StatusCreated || !strings.Contains(string(b), `"workspace_id":"acct_ws"`) {
			t.Errorf("create in workspace %v: %d %s", ws, code, b)
		}
	}
}

// workspaceEnv opens acct_ws, whose management key it returns, and
// acct_other_ws beside it.
func workspaceEnv(t *testing.T) (*env, string) {
	t.Helper()
	e := newEnv(t, false)
	e.openAccount("acct_ws", "工作區公司", domain.PlanStarter)
	e.openAccount("acct_other_ws", "別家公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_ws", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	return e, mgmt
}
