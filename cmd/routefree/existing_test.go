package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// A newcomer's second serve on the same ./data says it opened an existing
// store, what it holds, and how to get a key and an admin token again;
// the first serve, on an empty directory, says nothing of the kind. The
// commands it names work.
func TestServeTellsOfAnExistingStore(t *testing.T) {
	dir := t.TempDir()
	env := append(baseEnv("http://127.0.0.1:1"), "ROUTEFREE_DATA_DIR="+dir)

	first := startServe(t, env, "--bootstrap-demo")
	if first.demoKey == "" {
		t.Fatal("the first start printed no demo key")
	}
	if code := first.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	if out := first.out.String(); strings.Contains(out, "existing") || !strings.Contains(out, "first admin token") {
		t.Fatalf("first start:\n%s", out)
	}

	second := startServe(t, env, "--bootstrap-demo")
	out := second.out.String()
	if code := second.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	m := regexp.MustCompile(`opened the existing store (\S+): (\d+) events, (\d+) accounts, (\d+) API keys, (\d+) staff tokens`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("second start does not tell of the existing store:\n%s", out)
	}
	if m[1] != dir+"/events.db" || m[2] == "0" || m[3] != "1" || m[4] != "1" || m[5] != "1" {
		t.Fatalf("existing store: %v", m[1:])
	}
	for _, want := range []string{"routefree keys issue --account acct_demo", "routefree staff issue --role admin", "ROUTEFREE_ADMIN_TOKEN", "--data-dir"} {
		if !strings.Contains(out, want) {
			t.Errorf("second start does not mention %q:\n%s", want, out)
		}
	}
	if second.demoKey != "" || strings.Contains(out, first.demoKey) || strings.Contains(out, "shown once") {
		t.Fatalf("second start printed a secret again:\n%s", out)
	}
	// The lines come before the gateway's address, where a reader looks.
	if strings.Index(out, "opened the existing") > strings.Index(out, "RouteFree gateway on") {
		t.Fatalf("the store's lines come after the address:\n%s", out)
	}

	// What it suggests works.
	if key := runCLI(t, env, "keys", "issue", "--account", "acct_demo"); !strings.Contains(key, "sk-rf-") {
		t.Fatalf("keys issue: %s", key)
	}
	if tok := runCLI(t, env, "staff", "issue", "--role", "admin"); !strings.Contains(tok, "token:") {
		t.Fatalf("staff issue: %s", tok)
	}
	if _, err := os.Stat(dir + "/events.db"); err != nil {
		t.Fatal(err)
	}
}

// A key's new limit, set through OpenRouter's PATCH /api/v1/keys/{hash},
// holds at the gateway: a limit below what the key has spent refuses its
// next request with 402, lifting it lets the request through.
func TestPatchedKeyLimitHoldsAtTheGateway(t *testing.T) {
	// 1,000 prompt tokens: a request costs a few cents, above the lowest limit.
	up := fakeUpstream(t, providertest.Script{Text: "limit test", Usage: providertest.Usage{Prompt: 1000, Completion: 10}})
	env := append(baseEnv(up), "ROUTEFREE_DATA_DIR="+t.TempDir())
	p := startServe(t, env, "--bootstrap-demo")
	out := runCLI(t, env, "keys", "issue", "--account", "acct_demo", "--name", "owner", "--management")
	mgmt := regexp.MustCompile(`key:\s+(sk-rf-\S+)`).FindStringSubmatch(out)
	if mgmt == nil {
		t.Fatalf("keys issue: %s", out)
	}
	ctx := context.Background()
	if o := chat(ctx, p.base, p.demoKey, false, 16); o.status != http.StatusOK || !o.cost.IsPositive() {
		t.Fatalf("first request: %d cost %s %v", o.status, o.cost, o.err)
	}
	call := managementCall(t, p.base, mgmt[1])
	code, listBody := call("GET", "/api/v1/keys", "")
	list := string(listBody)
	demo := regexp.MustCompile(`"hash":"(key_[^"]+)","name":"demo"`).FindStringSubmatch(list)
	if code != http.StatusOK || demo == nil {
		t.Fatalf("list: %d %s", code, list)
	}
	// A limit finer than a cent is refused in OpenRouter's error shape.
	code, b := call("PATCH", "/api/v1/keys/"+demo[1], `{"limit":0.0001,"limit_reset":"monthly"}`)
	var refusal struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if code != http.StatusBadRequest || json.Unmarshal(b, &refusal) != nil || refusal.Error.Code != http.StatusBadRequest ||
		!strings.Contains(refusal.Error.Message, "a spending limit has at most two decimal places") {
		t.Fatalf("PATCH limit 0.0001: %d %s", code, b)
	}
	if code, b := call("PATCH", "/api/v1/keys/"+demo[1], `{"limit":0.01,"limit_reset":"monthly"}`); code != http.StatusOK {
		t.Fatalf("PATCH limit: %d %s", code, b)
	}
	if o := chat(ctx, p.base, p.demoKey, false, 16); o.status != http.StatusPaymentRequired {
		t.Fatalf("a request above the new limit: %d, want 402", o.status)
	}
	if code, b := call("PATCH", "/api/v1/keys/"+demo[1], `{"limit":null,"name":"demo, no limit"}`); code != http.StatusOK {
		t.Fatalf("PATCH lift: %d %s", code, b)
	}
	if o := chat(ctx, p.base, p.demoKey, false, 16); o.status != http.StatusOK {
		t.Fatalf("a request once the limit is lifted: %d", o.status)
	}
}

