package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// `keys issue --spend-limit 0` is refused (a stored zero means no limit);
// leaving the flag out issues a key without one, and leaving --name out
// names the key after its ID.
func TestKeysIssueLimitAndDefaultName(t *testing.T) {
	dir := storeDir(t)
	mustCLI(t, "accounts", "open", "--id", "acct_lim", "--organisation", "上限公司", "--data-dir", dir)
	if code, _, errs := cli(t, "keys", "issue", "--account", "acct_lim", "--spend-limit", "0", "--data-dir", dir); code == 0 || !strings.Contains(errs, "spending limit of 0") {
		t.Fatalf("--spend-limit 0: exit %d\n%s", code, errs)
	}
	var id string
	for _, line := range strings.Split(mustCLI(t, "keys", "issue", "--account", "acct_lim", "--data-dir", dir), "\n") {
		if v, ok := strings.CutPrefix(line, "key id:"); ok {
			id = strings.TrimSpace(v)
		}
	}
	type key struct {
		Name       string `json:"name"`
		SpendLimit string `json:"spend_limit"`
	}
	var keys []key
	for _, line := range exportEvents(t, mustCLI(t, "events", "export", "--data-dir", dir)) {
		var ev struct {
			Stream string `json:"stream"`
			Data   key    `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(ev.Stream, "key-") {
			keys = append(keys, ev.Data)
		}
	}
	if id == "" || len(keys) != 1 || keys[0] != (key{Name: id, SpendLimit: "0"}) {
		t.Fatalf("key %q issued: %+v", id, keys)
	}
}

// Limits with more than two decimal places are refused by the CLI too,
// naming the limit.
func TestCLIRefusesLimitsFinerThanCents(t *testing.T) {
	dir := storeDir(t)
	mustCLI(t, "accounts", "open", "--id", "acct_cents", "--organisation", "分毫公司", "--data-dir", dir)
	if code, _, errs := cli(t, "keys", "issue", "--account", "acct_cents", "--spend-limit", "0.001", "--data-dir", dir); code == 0 || !strings.Contains(errs, "a spending limit has at most two decimal places") {
		t.Fatalf("--spend-limit 0.001: exit %d\n%s", code, errs)
	}
	if code, _, errs := cli(t, "accounts", "open", "--organisation", "月結公司", "--plan", "business", "--credit-limit", "100.005", "--data-dir", dir); code == 0 || !strings.Contains(errs, "a credit limit has at most two decimal places") {
		t.Fatalf("--credit-limit 100.005: exit %d\n%s", code, errs)
	}
}
