package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// TestOperatorCommandsBesideServeOnEachStore: on SQLite and on PostgreSQL,
// an operator's key revocation, suspension, resumption, price list and
// plan change, run with the CLI beside a serve, take effect on it within a second, and
// the serve goes on serving.
func TestOperatorCommandsBesideServeOnEachStore(t *testing.T) {
	for _, sc := range sharedStores() {
		t.Run(sc.name, func(t *testing.T) {
			env := baseEnv(fakeUpstream(t, providertest.Script{Text: "beside"}))
			store := sc.args(t)
			demo := prepareDemo(t, env, store, 100000, "100000")
			p := startServe(t, env, store...)
			with := func(args ...string) []string { return append(args, store...) }

			out := runCLI(t, env, with("keys", "issue", "--account", "acct_demo", "--name", "doomed")...)
			id := regexp.MustCompile(`key id: (\S+)`).FindStringSubmatch(out)
			key := issuedKey(t, out)
			waitFor(t, 5*time.Second, func() bool { return chatStatus(p.base, key) == http.StatusOK })
			runCLI(t, env, with("keys", "revoke", "--key", id[1])...)
			within(t, time.Now(), visibleWithin, "key revoked by the CLI", func() bool { return chatStatus(p.base, key) == http.StatusUnauthorized })

			runCLI(t, env, with("accounts", "suspend", "--account", "acct_demo", "--reason", "chargeback")...)
			within(t, time.Now(), visibleWithin, "account suspended by the CLI", func() bool { return chatStatus(p.base, demo) == http.StatusForbidden })
			runCLI(t, env, with("accounts", "resume", "--account", "acct_demo", "--reason", "withdrawn")...)
			within(t, time.Now(), visibleWithin, "account resumed by the CLI", func() bool { return chatStatus(p.base, demo) == http.StatusOK })

			// A price list published beside the serve prices the next
			// request: routefree/echo at another price costs another amount.
			before := chatCost(t, p.base, demo)
			prices := filepath.Join(t.TempDir(), "prices.json")
			if err := os.WriteFile(prices, []byte(`{"routefree/echo":{"input":"2000","output":"2000"}}`), 0o600); err != nil {
				t.Fatal(err)
			}
			runCLI(t, env, with("prices", "publish", prices)...)
			within(t, time.Now(), visibleWithin, "price list published by the CLI", func() bool {
				return !chatCost(t, p.base, demo).Equal(before)
			})

			// One request a minute: the next is refused with 429.
			runCLI(t, env, with("accounts", "plan", "--account", "acct_demo", "--plan", "enterprise", "--rpm", "1")...)
			within(t, time.Now(), visibleWithin, "plan changed by the CLI", func() bool { return chatStatus(p.base, demo) == http.StatusTooManyRequests })

			if st := getStatus(p.base + "/readyz"); st != http.StatusOK {
				t.Fatalf("/readyz after the commands: %d", st)
			}
			if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
				t.Fatalf("serve exit status %d", code)
			}
			verifyStore(t, env, store)
		})
	}
}
