package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
)

// TestStaffTokenListsNameWhoIssuedAndRevoked: the admin API's and the
// console's list of staff tokens say who issued each token and who
// revoked it, when, as `routefree staff list` and the audit log do: a
// token revoked from the CLI names the operating-system user there too.
func TestStaffTokenListsNameWhoIssuedAndRevoked(t *testing.T) {
	e := newEnv(t, false)
	admin, ok := e.views.StaffByHash(commands.HashKey(e.admin))
	if !ok {
		t.Fatal("no staff token of e.admin")
	}
	code, b := e.call("POST", "/admin/api/staff/tokens", e.admin, map[string]any{"role": "finance", "name": "會計"})
	if code != http.StatusCreated {
		t.Fatalf("issue: %d %s", code, b)
	}
	var issued struct {
		Data struct {
			ID string `json:"token_id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &issued); err != nil {
		t.Fatal(err)
	}
	cli := domain.Actor{Kind: domain.ActorCLI, ID: "alice (sudo)"}
	if err := e.cmds.RevokeStaffToken(commands.WithActor(e.ctx, cli), issued.Data.ID); err != nil {
		t.Fatal(err)
	}
	e.sync()

	code, b = e.call("GET", "/admin/api/staff/tokens", e.admin, nil)
	var list struct {
		Data []struct {
			ID        string        `json:"token_id"`
			IssuedBy  *domain.Actor `json:"issued_by"`
			Revoked   bool          `json:"revoked"`
			RevokedAt string        `json:"revoked_at"`
			RevokedBy *domain.Actor `json:"revoked_by"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &list); code != http.StatusOK || err != nil {
		t.Fatalf("list: %d %s (%v)", code, b, err)
	}
	byAdmin := domain.Actor{Kind: domain.ActorStaff, ID: admin.ID, Role: "admin"}
	found := false
	for _, tok := range list.Data {
		if tok.ID != issued.Data.ID {
			continue
		}
		found = true
		if tok.IssuedBy == nil || *tok.IssuedBy != byAdmin {
			t.Errorf("issued_by %+v, want %+v", tok.IssuedBy, byAdmin)
		}
		if !tok.Revoked || tok.RevokedAt == "" || tok.RevokedBy == nil || *tok.RevokedBy != cli {
			t.Errorf("revoked %v at %q by %+v, want by %+v", tok.Revoked, tok.RevokedAt, tok.RevokedBy, cli)
		}
	}
	if !found {
		t.Fatalf("the list lacks %s: %s", issued.Data.ID, b)
	}

	br := e.browser()
	br.signIn(e.admin)
	_, page := br.get("/console/staff?lang=en")
	var row string
	for _, r := range strings.Split(page, "<tr ") {
		if strings.Contains(r, `data-token="`+issued.Data.ID+`"`) {
			row = visibleText(t, "<table><tr "+r+"</table>")
		}
	}
	for _, want := range []string{byAdmin.String(), cli.String()} {
		if !strings.Contains(row, want) {
			t.Errorf("the console's row of %s does not name %q: %q", issued.Data.ID, want, row)
		}
	}
}
