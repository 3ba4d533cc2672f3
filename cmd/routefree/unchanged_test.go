package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// countRecorded is how many events of type typ the store in dir holds.
func countRecorded(t *testing.T, dir, typ string) int {
	t.Helper()
	n := 0
	for _, e := range exportAll(t, "--data-dir", dir) {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// The same price file published twice records one list: the second says
// that nothing changed and names the version still in force.
func TestPricesPublishedAgainSayNothingChanged(t *testing.T) {
	dir := storeDir(t)
	file := filepath.Join(dir, "prices.json")
	if err := os.WriteFile(file, []byte(`{"routefree/echo":{"input":"10","output":"20"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustCLI(t, "prices", "publish", file, "--data-dir", dir); !strings.Contains(out, "published price list v1") {
		t.Fatalf("first publication printed %q", out)
	}
	out := mustCLI(t, "prices", "publish", file, "--data-dir", dir)
	if !strings.Contains(out, "nothing changed") || !strings.Contains(out, "v1") || strings.Contains(out, "published price list") {
		t.Fatalf("the same file again printed %q; want that nothing changed, v1 still in force", out)
	}
	if n := countRecorded(t, dir, domain.TypePriceListPublished); n != 1 {
		t.Fatalf("%d price lists recorded, want 1", n)
	}
	// A real change is still published.
	if err := os.WriteFile(file, []byte(`{"routefree/echo":{"input":"10","output":"21"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustCLI(t, "prices", "publish", file, "--data-dir", dir); !strings.Contains(out, "published price list v2") {
		t.Fatalf("a changed price printed %q", out)
	}
}

// A plan change to the plan and terms the account already has records
// nothing and says so; so does a credit limit set to the one it has.
func TestAccountsPlanToTheSamePlanRecordsNothing(t *testing.T) {
	dir := storeDir(t)
	with := func(args ...string) []string { return append(args, "--data-dir", dir) }
	id := strings.TrimSpace(mustCLI(t, with("accounts", "open", "--organisation", "範例股份有限公司", "--tax-id", "04595257",
		"--plan", "business", "--credit-limit", "50000")...))
	before := countRecorded(t, dir, domain.TypePlanChanged)
	for _, args := range [][]string{
		{"--plan", "business"},
		{"--credit-limit", "50000"},
		{"--plan", "business", "--credit-limit", "50000.00"},
	} {
		out := mustCLI(t, with(append([]string{"accounts", "plan", "--account", id}, args...)...)...)
		if !strings.Contains(out, "already") || strings.Contains(out, "is now on") {
			t.Fatalf("accounts plan %v printed %q; want that the account already has it", args, out)
		}
	}
	if n := countRecorded(t, dir, domain.TypePlanChanged); n != before {
		t.Fatalf("%d plan changes recorded by changes that change nothing", n-before)
	}
	if out := mustCLI(t, with("accounts", "plan", "--account", id, "--plan", "enterprise")...); !strings.Contains(out, "is now on enterprise") {
		t.Fatalf("a real move printed %q", out)
	}
	if n := countRecorded(t, dir, domain.TypePlanChanged); n != before+1 {
		t.Fatalf("%d plan changes recorded by a real move, want 1", n-before)
	}
}

// A command's own flags are checked together: every bad one is named in
// one refusal, not the first alone.
func TestKeysIssueNamesEveryBadFlag(t *testing.T) {
	dir := storeDir(t)
	code, _, errs := cli(t, "keys", "issue", "--spend-limit", "x", "--expires", "tomorrow", "--models", "nosuch/model", "--data-dir", dir)
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr %q", code, errs)
	}
	for _, want := range []string{"--account is required", "--spend-limit", "--expires", `unknown model "nosuch/model"`} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr does not name %q:\n%s", want, errs)
		}
	}
	code, _, errs = cli(t, "accounts", "plan", "--account", "acct_x", "--credit-limit", "lots", "--volume-discount", "some", "--data-dir", dir)
	if code != 2 || !strings.Contains(errs, "--credit-limit") || !strings.Contains(errs, "--volume-discount") {
		t.Fatalf("accounts plan with two bad amounts: exit %d, stderr %q; want both named", code, errs)
	}
}
