package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/twrules"
)

// logRecords are serve's structured log lines so far.
func logRecords(t *testing.T, p *proc) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(p.logs.String(), "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

// Without an invoice number range, top-up invoices wait: an expected
// state of a new period, which serve reports as a warning that says what
// to run, not as an error.
func TestServeWarnsOfAMissingInvoiceRange(t *testing.T) {
	env := append(baseEnv("http://127.0.0.1:1"), "ROUTEFREE_DATA_DIR="+t.TempDir())
	p := startServe(t, env)
	runCLI(t, env, "accounts", "open", "--id", "acct_shop", "--organisation", "小商店")
	runCLI(t, env, "credits", "topup", "--account", "acct_shop", "--amount", "300", "--method", "bank-transfer", "--reference", "pay-1")
	period := twrules.PeriodOf(time.Now()).String()

	var found map[string]any
	for deadline := time.Now().Add(20 * time.Second); found == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, r := range logRecords(t, p) {
			if msg, _ := r["msg"].(string); strings.HasPrefix(msg, "invoicing:") {
				found = r
			}
		}
	}
	if found == nil {
		t.Fatalf("serve did not report the missing range:\n%s", p.logs.String())
	}
	msg, _ := found["msg"].(string)
	if found["level"] != "WARN" || !strings.Contains(msg, "routefree invoices range --period "+period) {
		t.Fatalf("the missing range is reported as %v %q, want a warning naming routefree invoices range --period %s", found["level"], msg, period)
	}
	for _, r := range logRecords(t, p) {
		if r["level"] == "ERROR" {
			t.Errorf("serve logged an error: %v", r)
		}
	}
}
