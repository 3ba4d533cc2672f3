package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// The account owner (a management key) sets the invoice carrier or donation
// code by API, and finance does for them; an inference key does not. The
// format is checked at the door with the usual error shape.
func TestAPIInvoiceCarrier(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_c", "載具公司", domain.PlanStarter)
	e.openAccount("acct_x", "別人", domain.PlanStarter)
	_, inference := e.issueKey("acct_c")
	_, secret, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_c", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	if code, body := e.call("POST", "/admin/api/accounts/acct_c/invoice-carrier", inference, map[string]any{"carrier": "/ABC1234"}); code != http.StatusForbidden {
		t.Fatalf("inference key sets a carrier: %d %s", code, body)
	}
	code, body := e.call("POST", "/admin/api/accounts/acct_c/invoice-carrier", secret, map[string]any{"carrier": "/AB_1234"})
	var bad map[string]any
	if code != http.StatusBadRequest || json.Unmarshal(body, &bad) != nil || !strings.Contains(string(body), "mobile barcode") {
		t.Fatalf("bad carrier: %d %s", code, body)
	}
	if code, body = e.call("POST", "/admin/api/accounts/acct_c/invoice-carrier", secret, map[string]any{"donation_code": "12"}); code != http.StatusBadRequest {
		t.Fatalf("bad donation code: %d %s", code, body)
	}
	if code, body = e.call("POST", "/admin/api/accounts/acct_x/invoice-carrier", secret, map[string]any{"carrier": "/ABC1234"}); code != http.StatusNotFound {
		t.Fatalf("another account's carrier: %d %s", code, body)
	}
	code, body = e.call("POST", "/admin/api/accounts/acct_c/invoice-carrier", secret, map[string]any{"carrier": "/abc1234"})
	if code != http.StatusOK || !strings.Contains(string(body), `"carrier":"/ABC1234"`) {
		t.Fatalf("good carrier: %d %s", code, body)
	}
	code, body = e.call("POST", "/admin/api/accounts/acct_c/invoice-carrier", e.finance, map[string]any{"donation_code": "168001"})
	if code != http.StatusOK || !strings.Contains(string(body), `"donation_code":"168001"`) {
		t.Fatalf("finance sets a donation code: %d %s", code, body)
	}
}
