package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// A management key lists and changes only the keys within its own limits
// (docs/openrouter.md): one limited to a model listed every key of the
// account, though fetching one outside its limits was a 403.
func TestAManagementKeyListsOnlyKeysWithinItsLimits(t *testing.T) {
	e, model, issue := scopedAccount(t)
	leadID, lead, withinID, outsideID := limitedLead(issue, model)
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

// A management key limited to some models reads the activity of the keys
// within its limits only, as it lists only those: its activity summed the
// requests of every key of the account, and ?api_key_hash= named any.
func TestAManagementKeysActivityCoversOnlyKeysWithinItsLimits(t *testing.T) {
	e, model, issue := scopedAccount(t)
	_, lead, withinID, outsideID := limitedLead(issue, model)
	_, owner := issue(domain.KeyIssued{Name: "owner's", Management: true})
	// testNow is 15 March in Taipei; the 14th (UTC) is a completed day.
	at := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	for _, r := range []struct{ key, cost string }{{withinID, "1.5"}, {outsideID, "40"}} {
		rc := &domain.RequestCompleted{RequestID: "gen-" + uuid.NewString(), KeyID: r.key, AccountID: "acct_scope", Model: model,
			Provider: "openai", Upstream: "up", Usage: domain.Usage{Input: 10, Output: 5},
			Cost: decimal.RequireFromString(r.cost), StartedAt: at, Outcome: domain.OutcomeCompleted, Attempts: 1}
		d, err := commands.Event(uuid.New(), at, rc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.cap.Append(e.ctx, domain.UsageStream("acct_scope"), eventstore.Any(), d); err != nil {
			t.Fatal(err)
		}
	}
	e.sync()
	usage := func(key, query string) (int, float64) {
		t.Helper()
		code, b := e.call("GET", "/api/v1/activity"+query, key, nil)
		var r struct {
			Data []struct {
				Usage    float64 `json:"usage"`
				Requests int64   `json:"requests"`
			} `json:"data"`
		}
		if code != http.StatusOK {
			return code, 0
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, row := range r.Data {
			sum += row.Usage
		}
		return code, sum
	}
	if code, sum := usage(owner, ""); code != http.StatusOK || sum != 41.5 {
		t.Fatalf("the account's unlimited management key reads %d, usage %v; want every key's 41.5", code, sum)
	}
	if code, sum := usage(lead, ""); code != http.StatusOK || sum != 1.5 {
		t.Fatalf("a management key limited to %s reads %d, usage %v; want 1.5, the key within its limits", model, code, sum)
	}
	if code, sum := usage(lead, "?api_key_hash="+withinID); code != http.StatusOK || sum != 1.5 {
		t.Fatalf("the key within its limits: %d, usage %v", code, sum)
	}
	if code, _ := usage(lead, "?api_key_hash="+outsideID); code != http.StatusForbidden {
		t.Fatalf("the key outside its limits, asked by name: %d, want 403 as fetching it is", code)
	}
}

// scopedAccount is a console over acct_scope, the catalog's first model
// and an issuer of the account's keys.
func scopedAccount(t *testing.T) (*env, string, func(domain.KeyIssued) (string, string)) {
	t.Helper()
	e := newEnv(t, false)
	e.openAccount("acct_scope", "範圍公司", domain.PlanStarter)
	issue := func(k domain.KeyIssued) (string, string) {
		t.Helper()
		k.AccountID = "acct_scope"
		id, secret, err := e.cmds.IssueKey(e.ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return id, secret
	}
	return e, e.cat.IDs()[0], issue
}

// limitedLead issues a management key limited to model (lead), a key
// within its limits and one outside them (any model).
func limitedLead(issue func(domain.KeyIssued) (string, string), model string) (leadID, lead, withinID, outsideID string) {
	leadID, lead = issue(domain.KeyIssued{Name: "lead", Management: true, Models: []string{model},
		SpendLimit: decimal.NewFromInt(100), SpendPeriod: "monthly"})
	withinID, _ = issue(domain.KeyIssued{Name: "within", Models: []string{model}, SpendLimit: decimal.NewFromInt(50), SpendPeriod: "monthly"})
	outsideID, _ = issue(domain.KeyIssued{Name: "any model"})
	return leadID, lead, withinID, outsideID
}

// The admin API's list of an account's keys shows a management key with
// limits the keys within them, as /api/v1/keys does: it listed every key
// of the account, those the key may neither fetch nor change included.
// Staff, an unlimited management key and the account's inference keys
// still see every key.
func TestTheAdminAPIListsALimitedManagementKeyOnlyItsKeys(t *testing.T) {
	e, model, issue := scopedAccount(t)
	leadID, lead, withinID, outsideID := limitedLead(issue, model)
	_, owner := issue(domain.KeyIssued{Name: "owner's", Management: true})
	_, inference := issue(domain.KeyIssued{Name: "app"})
	e.sync()
	listed := func(who string) map[string]bool {
		code, b := e.call("GET", "/admin/api/accounts/acct_scope/keys", who, nil)
		var list struct {
			Data []struct {
				KeyID string `json:"key_id"`
			} `json:"data"`
		}
		if code != http.StatusOK || json.Unmarshal(b, &list) != nil {
			t.Fatalf("list: %d %s", code, b)
		}
		out := map[string]bool{}
		for _, k := range list.Data {
			out[k.KeyID] = true
		}
		return out
	}
	if got := listed(lead); !got[leadID] || !got[withinID] || got[outsideID] || len(got) != 2 {
		t.Errorf("a management key limited to %s lists %v; want itself and the key within its limits", model, got)
	}
	for who, secret := range map[string]string{"staff": e.admin, "the owner's key": owner, "an inference key": inference} {
		if got := listed(secret); !got[outsideID] || !got[withinID] || len(got) != 5 {
			t.Errorf("%s lists %v; want every key of the account", who, got)
		}
	}
}

// The account page of a console signed in with a management key with
// limits lists the keys within them, as the APIs do, and so does its CSV:
// it listed every key, offering to disable keys the key may not change.
func TestTheConsoleShowsALimitedManagementKeyOnlyItsKeys(t *testing.T) {
	e, model, issue := scopedAccount(t)
	_, lead, _, _ := limitedLead(func(k domain.KeyIssued) (string, string) {
		switch k.Name {
		case "within":
			k.Name = "團隊金鑰"
		case "any model":
			k.Name = "總帳金鑰"
		}
		return issue(k)
	}, model)
	e.sync()
	b := e.browser()
	b.signIn(lead)
	for _, path := range []string{"/console/accounts/acct_scope", "/console/accounts/acct_scope?format=csv&table=keys"} {
		resp, page := b.get(path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "團隊金鑰") || strings.Contains(page, "總帳金鑰") {
			t.Errorf("%s: %d; want the key within the lead's limits and not the other (within %v, other %v)",
				path, resp.StatusCode, strings.Contains(page, "團隊金鑰"), strings.Contains(page, "總帳金鑰"))
		}
	}
}
