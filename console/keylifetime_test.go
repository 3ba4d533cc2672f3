package console

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// orAnswer is a key as /api/v1/keys answers it: the fields of its limit.
type orAnswer struct {
	Hash           string   `json:"hash"`
	Limit          *float64 `json:"limit"`
	LimitRemaining *float64 `json:"limit_remaining"`
	LimitReset     *string  `json:"limit_reset"`
	LimitPeriod    *string  `json:"limit_period"`
	UsageMonthly   float64  `json:"usage_monthly"`
}

func (e *env) orKeyCall(method, path, bearer string, body any, want int) orAnswer {
	e.t.Helper()
	code, b := e.call(method, path, bearer, body)
	if code != want {
		e.t.Fatalf("%s %s %v: %d %s, want %d", method, path, body, code, b, want)
	}
	var r struct {
		Data orAnswer `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		e.t.Fatalf("%s %s: %v %s", method, path, err, b)
	}
	return r.Data
}

// checkLimit compares a key's limit fields: reset "" stands for null.
func checkLimit(t *testing.T, what string, k orAnswer, limit, remaining float64, reset, period string) {
	t.Helper()
	gotReset := ""
	if k.LimitReset != nil {
		gotReset = *k.LimitReset
		if gotReset == "" {
			t.Errorf("%s: limit_reset is an empty string", what)
		}
	}
	if k.Limit == nil || k.LimitRemaining == nil || k.LimitPeriod == nil {
		t.Errorf("%s: limit %v, limit_remaining %v, limit_period %v: want all three", what, k.Limit, k.LimitRemaining, k.LimitPeriod)
		return
	}
	if *k.Limit != limit || *k.LimitRemaining != remaining || gotReset != reset || *k.LimitPeriod != period {
		t.Errorf("%s: limit %v remaining %v limit_reset %q limit_period %q, want %v %v %q %q",
			what, *k.Limit, *k.LimitRemaining, gotReset, *k.LimitPeriod, limit, remaining, reset, period)
	}
}

// OpenRouter's limit_reset left out or null, on POST and PATCH
// /api/v1/keys, is a limit that never resets: what the key has left is its
// limit less all it ever spent, last month's included. PATCH without
// limit_reset keeps the period the key's answer shows (null without a
// limit); RouteFree's own admin API keeps its monthly default and offers
// never too.
func TestKeysAPILimitWithoutResetNeverResets(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_life", "終身公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_life", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()

	k := e.orKeyCall("POST", "/api/v1/keys", mgmt, map[string]any{"name": "contractor", "limit": 10}, http.StatusCreated)
	checkLimit(t, "created without limit_reset", k, 10, 10, "", "never")
	null := e.orKeyCall("POST", "/api/v1/keys", mgmt, map[string]any{"name": "null", "limit": 3, "limit_period": nil}, http.StatusCreated)
	checkLimit(t, "created with limit_period null", null, 3, 3, "", "never")
	if v, _ := e.models.Balances.View("acct_life", k.Hash, e.clock.Now()); v.KeySpendPeriod != "never" {
		t.Fatalf("the gateway's period is %q, want never", v.KeySpendPeriod)
	}
	issued, ok := e.lastEvent(domain.KeyStream(k.Hash)).(*domain.KeyIssued)
	if !ok || issued.SpendPeriod != "never" {
		t.Fatalf("recorded issue: %#v", issued)
	}

	// NT$4 spent last month (the day before this Taipei month began) stays
	// spent.
	lastMonth := projections.PeriodStart(projections.PeriodMonthly, e.clock.Now()).AddDate(0, 0, -1)
	e.request("acct_life", k.Hash, e.cat.IDs()[0], "", lastMonth, 10, 10, "4")
	e.sync()
	path := "/api/v1/keys/" + k.Hash
	k = e.orKeyCall("GET", path, mgmt, nil, http.StatusOK)
	checkLimit(t, "after last month's NT$4", k, 10, 6, "", "never")
	if k.UsageMonthly != 0 {
		t.Errorf("usage_monthly %v, want 0", k.UsageMonthly)
	}
	// A new limit without limit_reset keeps the key's period.
	checkLimit(t, "PATCH limit 12", e.orKeyCall("PATCH", path, mgmt, map[string]any{"limit": 12}, http.StatusOK), 12, 8, "", "never")
	checkLimit(t, "PATCH limit_reset monthly", e.orKeyCall("PATCH", path, mgmt, map[string]any{"limit_reset": "monthly"}, http.StatusOK), 12, 12, "monthly", "monthly")
	checkLimit(t, "PATCH limit 11 on a monthly key", e.orKeyCall("PATCH", path, mgmt, map[string]any{"limit": 11}, http.StatusOK), 11, 11, "monthly", "monthly")
	checkLimit(t, "PATCH limit_reset null", e.orKeyCall("PATCH", path, mgmt, map[string]any{"limit_reset": nil}, http.StatusOK), 11, 7, "", "never")
	if v, _ := e.models.Balances.View("acct_life", k.Hash, e.clock.Now()); v.KeySpendPeriod != "never" || !v.KeySpend.Equal(decimal.NewFromInt(4)) {
		t.Fatalf("the gateway's period %q and spending %s, want never and 4", v.KeySpendPeriod, v.KeySpend)
	}
	// A key without a limit shows limit_reset null: a limit given it
	// without a period never resets.
	plain := e.orKeyCall("POST", "/api/v1/keys", mgmt, map[string]any{"name": "plain", "limit_reset": "weekly"}, http.StatusCreated)
	checkLimit(t, "PATCH a limit onto a key without one", e.orKeyCall("PATCH", "/api/v1/keys/"+plain.Hash, mgmt, map[string]any{"limit": 5}, http.StatusOK), 5, 5, "", "never")
	weekly := e.orKeyCall("POST", "/api/v1/keys", mgmt, map[string]any{"name": "weekly", "limit": 5, "limit_reset": "weekly"}, http.StatusCreated)
	checkLimit(t, "created weekly", weekly, 5, 5, "weekly", "weekly")

	// GET /api/v1/keys lists the key alike.
	code, b := e.call("GET", "/api/v1/keys", mgmt, nil)
	var list struct {
		Data []orAnswer `json:"data"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &list) != nil {
		t.Fatalf("list: %d %s", code, b)
	}
	for _, l := range list.Data {
		if l.Hash == k.Hash {
			checkLimit(t, "listed", l, 11, 7, "", "never")
		}
	}

	// The console's account page: the limit with no reset (不重置), what
	// the key spent in all beside what is left, and the period offered
	// in the key forms.
	br := e.browser()
	br.signIn(mgmt)
	resp, page := br.get("/console/accounts/acct_life")
	row := regexp.MustCompile(`(?s)<tr data-key="` + regexp.QuoteMeta(k.Hash) + `".*?</tr>`).FindString(page)
	if resp.StatusCode != http.StatusOK || !strings.Contains(row, "不重置") || !strings.Contains(row, "累計已用") || strings.Contains(row, "本期已用") {
		t.Errorf("the account page's row of the key: %d\n%s", resp.StatusCode, row)
	}
	if !strings.Contains(page, `<option value="never">不重置</option>`) {
		t.Error("the new key form offers no limit without reset")
	}

	// RouteFree's admin API: monthly unless asked, never when asked.
	for _, c := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"name": "admin default", "spend_limit": "5"}, "monthly"},
		{map[string]any{"name": "admin never", "spend_limit": "5", "spend_period": "never"}, "never"},
	} {
		code, b := e.call("POST", "/admin/api/accounts/acct_life/keys", e.admin, c.body)
		var r struct {
			Data struct {
				KeyID string `json:"key_id"`
			} `json:"data"`
		}
		if code != http.StatusCreated || json.Unmarshal(b, &r) != nil {
			t.Fatalf("admin API %v: %d %s", c.body, code, b)
		}
		e.sync()
		if got := e.key("acct_life", r.Data.KeyID); got.SpendPeriod != c.want {
			t.Errorf("admin API %v: period %q, want %q", c.body, got.SpendPeriod, c.want)
		}
	}
	if code, b := e.call("POST", "/admin/api/accounts/acct_life/keys", e.admin, map[string]any{"name": "yearly", "spend_limit": "5", "spend_period": "yearly"}); code != http.StatusBadRequest {
		t.Errorf("admin API yearly: %d %s", code, b)
	}
}

