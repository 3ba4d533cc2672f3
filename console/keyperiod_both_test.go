package console

import (
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// TestKeysAPIRefusesTwoDifferentPeriods: limit_reset and its synonym
// limit_period name one setting. A body giving both with different
// periods is a 400 naming both, on create and on update, and records
// nothing: the period must not depend on the order a map is read in.
// Both with the same period are taken.
func TestKeysAPIRefusesTwoDifferentPeriods(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_p", "週期公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_p", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := e.issueKey("acct_p")
	e.sync()
	send := func(method, path, body string) (int, string) {
		t.Helper()
		code, b := e.send(method, path, mgmt, strings.NewReader(body))
		e.sync()
		return code, string(b)
	}
	for range 20 { // a map's order varies from one read to the next
		for _, body := range []string{
			`{"name":"x","limit":5,"limit_reset":"daily","limit_period":"monthly"}`,
			`{"name":"x","limit":5,"limit_period":"weekly","limit_reset":"daily"}`,
			`{"name":"x","limit":5,"LIMIT_PERIOD":"weekly","limit_reset":"daily"}`,
		} {
			if code, b := send("POST", "/api/v1/keys", body); code != http.StatusBadRequest || !strings.Contains(b, "limit_reset") || !strings.Contains(strings.ToLower(b), "limit_period") {
				t.Fatalf("POST %s: %d %s, want 400 naming both fields", body, code, b)
			}
		}
		for _, body := range []string{
			`{"limit":5,"limit_reset":"daily","limit_period":"monthly"}`,
			`{"limit":5,"limit_period":"weekly","limit_reset":"daily"}`,
		} {
			if code, b := send("PATCH", "/api/v1/keys/"+id, body); code != http.StatusBadRequest || !strings.Contains(b, "limit_reset") || !strings.Contains(b, "limit_period") {
				t.Fatalf("PATCH %s: %d %s, want 400 naming both fields", body, code, b)
			}
		}
	}
	if n := len(e.models.Keys.ByAccount("acct_p")); n != 2 {
		t.Fatalf("%d keys, want the two issued before", n)
	}
	if k := e.key("acct_p", id); k.SpendLimit.IsPositive() {
		t.Fatalf("a refused update set the limit: %s %s", k.SpendLimit, k.SpendPeriod)
	}
	// The same period twice is one setting.
	if code, b := send("PATCH", "/api/v1/keys/"+id, `{"limit":5,"limit_reset":"weekly","limit_period":"weekly"}`); code != http.StatusOK || !strings.Contains(b, `"limit_reset":"weekly"`) {
		t.Fatalf("PATCH with the same period twice: %d %s", code, b)
	}
	if code, b := send("POST", "/api/v1/keys", `{"name":"y","limit":5,"limit_reset":"daily","limit_period":"daily"}`); code != http.StatusCreated || !strings.Contains(b, `"limit_reset":"daily"`) {
		t.Fatalf("POST with the same period twice: %d %s", code, b)
	}
	// A key's answer says a limit that never resets twice, as null and as
	// "never": sent back as it came, it is one setting.
	for _, body := range []string{
		`{"name":"z","limit":5,"limit_reset":null,"limit_period":"never"}`,
		`{"name":"z","limit_period":"never","limit":5,"limit_reset":null}`,
	} {
		if code, b := send("POST", "/api/v1/keys", body); code != http.StatusCreated || !strings.Contains(b, `"limit_reset":null`) || !strings.Contains(b, `"limit_period":"never"`) {
			t.Fatalf("POST %s: %d %s", body, code, b)
		}
	}
	if code, b := send("PATCH", "/api/v1/keys/"+id, `{"limit":6,"limit_period":"never","limit_reset":null}`); code != http.StatusOK || !strings.Contains(b, `"limit_period":"never"`) {
		t.Fatalf("PATCH with null and never: %d %s", code, b)
	}
}
