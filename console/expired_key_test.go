package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
)

// A management key past its expiry is told so by the account and key
// APIs, as the model endpoints tell it (README: refused from that instant
// on), rather than asked to sign in or for a management key it is.
func TestExpiredKeyIsToldItExpired(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_exp", "到期公司", domain.PlanStarter)
	until := testNow.Add(24 * time.Hour)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_exp", Name: "contractor", Management: true, ExpiresAt: &until})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	if code, body := e.call("GET", "/api/v1/keys", mgmt, nil); code != http.StatusOK {
		t.Fatalf("before its expiry: %d %s", code, body)
	}
	e.clock.mu.Lock()
	e.clock.t = until.Add(time.Minute)
	e.clock.mu.Unlock()
	want := "this API key expired at " + until.UTC().Format(time.RFC3339)
	for _, path := range []string{"/api/v1/keys", "/admin/api/accounts/acct_exp", "/admin/api/accounts/acct_exp/usage"} {
		code, body := e.call("GET", path, mgmt, nil)
		var msg struct{ Message string }
		if err := json.Unmarshal(body, &msg); code != http.StatusUnauthorized || err != nil || !strings.HasPrefix(msg.Message, want) {
			t.Errorf("%s: %d %s, want 401 %q", path, code, body, want)
		}
	}
	if code, body := e.call("GET", "/api/v1/keys", "sk-rf-unknown", nil); code != http.StatusUnauthorized || !strings.Contains(string(body), "invalid API key") {
		t.Errorf("an unknown key: %d %s", code, body)
	}
}
