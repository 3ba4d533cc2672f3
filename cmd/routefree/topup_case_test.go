package main

import (
	"strings"
	"testing"
)

// A bank transfer recorded with `credits topup --reference TX-…` and again
// with the reference in lower case (as a bank statement may print it) was
// credited twice: the second run says it was already recorded, the balance
// counts the money once, and another amount under it is refused naming the
// reference as first recorded.
func TestCLITopUpReferenceInOtherCaseIsTheSameTransfer(t *testing.T) {
	store := []string{"--data-dir", storeDir(t)}
	with := func(args ...string) []string { return append(args, store...) }
	mustCLI(t, with("accounts", "open", "--id", "acct_case", "--organisation", "大小寫股份有限公司")...)
	topUp := func(amount, ref string) []string {
		return with("credits", "topup", "--account", "acct_case", "--amount", amount, "--method", "bank-transfer", "--reference", ref)
	}
	if out := mustCLI(t, topUp("5000", "TX-20261128-001")...); !strings.HasPrefix(out, "recorded:") {
		t.Fatalf("first transfer: %q", out)
	}
	if out := mustCLI(t, topUp("5000", "tx-20261128-001")...); !strings.HasPrefix(out, "already recorded: top-up tx-20261128-001 ") {
		t.Fatalf("the reference in lower case: %q, want it already recorded", out)
	}
	refusedCLI(t, `already recorded (as "TX-20261128-001") with amount 5000`, topUp("4000", "tx-20261128-001")...)
	if out := mustCLI(t, with("accounts", "show", "--account", "acct_case")...); !strings.Contains(out, "balance       NT$5000\n") {
		t.Fatalf("one transfer of NT$5,000 received:\n%s", out)
	}
}