// An operator disables a key from the CLI beside a running gateway, which
// refuses it within seconds, and enables it again the same way.
func TestKeysDisableAndEnableBesideServe(t *testing.T) {
	up := fakeUpstream(t, providertest.Script{Text: "key switch", Usage: providertest.Usage{Prompt: 10, Completion: 10}})
	dir := t.TempDir()
	env := append(baseEnv(up), "ROUTEFREE_DATA_DIR="+dir)
	p := startServe(t, env, "--bootstrap-demo")
	out := runCLI(t, env, "keys", "issue", "--account", "acct_demo", "--name", "ci")
	m := regexp.MustCompile(`key id: (\S+)\nkey:\s+(sk-rf-\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("keys issue: %s", out)
	}
	id, key := m[1], m[2]
	within(t, time.Now(), 10*time.Second, "the new key served", func() bool { return chatStatus(p.base, key) == http.StatusOK })
	if out := runCLI(t, env, "keys", "disable", "--key", id); !strings.Contains(out, "disabled "+id) {
		t.Fatalf("keys disable: %s", out)
	}
	within(t, time.Now(), 10*time.Second, "the disabled key refused", func() bool { return chatStatus(p.base, key) == http.StatusUnauthorized })
	if out := runCLI(t, env, "keys", "enable", "--key", id); !strings.Contains(out, "enabled "+id) {
		t.Fatalf("keys enable: %s", out)
	}
	within(t, time.Now(), 10*time.Second, "the enabled key served again", func() bool { return chatStatus(p.base, key) == http.StatusOK })
	// Revoking is final: the key is refused and cannot be enabled again.
	if out := runCLI(t, env, "keys", "revoke", "--key", id); !strings.Contains(out, "revoked "+id) {
		t.Fatalf("keys revoke: %s", out)
	}
	within(t, time.Now(), 10*time.Second, "the revoked key refused", func() bool { return chatStatus(p.base, key) == http.StatusUnauthorized })
	refusedCLI(t, "revoked", "keys", "enable", "--key", id, "--data-dir", dir)
}

// A customer's management key of an account an operator suspended beside
// the running gateway may still list and delete its keys, but issuing one
// is a 403 in OpenRouter's error shape saying the account is suspended.
func TestSuspendedAccountsManagementKeyBesideServe(t *testing.T) {
	env := append(baseEnv("http://127.0.0.1:1"), "ROUTEFREE_DATA_DIR="+t.TempDir())
	p := startServe(t, env, "--bootstrap-demo")
	out := runCLI(t, env, "keys", "issue", "--account", "acct_demo", "--name", "owner", "--management")
	mgmt := regexp.MustCompile(`key:\s+(sk-rf-\S+)`).FindStringSubmatch(out)
	spare := regexp.MustCompile(`key id: (\S+)`).FindStringSubmatch(runCLI(t, env, "keys", "issue", "--account", "acct_demo", "--name", "spare"))
	if mgmt == nil || spare == nil {
		t.Fatalf("keys issue: %s", out)
	}
	runCLI(t, env, "accounts", "suspend", "--account", "acct_demo", "--reason", "unpaid invoice")
	call := managementCall(t, p.base, mgmt[1])
	if code, b := call("GET", "/api/v1/keys", ""); code != http.StatusOK {
		t.Fatalf("list: %d %s", code, b)
	}
	code, b := call("POST", "/api/v1/keys", `{"name":"new"}`)
	var e struct {
		Error struct {
			Code     int            `json:"code"`
			Message  string         `json:"message"`
			Metadata map[string]any `json:"metadata"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil || code != http.StatusForbidden || e.Error.Code != http.StatusForbidden ||
		!strings.HasPrefix(e.Error.Message, "this account is suspended") || e.Error.Metadata == nil {
		t.Fatalf("issue while suspended: %d %s, want 403 in OpenRouter's shape", code, b)
	}
	if code, b := call("DELETE", "/api/v1/keys/"+spare[1], ""); code != http.StatusOK {
		t.Fatalf("delete while suspended: %d %s", code, b)
	}
	// A key the CLI issues now is found at once, not a 404 until the
	// gateway has read the other process's event.
	late := regexp.MustCompile(`key id: (\S+)`).FindStringSubmatch(runCLI(t, env, "keys", "issue", "--account", "acct_demo", "--name", "late"))
	if late == nil {
		t.Fatal("keys issue: no key id")
	}
	if code, b := call("DELETE", "/api/v1/keys/"+late[1], ""); code != http.StatusOK {
		t.Fatalf("delete of a key issued a moment ago by the CLI: %d %s", code, b)
	}
}

// managementCall calls the gateway at base with a management key that
// another process wrote: until the gateway knows it (within a second or
// so) the call is 401, and is made again.
func managementCall(t *testing.T, base, key string) func(method, path, body string) (int, []byte) {
	return func(method, path, body string) (int, []byte) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || time.Now().After(deadline) {
				return resp.StatusCode, b
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// The commands a serve on an existing store suggests name that store: run
// as printed, beside a serve started with --data-dir elsewhere than
// ./data, they reach it; on PostgreSQL they name the store's settings and
// a fresh start is another schema, not another --data-dir.
func TestExistingStoreHintsNameTheStore(t *testing.T) {
	dir := t.TempDir()
	env := baseEnv("http://127.0.0.1:1")
	first := startServe(t, env, "--data-dir", dir, "--bootstrap-demo")
	if code := first.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	second := startServe(t, env, "--data-dir", dir)
	out := second.out.String()
	if code := second.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	for _, label := range []string{"a new API key:", "a new admin token:"} {
		m := regexp.MustCompile(regexp.QuoteMeta(label) + `\s+routefree ([^(\n]*)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %q line:\n%s", label, out)
		}
		args := strings.Fields(m[1])
		if got := runCLI(t, env, args...); !strings.Contains(got, "sk-rf-") && !strings.Contains(got, "rf-staff-") {
			t.Fatalf("routefree %s: %s", m[1], got)
		}
	}

	pg := []string{"--store", "postgres", "--postgres-url", testenv.PostgresURL(t)}
	first = startServe(t, env, append(pg, "--bootstrap-demo")...)
	if code := first.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	second = startServe(t, env, pg...)
	out = second.out.String()
	if code := second.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	if !strings.Contains(out, "routefree keys issue --account acct_demo --store postgres --postgres-url") ||
		strings.Contains(out, "--data-dir with an empty directory") || !strings.Contains(out, "search_path") {
		t.Fatalf("hints on PostgreSQL:\n%s", out)
	}
}

// A store that holds only a price list (published with `prices publish`
// on a new PostgreSQL store before the first serve) has no demo key or admin token yet: its first
// serve prints them, and says nothing of their having been printed before.
func TestServeOnAStoreWithOnlyPricesPrintsItsKeysAsNew(t *testing.T) {
	env := baseEnv("http://127.0.0.1:1")
	store := []string{"--store", "postgres", "--postgres-url", testenv.PostgresURL(t)}
	runCLI(t, env, append([]string{"prices", "publish", "--from-catalog"}, store...)...)

	p := startServe(t, env, append(store, "--bootstrap-demo")...)
	out := p.out.String()
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	if p.demoKey == "" || !strings.Contains(out, "first admin token") {
		t.Fatalf("the first serve after prices publish printed no demo key or admin token:\n%s", out)
	}
	if strings.Contains(out, "not shown again") {
		t.Fatalf("it says the keys it prints were printed before:\n%s", out)
	}
	if !strings.Contains(out, "opened the existing postgres store: 1 events") {
		t.Fatalf("it does not say the store held a history:\n%s", out)
	}
}

// A store first served without --bootstrap-demo holds no demo account:
// served again with it, serve prints the demo key, and does not claim the
// key was printed when the store was new. Nor does it name a first admin
// token it never printed, where the first start took ROUTEFREE_ADMIN_TOKEN.
func TestServeOnAnExistingStoreSaysWhatWasPrinted(t *testing.T) {
	dir := t.TempDir()
	env := append(baseEnv("http://127.0.0.1:1"), "ROUTEFREE_DATA_DIR="+dir)
	first := startServe(t, append(env, "ROUTEFREE_ADMIN_TOKEN=rf-staff-"+strings.Repeat("x", 40)))
	if code := first.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	second := startServe(t, env, "--bootstrap-demo")
	out := second.out.String()
	if code := second.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	if !strings.Contains(out, "opened the existing store") || second.demoKey == "" {
		t.Fatalf("want the store told of and a demo key printed:\n%s", out)
	}
	for _, claim := range []string{"demo key", "first admin token"} {
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "were printed when") && strings.Contains(line, claim) {
				t.Errorf("the start claims the %s was printed before:\n%s", claim, out)
			}
		}
	}
	if !strings.Contains(out, "routefree staff issue --role admin") {
		t.Errorf("the start does not say how to get an admin token:\n%s", out)
	}
}
