package main

import (
	"testing"
)

// --max-topup raised with zeros too many (a typo, or "no limit" meant) let
// a top-up of NT$10^20 be recorded: its invoice's amount wrapped past
// int64 (a legal document printing NT$7766279631452241919), the
// reconciliation called the rest a fraction of NT$1, and the gateway
// answered every request of the account 503. The bound is the one credit
// and spending limits have, NT$1,000,000,000: a larger --max-topup is
// refused before anything is recorded.
func TestMaxTopUpIsBounded(t *testing.T) {
	store := []string{"--data-dir", storeDir(t)}
	with := func(args ...string) []string { return append(args, store...) }
	mustCLI(t, with("accounts", "open", "--id", "acct_big", "--organisation", "Big 公司")...)
	before := len(exportAll(t, store...))
	for _, max := range []string{"1000000000.01", "999999999999999999999999"} {
		says := "--max-topup \"" + max + "\": want a positive amount of NTD, at most 1000000000"
		refusedCLI(t, says, with("credits", "topup", "--account", "acct_big", "--amount", "99999999999999999999",
			"--method", "bank-transfer", "--reference", "HUGE-1", "--max-topup", max)...)
		refusedCLI(t, says, with("credits", "adjust", "--account", "acct_big", "--amount", "99999999999999999999",
			"--reason", "typo", "--max-topup", max)...)
	}
	if n := len(exportAll(t, store...)); n != before {
		t.Fatalf("refusals appended %d events", n-before)
	}
	mustCLI(t, with("credits", "topup", "--account", "acct_big", "--amount", "1000000000",
		"--method", "bank-transfer", "--reference", "BIG-1", "--max-topup", "1000000000")...)
}
