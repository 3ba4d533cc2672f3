package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `keys issue` obeys the cap of live keys the gateways are given: from the
// config file serve reads (max-keys-per-account) or the environment, and
// a higher one given on its command line lets the operator issue past it.
// A cap below 1 is refused.
func TestKeysIssueObeysTheKeyCap(t *testing.T) {
	dir := storeDir(t)
	conf := filepath.Join(t.TempDir(), "routefree.conf")
	if err := os.WriteFile(conf, []byte("max-keys-per-account=2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ROUTEFREE_CONFIG", conf)
	mustCLI(t, "accounts", "open", "--id", "acct_cap", "--organisation", "上限公司", "--data-dir", dir)
	mustCLI(t, "keys", "issue", "--account", "acct_cap", "--data-dir", dir)
	mustCLI(t, "keys", "issue", "--account", "acct_cap", "--data-dir", dir)
	code, _, errs := cli(t, "keys", "issue", "--account", "acct_cap", "--data-dir", dir)
	if code == 0 || !strings.Contains(errs, "at most 2") || !strings.Contains(errs, "--max-keys-per-account") {
		t.Fatalf("a third key under a cap of 2: exit %d\n%s", code, errs)
	}
	t.Setenv("ROUTEFREE_MAX_KEYS_PER_ACCOUNT", "1")
	if code, _, errs := cli(t, "keys", "issue", "--account", "acct_cap", "--data-dir", dir); code == 0 || !strings.Contains(errs, "at most 1") {
		t.Fatalf("under the environment's cap of 1: exit %d\n%s", code, errs)
	}
	mustCLI(t, "keys", "issue", "--account", "acct_cap", "--max-keys-per-account", "3", "--data-dir", dir)
	if code, _, errs := cli(t, "keys", "issue", "--account", "acct_cap", "--max-keys-per-account", "0", "--data-dir", dir); code == 0 || !strings.Contains(errs, "--max-keys-per-account 0: want 1 or more") {
		t.Fatalf("a cap of 0: exit %d\n%s", code, errs)
	}
}

// serve takes the bound on keys made in an hour from the config file, the
// environment or its flag, 100 by default; below 1 is refused.
func TestServeTakesTheBoundOnKeysMadeInAnHour(t *testing.T) {
	cleanEnv(t)
	c, err := parseServe(t)
	if err != nil || c.MaxNewKeysPerHour != 100 {
		t.Fatalf("default: %d %v, want 100", c.MaxNewKeysPerHour, err)
	}
	file := writeFile(t, "routefree.conf", "max-new-keys-per-hour=20\n")
	if c, err = parseServe(t, "--config", file); err != nil || c.MaxNewKeysPerHour != 20 {
		t.Fatalf("from the file: %d %v, want 20", c.MaxNewKeysPerHour, err)
	}
	t.Setenv("ROUTEFREE_MAX_NEW_KEYS_PER_HOUR", "30")
	if c, err = parseServe(t, "--config", file); err != nil || c.MaxNewKeysPerHour != 30 {
		t.Fatalf("from the environment: %d %v, want 30", c.MaxNewKeysPerHour, err)
	}
	if c, err = parseServe(t, "--config", file, "--max-new-keys-per-hour", "40"); err != nil || c.MaxNewKeysPerHour != 40 {
		t.Fatalf("from the flag: %d %v, want 40", c.MaxNewKeysPerHour, err)
	}
	if _, err = parseServe(t, "--max-new-keys-per-hour", "0"); err == nil || !strings.Contains(err.Error(), "--max-new-keys-per-hour 0: want 1 or more") {
		t.Fatalf("a bound of 0: %v, want refused", err)
	}
}
