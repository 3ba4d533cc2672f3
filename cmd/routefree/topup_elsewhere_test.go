package main

import (
	"strings"
	"sync"
	"testing"
)

// A bank transfer's reference that another account holds is refused by
// `credits topup`, naming that account, and credits nothing: each run is
// a process of its own, which knows the reference from the history alone.
// Runs at once under one reference on two accounts record it once.
func TestCLITopUpReferenceHeldByAnotherAccountIsRefused(t *testing.T) {
	store := []string{"--data-dir", storeDir(t)}
	with := func(args ...string) []string { return append(args, store...) }
	for _, acct := range []string{"acct_first", "acct_second", "acct_race_a", "acct_race_b"} {
		mustCLI(t, with("accounts", "open", "--id", acct, "--organisation", "轉帳公司 "+acct)...)
	}
	topUp := func(acct, ref string) []string {
		return with("credits", "topup", "--account", acct, "--amount", "5000", "--method", "bank-transfer", "--reference", ref)
	}
	if out := mustCLI(t, topUp("acct_first", "TX-20261128-001")...); !strings.HasPrefix(out, "recorded:") {
		t.Fatalf("first transfer: %q", out)
	}
	refusedCLI(t, `reference "tx-20261128-001" is already recorded on account acct_first`, topUp("acct_second", "tx-20261128-001")...)
	if out := mustCLI(t, with("accounts", "show", "--account", "acct_second")...); !strings.Contains(out, "balance       NT$0\n") {
		t.Fatalf("the second account was credited:\n%s", out)
	}

	codes := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, acct := range []string{"acct_race_a", "acct_race_b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, _ := cli(t, topUp(acct, "TX-RACE-1")...)
			mu.Lock()
			codes[acct] = code
			mu.Unlock()
		}()
	}
	wg.Wait()
	credited := 0
	for _, acct := range []string{"acct_race_a", "acct_race_b"} {
		out := mustCLI(t, with("accounts", "show", "--account", acct)...)
		if strings.Contains(out, "balance       NT$5000\n") {
			credited++
			if codes[acct] != 0 {
				t.Errorf("%s was credited but its run exited %d", acct, codes[acct])
			}
		} else if codes[acct] == 0 {
			t.Errorf("%s's run exited 0 without crediting it", acct)
		}
	}
	if credited != 1 {
		t.Fatalf("runs at once under one reference credited %d accounts, want 1 (exit codes %v)", credited, codes)
	}
}
