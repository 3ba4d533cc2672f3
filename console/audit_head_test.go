package console

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// The audit page's verify (and its API) walked the chain only: with the
// newest events deleted from the store under a running serve, the shorter
// chain verified, though the running read models had applied more. The
// store's head is now checked against what they applied.
func TestAuditVerifySaysTheNewestEventsWereDeleted(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_cut", "刪除測試公司", domain.PlanStarter)
	e.issueKey("acct_cut")
	e.sync()
	verdict := func() (ok bool, brk string) {
		t.Helper()
		code, b := e.call("GET", "/admin/api/audit/verify", e.auditor, nil)
		var r struct {
			Data struct {
				OK    bool   `json:"ok"`
				Break string `json:"break"`
			} `json:"data"`
		}
		if code != http.StatusOK || json.Unmarshal(b, &r) != nil {
			t.Fatalf("verify: %d %s", code, b)
		}
		return r.Data.OK, r.Data.Break
	}
	if ok, brk := verdict(); !ok {
		t.Fatalf("a whole store: %s", brk)
	}
	db, err := sql.Open("sqlite", sqlite.URI(e.storePath, "_pragma=busy_timeout(10000)"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM events WHERE position = (SELECT max(position) FROM events)`); err != nil {
		t.Fatal(err)
	}
	ok, brk := verdict()
	if ok || !strings.Contains(brk, "deleted") {
		t.Fatalf("the newest event deleted: ok %v, break %q; want a failure saying events were deleted", ok, brk)
	}
}
