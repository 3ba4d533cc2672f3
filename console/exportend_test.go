package console

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
)

// The audit API's export ends with the same end record as `routefree events
// export`, so that a download cut short reads back as cut, not as a
// shorter history; a filtered one too.
func TestAuditExportEndRecord(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_x", "匯出公司", domain.PlanStarter)
	e.issueKey("acct_x")
	e.issueKey("acct_x")
	e.sync()
	for path, want := range map[string]uint64{"/admin/api/audit/export": 0, "/admin/api/audit/export?type=key.issued": 2} {
		code, body := e.call(http.MethodGet, path, e.auditor, nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		got, err := commands.ReadExport(bytes.NewReader(body), false, nil)
		if err != nil {
			t.Fatalf("%s reads back: %v\n%s", path, err, body)
		}
		if want > 0 && got.Events != want || got.Events == 0 {
			t.Fatalf("%s: %d events, want %d", path, got.Events, want)
		}
		cut := body[:bytes.LastIndexByte(body[:len(body)-1], '\n')+1]
		if _, err := commands.ReadExport(bytes.NewReader(cut), false, nil); err == nil {
			t.Fatalf("%s without its last line reads back as whole", path)
		}
	}
}

// An export of a stream that does not exist (a mistyped account ID, say)
// is refused as an unknown type is, where it answered an empty export that
// read back as a true one.
func TestAuditExportRefusesAStreamThatDoesNotExist(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_x", "匯出公司", domain.PlanStarter)
	e.sync()
	code, body := e.call(http.MethodGet, "/admin/api/audit/export?stream=account-acct_y", e.auditor, nil)
	if code != http.StatusBadRequest || !bytes.Contains(body, []byte(`stream \"account-acct_y\" does not exist`)) {
		t.Fatalf("export of a stream that does not exist: %d %s", code, body)
	}
	code, body = e.call(http.MethodGet, "/admin/api/audit/export?stream=account-acct_x", e.auditor, nil)
	if got, err := commands.ReadExport(bytes.NewReader(body), false, nil); code != http.StatusOK || err != nil || got.Events != 1 {
		t.Fatalf("export of a stream: %d %v %+v\n%s", code, err, got, body)
	}
}
