package main

import (
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
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
