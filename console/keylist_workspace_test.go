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
	e := newEnv(t, false)
	e.openAccount("acct_ws", "工作區公司", domain.PlanStarter)
	e.openAccount("acct_other_ws", "別家公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_ws", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	if code, b := e.call("GET", "/api/v1/keys?workspace_id=acct_ws", mgmt, nil); code != http.StatusOK || !strings.Contains(string(b), `"workspace_id":"acct_ws"`) {
		t.Fatalf("own workspace: %d %s", code, b)
	}
	for _, ws := range []string{"acct_other_ws", "0df9e665-d932-5740-b2c7-b52af166bc11"} {
		if code, b := e.call("GET", "/api/v1/keys?workspace_id="+ws, mgmt, nil); code != http.StatusNotFound || !strings.Contains(string(b), "workspace") {
			t.Errorf("workspace %s: %d %s", ws, code, b)
		}
	}
}
