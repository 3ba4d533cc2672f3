package console

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A request with two Authorization headers (a proxy adding its own, a
// staff token beside a key) was answered as the first of them, so which
// credential acted depended on header order, while the model endpoints
// refuse such a request. The admin API and /api/v1/keys refuse it too,
// 401 saying to send one, and record nothing.
func TestTwoCredentialsAreRefused(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_two", "雙憑證公司", domain.PlanStarter)
	_, owner, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_two", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	before := len(e.allEvents())
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/admin/api/whoami", ""},
		{"POST", "/admin/api/accounts/acct_two/keys", `{"name":"which one?"}`},
		{"POST", "/api/v1/keys", `{"name":"which one?"}`},
		{"GET", "/api/v1/keys", ""},
	} {
		for _, pair := range [][2]string{{owner, e.admin}, {e.admin, owner}, {owner, owner}} {
			req, _ := http.NewRequest(c.method, e.srv.URL+c.path, strings.NewReader(c.body))
			req.Header.Add("Authorization", "Bearer "+pair[0])
			req.Header.Add("Authorization", "Bearer "+pair[1])
			req.Header.Set("Content-Type", "application/json")
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "send one") {
				t.Errorf("%s %s with two credentials: %d %s; want 401 saying to send one", c.method, c.path, resp.StatusCode, b)
			}
		}
	}
	if after := e.allEvents(); len(after) != before {
		t.Fatalf("a request with two credentials recorded %s", after[len(after)-1].Type)
	}
}
