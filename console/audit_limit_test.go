package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// GET /admin/api/audit/events reads ?limit= as the other lists of the
// admin API do: a limit that is not a whole number of at least 1 is a 400
// naming it. It was taken as 100, so an auditor's limit=-1 or limit=1e3
// answered a page of another size than asked, with nothing to say so.
func TestAuditEventsRefuseALimitThatIsNotACount(t *testing.T) {
	e := newEnv(t, false)
	for _, bad := range []string{"-1", "0", "x", "1e3", "2.5", "99999999999999999999"} {
		code, body := e.call("GET", "/admin/api/audit/events?limit="+bad, e.auditor, nil)
		if code != http.StatusBadRequest || !json.Valid(body) || !strings.Contains(string(body), "limit must be a whole number") {
			t.Errorf("limit=%s: %d %.200s; want 400 naming limit", bad, code, body)
		}
	}
	var page struct {
		Data []json.RawMessage `json:"data"`
	}
	code, body := e.call("GET", "/admin/api/audit/events?limit=2", e.auditor, nil)
	if code != http.StatusOK || json.Unmarshal(body, &page) != nil || len(page.Data) != 2 {
		t.Fatalf("limit=2: %d %.200s", code, body)
	}
}