// A management key's limit bounds the limits of the keys it makes. One
// that never resets makes only keys whose limits never reset, adding up
// within it; a periodic one makes keys of its period or never resetting
// (which spend at most their limit in any period), adding up within it
// together; a key of another period is refused.
func TestManagementKeySharesWithLimitsThatNeverReset(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_share", "分配公司", domain.PlanStarter)
	issue := func(period string) string {
		_, secret, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_share", Name: "mgmt " + period, Management: true,
			SpendLimit: decimal.NewFromInt(10), SpendPeriod: period})
		if err != nil {
			t.Fatal(err)
		}
		e.sync()
		return secret
	}

	lifetime := issue("never")
	first := e.orKeyCall("POST", "/api/v1/keys", lifetime, map[string]any{"name": "a", "limit": 6}, http.StatusCreated)
	checkLimit(t, "a child of a key that never resets", first, 6, 6, "", "never")
	for _, c := range []struct {
		body map[string]any
		want int
	}{
		{map[string]any{"name": "b", "limit": 5}, http.StatusForbidden},                           // 6 + 5 > 10
		{map[string]any{"name": "b", "limit": 4, "limit_reset": "monthly"}, http.StatusForbidden}, // a periodic limit spends without end
		{map[string]any{"name": "b", "limit": 1, "limit_reset": "daily"}, http.StatusForbidden},
		{map[string]any{"name": "b"}, http.StatusForbidden}, // no limit
	} {
		if code, b := e.call("POST", "/api/v1/keys", lifetime, c.body); code != c.want {
			t.Errorf("under a limit that never resets, POST %v: %d %s, want %d", c.body, code, b, c.want)
		}
	}
	e.orKeyCall("POST", "/api/v1/keys", lifetime, map[string]any{"name": "b", "limit": 4, "limit_reset": nil}, http.StatusCreated)
	if code, b := e.call("PATCH", "/api/v1/keys/"+first.Hash, lifetime, map[string]any{"limit_reset": "monthly"}); code != http.StatusForbidden {
		t.Errorf("PATCH a never-resetting child to monthly: %d %s", code, b)
	}
	if code, b := e.call("PATCH", "/api/v1/keys/"+first.Hash, lifetime, map[string]any{"limit": 7}); code != http.StatusForbidden {
		t.Errorf("PATCH a child past the share: %d %s", code, b)
	}

	monthly := issue("monthly")
	for _, c := range []struct {
		body map[string]any
		want int
	}{
		{map[string]any{"name": "c", "limit": 4}, http.StatusCreated},                           // never resets: within any month
		{map[string]any{"name": "d", "limit": 6, "limit_reset": "monthly"}, http.StatusCreated}, // 4 + 6 = 10
		{map[string]any{"name": "e", "limit": 1}, http.StatusForbidden},                         // 11 > 10
		{map[string]any{"name": "e", "limit": 1, "limit_reset": "monthly"}, http.StatusForbidden},
		{map[string]any{"name": "e", "limit": 1, "limit_reset": "daily"}, http.StatusForbidden}, // another period
	} {
		if code, b := e.call("POST", "/api/v1/keys", monthly, c.body); code != c.want {
			t.Errorf("under a monthly limit, POST %v: %d %s, want %d", c.body, code, b, c.want)
		}
	}
}
