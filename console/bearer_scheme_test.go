package console

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// TestBearerSchemeInAnyLetterCase: an HTTP authentication scheme is
// case-insensitive (RFC 9110, 11.1), and the model endpoints take
// "bearer sk-rf-…" as they take "Bearer sk-rf-…". The admin API and the
// keys API took only "Bearer" and answered a client writing it otherwise
// 401 "send it as Authorization: Bearer sk-rf-…", which it had.
func TestBearerSchemeInAnyLetterCase(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_b", "大小寫公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_b", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
		for _, c := range []struct{ path, secret string }{
			{"/api/v1/keys", mgmt},
			{"/admin/api/whoami", mgmt},
			{"/admin/api/accounts", e.admin},
		} {
			req, err := http.NewRequest("GET", e.srv.URL+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", scheme+" "+c.secret)
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s with %q: %d %s", c.path, scheme, resp.StatusCode, b)
			}
		}
	}
	// Another scheme is still no credential.
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/keys", nil)
	req.Header.Set("Authorization", "Basic "+mgmt)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "Bearer") {
		t.Errorf("Basic: %d %s", resp.StatusCode, b)
	}
}
