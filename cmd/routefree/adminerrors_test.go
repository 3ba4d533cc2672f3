package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/payments/ecpay"
)

// Every refusal of the admin API, the payments routes' included, is in
// the API's error shape, {"error":{"code":…,"message":…,"metadata":{…}}},
// as a served instance answers it: a client reads error.message whichever
// route it called and whoever it is.
func TestAdminAPIRefusalsAreInTheErrorShape(t *testing.T) {
	up := fakeUpstream(t, providertest.Script{Text: "ok"})
	env := append(baseEnv(up), "ROUTEFREE_ECPAY_MERCHANT_ID="+ecpay.TestMerchantID,
		"ROUTEFREE_ECPAY_HASH_KEY="+ecpay.TestHashKey, "ROUTEFREE_ECPAY_HASH_IV="+ecpay.TestHashIV)
	store := []string{"--data-dir", t.TempDir()}
	s := startServe(t, env, store...)
	runCLI(t, env, append([]string{"accounts", "open", "--id", "acct_shape", "--organisation", "形狀公司", "--plan", "starter"}, store...)...)
	owner := issuedKey(t, runCLI(t, env, append([]string{"keys", "issue", "--account", "acct_shape", "--name", "owner", "--management"}, store...)...))
	admin, finance, auditor := staffToken(t, env, store, "admin"), staffToken(t, env, store, "finance"), staffToken(t, env, store, "auditor")
	within(t, time.Now(), 5*time.Second, "the key and tokens on serve", func() bool {
		return keyStatus(s.base, owner) == http.StatusOK && apiJSON(t, s.base, "/admin/api/payments", auditor, nil) == http.StatusOK
	})

	for _, c := range []struct {
		token, method, path, body string
		status                    int
		says                      string
	}{
		{finance, "GET", "/admin/api/payments?status=lost", "", 400, "status must be pending, paid, expired, failed or otherwise"},
		{auditor, "GET", "/admin/api/payments?status=", "", 0, ""}, // no filter: a 200
		{admin, "GET", "/admin/api/payments", "", 403, "role"},
		{owner, "GET", "/admin/api/payments/refused", "", 403, ""},
		{finance, "GET", "/admin/api/accounts/acct_none/payments", "", 404, "not found"},
		{owner, "POST", "/admin/api/accounts/acct_shape/payments", `{"amount":"abc"}`, 400, ""},
		{owner, "POST", "/admin/api/accounts/acct_shape/payments", `{"amount":"500","method":"cash"}`, 400, ""},
		{"", "GET", "/admin/api/payments", "", 401, ""},
		{finance, "POST", "/admin/api/accounts/acct_shape/topups", `{"amount":"-5","method":"credit-card","reference":"r"}`, 400, "positive"},
		{finance, "POST", "/admin/api/accounts/acct_shape/topups", `{bad`, 400, ""},
		{admin, "POST", "/admin/api/accounts/acct_shape/plan", `{"plan":"gold"}`, 400, ""},
		{admin, "POST", "/admin/api/staff/tokens", `{"role":"owner","name":"x"}`, 400, ""},
		{admin, "GET", "/admin/api/accounts/acct_none", "", 404, "not found"},
		{auditor, "GET", "/admin/api/audit/events?after=zz", "", 400, ""},
		{finance, "GET", "/admin/api/invoices/AB00000000", "", 404, ""},
	} {
		req, _ := http.NewRequest(c.method, s.base+c.path, strings.NewReader(c.body))
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if c.status == 0 {
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s %s: %d %s, want 200", c.method, c.path, resp.StatusCode, b)
			}
			continue
		}
		var e struct {
			Error *struct {
				Code     *int            `json:"code"`
				Message  string          `json:"message"`
				Metadata json.RawMessage `json:"metadata"`
			} `json:"error"`
		}
		var top map[string]json.RawMessage
		ok := json.Unmarshal(b, &e) == nil && json.Unmarshal(b, &top) == nil && len(top) == 1 && e.Error != nil &&
			e.Error.Code != nil && *e.Error.Code == c.status && e.Error.Message != "" &&
			strings.HasPrefix(string(e.Error.Metadata), "{") && strings.Contains(e.Error.Message, c.says)
		if resp.StatusCode != c.status || !ok {
			t.Errorf("%s %s: %d %s; want %d in the error shape, saying %q", c.method, c.path, resp.StatusCode, b, c.status, c.says)
		}
	}
}
