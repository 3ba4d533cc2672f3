package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// TestAnAccountOpenedElsewhereIsFoundAtOnce: two serves share a store (and
// Redis), as behind a load balancer. An account that one serve's admin API
// or the CLI has just opened is at once an account of the other serve's
// admin API too: a key issued on it and its page read there, rather than a
// 404 "account not found" from the serve that has not read the other
// process's event yet. An account that no process opened is still a 404,
// and one opened again is refused as existing.
func TestAnAccountOpenedElsewhereIsFoundAtOnce(t *testing.T) {
	for _, sc := range sharedStores() {
		t.Run(sc.name, func(t *testing.T) {
			rurl, prefix := testenv.RedisURL(t)
			const admin = "rf-staff-elsewhere-admin-0123456789"
			env := append(baseEnv(fakeUpstream(t, providertest.Script{Text: "elsewhere"})), "ROUTEFREE_ADMIN_TOKEN="+admin)
			store := sc.args(t)
			shared := append(append([]string{}, store...), "--redis-url", rurl, "--redis-prefix", prefix)
			a := startServe(t, env, shared...)
			b := startServe(t, env, shared...)
			call := func(base, method, path, body string) (int, string) {
				t.Helper()
				req, err := http.NewRequest(method, base+path, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+admin)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			// Several rounds: a serve that happened to read the other's
			// event before the call would hide the defect in one.
			for i := range 5 {
				id := fmt.Sprintf("acct_api_%d", i)
				if code, body := call(a.base, "POST", "/admin/api/accounts", fmt.Sprintf(`{"account_id":%q,"organisation":"Elsewhere %d"}`, id, i)); code != http.StatusCreated {
					t.Fatalf("open %s on the first serve: %d %s", id, code, body)
				}
				if code, body := call(b.base, "POST", "/admin/api/accounts/"+id+"/keys", `{"name":"at once"}`); code != http.StatusCreated {
					t.Fatalf("key of %s, opened a moment ago by the other serve: %d %s", id, code, body)
				}
				// Opened again on the other serve: refused, saying why in
				// the words the CLI uses, not the store's.
				again := fmt.Sprintf(`{"account_id":%q,"organisation":"Again"}`, id)
				if code, body := call(b.base, "POST", "/admin/api/accounts", again); code != http.StatusConflict || !strings.Contains(body, "account "+id+" already exists") {
					t.Fatalf("%s opened again: %d %s", id, code, body)
				}

				id = fmt.Sprintf("acct_cli_%d", i)
				runCLI(t, env, append([]string{"accounts", "open", "--id", id, "--organisation", "CLI " + id}, store...)...)
				if code, body := call(b.base, "GET", "/admin/api/accounts/"+id, ""); code != http.StatusOK || !strings.Contains(body, `"account_id":"`+id+`"`) {
					t.Fatalf("account %s, opened a moment ago by the CLI: %d %s", id, code, body)
				}
			}
			if code, body := call(b.base, "GET", "/admin/api/accounts/acct_never_opened", ""); code != http.StatusNotFound {
				t.Fatalf("an account never opened: %d %s, want 404", code, body)
			}
		})
	}
}
