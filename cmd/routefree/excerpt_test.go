package main

import (
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// An amount flag refused (1e400, 10,000 digits, a 100 kB string) is quoted
// in the refusal by a short prefix only, and nothing is recorded; an
// amount in scientific notation or with a plus sign is refused as the
// console refuses it, not read as NT$1000.
func TestCLIAmountRefusalsQuoteAShortPrefix(t *testing.T) {
	dir := storeDir(t)
	with := func(args ...string) []string { return append(args, "--data-dir", dir) }
	id := strings.TrimSpace(mustCLI(t, with("accounts", "open", "--organisation", "長字串公司", "--plan", "business")...))
	count := func() int { return strings.Count(mustCLI(t, with("events", "export")...), "\n") }
	before := count()
	for _, typed := range []string{"1e400" + strings.Repeat("0", 40), strings.Repeat("9", 10000), strings.Repeat("7", 100000)} {
		for _, args := range [][]string{
			{"credits", "topup", "--account", id, "--method", "bank-transfer", "--reference", "R1", "--amount", typed},
			{"credits", "adjust", "--account", id, "--reason", "r", "--amount", typed},
			{"accounts", "plan", "--account", id, "--credit-limit", typed},
			{"accounts", "plan", "--account", id, "--volume-discount", typed},
			{"accounts", "open", "--organisation", "o", "--plan", "business", "--credit-limit", typed},
			{"keys", "issue", "--account", id, "--spend-limit", typed},
			{"keys", "issue", "--account", id, "--expires", typed},
			{"accounts", "plan", "--account", id, "--plan", typed},
		} {
			code, _, errs := cli(t, with(args...)...)
			if code == 0 || strings.Contains(errs, typed[:domain.MaxQuoted+1]) || len(errs) > 2000 {
				t.Errorf("routefree %s %s…: exit %d, %d bytes: %.200s", strings.Join(args[:2], " "), typed[:10], code, len(errs), errs)
			}
		}
	}
	// An ID that names nothing is quoted short too.
	longID := strings.Repeat("a", 100000)
	for _, args := range [][]string{
		{"accounts", "show", "--account", longID},
		{"accounts", "suspend", "--account", longID, "--reason", "r"},
		{"keys", "revoke", "--key", longID},
		{"keys", "disable", "--key", longID},
		{"staff", "revoke", "--token", longID},
	} {
		code, _, errs := cli(t, with(args...)...)
		if code == 0 || strings.Contains(errs, longID[:domain.MaxQuoted+1]) {
			t.Errorf("routefree %s with a 100 kB ID: exit %d, %d bytes: %.200s", strings.Join(args[:2], " "), code, len(errs), errs)
		}
	}
	// So is a setting's value, given as a flag.
	for _, flag := range []string{"--max-topup", "--low-balance", "--log-level", "--store"} {
		code, _, errs := cli(t, with("credits", "topup", "--account", id, "--method", "bank-transfer", "--reference", "R3", "--amount", "5", flag, longID)...)
		if code == 0 || strings.Contains(errs, longID[:domain.MaxQuoted+1]) {
			t.Errorf("%s with 100 kB: exit %d, %d bytes: %.200s", flag, code, len(errs), errs)
		}
	}
	for _, typed := range []string{"1e3", "+100", "0x10", "NaN", "Infinity"} {
		code, _, errs := cli(t, with("credits", "topup", "--account", id, "--method", "bank-transfer", "--reference", "R2", "--amount", typed)...)
		if code != 2 || !strings.Contains(errs, "not a plain amount") {
			t.Errorf("credits topup --amount %s: exit %d, %s", typed, code, errs)
		}
	}
	if after := count(); after != before {
		t.Fatalf("refused commands recorded %d events", after-before)
	}
}
