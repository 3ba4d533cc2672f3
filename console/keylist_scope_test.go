package console

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// A management key lists and changes only the keys within its own limits
// (docs/openrouter.md): one limited to a model listed every key of the
// account, though fetching one outside its limits was a 403.
func TestAManagementKeyListsOnlyKeysWithinItsLimits(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_scope", "範圍公司", domain.PlanStarter)
	model := e.cat.IDs()[0]
	issue := func(k domain.KeyIssued) (string, string) {
		t.Helper()
		k.AccountID = "acct_scope"
		id, secret, err := e.cmds.IssueKey(e.ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return id, secret
	}
	leadID, lead := issue(domain.KeyIssued{Name: "lead", Management: true, Models: []string{model},
		SpendLimit: decimal.NewFromInt(100), SpendPeriod: "monthly"})
	withinID, _ := issue(domain.KeyIssued{Name: "within", Models: []string{model}, SpendLimit: decimal.NewFromInt(50), SpendPeriod: "monthly"})
	outsideID, _ := issue(domain.KeyIssued{Name: "any model"})
	e.sync()

	code, b := e.call("GET", "/api/v1/keys", lead, nil)
	var list struct {
		Data []struct {
			Hash string `json:"hash"`
		} `json:"data"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &list) != nil {
		t.Fatalf("list: %d %s", code, b)
	}
	listed := map[string]bool{}
	for _, k := range list.Data {
		listed[k.Hash] = true
	}
	if !listed[leadID] || !listed[withinID] || listed[outsideID] || len(listed) != 2 {
		t.Fatalf("a management key limited to %s lists %v; want itself and the key within its limits", model, listed)
	}
	if code, _ := e.call("GET", "/api/v1/keys/"+outsideID, lead, nil); code != http.StatusForbidden {
		t.Fatalf("the key outside its limits, fetched: %d", code)
	}
}
