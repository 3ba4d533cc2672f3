package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/invoicing/twrules"
)

// liveHistory builds a history through a running serve and the CLI beside
// it: a postpaid account's requests billed on a monthly invoice voided
// with an amount off its re-issue, and re-issued; a prepaid account's
// top-up (invoiced), credit adjustments, a refund and its undoing, a
// suspension (its requests refused) and a key revoked while it streams.
// Then every figure the live store gives (`accounts show`, the key's
// balance, `invoices reconcile`) is set beside `replay`'s.
func liveHistory(t *testing.T, store []string) {
	env := baseEnv(fakeUpstream(t, providertest.Script{Text: "live history of many chunks", Chunks: 12, ChunkDelay: 50 * time.Millisecond,
		Usage: providertest.Usage{Prompt: 3_000, Completion: 10}}))
	const admin = "rf-staff-live-history-admin-0123456789"
	env = append(env, "ROUTEFREE_ADMIN_TOKEN="+admin)
	demoKey := prepareDemo(t, env, store, 1_000, "")
	cli := func(args ...string) string { t.Helper(); return runCLI(t, env, append(args, store...)...) }
	now := time.Now().In(twrules.Taipei)
	cli("invoices", "range", "--period", twrules.PeriodOf(now).String(), "--prefix", "AB", "--from", "10000000", "--to", "10000999")
	p := startServe(t, env, store...)
	ctx := context.Background()

	opened := cli("accounts", "open", "--organisation", "小商店", "--plan", "starter")
	pre := regexp.MustCompile(`acct_\S+`).FindString(opened)
	cli("credits", "topup", "--account", pre, "--amount", "500", "--method", "bank-transfer", "--reference", "TX-LIVE-1")
	issued := cli("keys", "issue", "--account", pre, "--name", "shop")
	keyID := regexp.MustCompile(`key id: (\S+)`).FindStringSubmatch(issued)[1]
	key := regexp.MustCompile(`key: +(\S+)`).FindStringSubmatch(issued)[1]
	for deadline := time.Now().Add(20 * time.Second); ; {
		if o := chat(ctx, p.base, key, false, 16); o.status == http.StatusOK {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the new key is not served: %d", o.status)
		}
	}
	for i := 0; i < 40; i++ {
		k := demoKey
		if i == 0 { // the prepaid account's Starter plan takes 10 a minute
			k = key
		}
		if o := chat(ctx, p.base, k, i%2 == 0, 32); !o.complete {
			t.Fatalf("request %d: %+v", i, o)
		}
	}
	adj := cli("credits", "adjust", "--account", pre, "--amount", "-20", "--reason", "duplicate transfer")
	id := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`).FindString(adj)
	if id == "" {
		t.Fatalf("credits adjust printed no ID:\n%s", adj)
	}
	cli("credits", "adjust", "--account", pre, "--amount", "20", "--reverses", id, "--reason", "reverses the mistaken -20")
	cli("credits", "adjust", "--account", pre, "--amount", "15.25", "--reason", "service credit")

	// An account as the serve's admin API shows it: no request of its
	// key is spent (Starter takes 10 a minute) to learn the serve saw a
	// suspension.
	type accountJSON struct {
		Suspended bool            `json:"suspended"`
		Balance   decimal.Decimal `json:"balance"`
	}
	account := func(acct string) accountJSON {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, p.base+"/admin/api/accounts/"+acct, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a struct{ Data accountJSON }
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&a) != nil {
			t.Fatalf("GET /admin/api/accounts/%s: %s", acct, resp.Status)
		}
		return a.Data
	}
	suspended := func(want bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); account(pre).Suspended != want; {
			if time.Now().After(deadline) {
				t.Fatalf("the serve never saw the account suspended: %v", want)
			}
		}
	}
	cli("accounts", "suspend", "--account", pre, "--reason", "chargeback")
	suspended(true)
	if o := chat(ctx, p.base, key, false, 16); o.status != http.StatusForbidden {
		t.Fatalf("a suspended account's request: %d", o.status)
	}
	cli("accounts", "resume", "--account", pre, "--reason", "chargeback withdrawn")
	suspended(false)
	if o := chat(ctx, p.base, key, false, 16); !o.complete {
		t.Fatalf("a resumed account's request: %+v", o)
	}
	streamRevoked(t, p.base, key, func() { cli("keys", "revoke", "--key", keyID) })

	// The postpaid account's month so far, invoiced now, voided taking
	// NT$1 off, and issued again.
	month := now.Format("2006-01")
	out := cli("invoices", "issue", "--account", "acct_demo", "--month", month)
	number := strings.ReplaceAll(regexp.MustCompile(`AB-\d{8}`).FindString(out), "-", "")
	if number == "" {
		t.Fatalf("invoices issue printed no invoice:\n%s", out)
	}
	cli("invoices", "void", "--number", number, "--less", "1", "--reason", "折讓改作廢重開")
	cli("invoices", "issue", "--account", "acct_demo", "--month", month)
	cli("invoices", "topups")

	// Live figures, the serve still running.
	live := map[string]decimal.Decimal{}
	for _, acct := range []string{"acct_demo", pre} {
		show := cli("accounts", "show", "--account", acct)
		m := regexp.MustCompile(`(?m)^balance +NT\$(\S+)$`).FindStringSubmatch(show)
		if m == nil {
			t.Fatalf("accounts show:\n%s", show)
		}
		live[acct] = decimal.RequireFromString(m[1])
	}
	if got := keyBalance(t, p.base, demoKey); !got.Equal(live["acct_demo"]) {
		t.Errorf("the demo key's balance NT$%s, accounts show NT$%s", got, live["acct_demo"])
	}
	for acct, bal := range live {
		if got := account(acct).Balance; !got.Equal(bal) {
			t.Errorf("%s: the admin API's balance NT$%s, accounts show NT$%s", acct, got, bal)
		}
	}
	rec := cli("invoices", "reconcile")
	_, totals, ok := strings.Cut(rec, "\nRECONCILIATION (")
	if !ok {
		t.Fatalf("invoices reconcile prints no totals:\n%s", rec)
	}
	totals = "RECONCILIATION (" + totals

	replay := cli("replay")
	for acct, bal := range live {
		m := regexp.MustCompile(`(?m)^` + acct + ` +(\S+)$`).FindStringSubmatch(replay)
		if m == nil || !decimal.RequireFromString(m[1]).Equal(bal) {
			t.Errorf("%s: replay's balance %v, live NT$%s:\n%s", acct, m, bal, replay)
		}
	}
	if !strings.Contains(replay, totals) {
		t.Errorf("replay does not print the live reconciliation:\n%s", totals)
	}
	if t.Failed() {
		t.Logf("replay:\n%s", replay)
	}
}

// streamRevoked streams a request of key and, once its first content has
// arrived, runs revoke; it reads the stream to its end.
func streamRevoked(t *testing.T, base, key string, revoke func()) {
	t.Helper()
	body := `{"model":"routefree/echo","stream":true,"max_tokens":64,"messages":[{"role":"user","content":"hello"}]}`
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the stream to revoke: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	revoked := false
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if !revoked && strings.Contains(sc.Text(), `"content"`) {
			revoke()
			revoked = true
		}
	}
	if !revoked {
		t.Fatalf("the stream brought no content:\n%s", strings.Join(seen, "\n"))
	}
}

func TestLiveFiguresAreReplaysOnSQLite(t *testing.T) {
	liveHistory(t, []string{"--data-dir", t.TempDir()})
}

func TestLiveFiguresAreReplaysOnPostgres(t *testing.T) {
	liveHistory(t, []string{"--store", "postgres", "--postgres-url", testenv.PostgresURL(t)})
}
