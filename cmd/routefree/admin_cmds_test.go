package main

// The operator's commands on accounts, keys, credits and prices: what they
// keep, what they refuse and how they say so.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// usageCLI runs a command that must be refused as a bad invocation (exit 2)
// with a message saying says.
func usageCLI(t *testing.T, says string, args ...string) {
	t.Helper()
	code, _, errs := cli(t, args...)
	if code != 2 || !strings.Contains(errs, says) {
		t.Fatalf("routefree %s: exit %d, stderr %q; want exit 2 saying %q", strings.Join(args, " "), code, errs, says)
	}
}

// A plan change keeps every setting it is not given: the credit limit, the
// volume discount and the custom limits.
func TestAccountsPlanKeepsWhatItIsNotGiven(t *testing.T) {
	dir := storeDir(t)
	with := func(args ...string) []string { return append(args, "--data-dir", dir) }
	id := strings.TrimSpace(mustCLI(t, with("accounts", "open", "--organisation", "範例股份有限公司", "--tax-id", "04595257",
		"--plan", "business", "--credit-limit", "50000")...))
	show := func(want ...string) {
		t.Helper()
		out := mustCLI(t, with("accounts", "show", "--account", id)...)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Fatalf("accounts show lacks %q:\n%s", w, out)
			}
		}
	}
	mustCLI(t, with("accounts", "plan", "--account", id, "--plan", "enterprise", "--volume-discount", "0.1")...)
	show("credit limit  NT$50000", "volume discount 0.1")
	mustCLI(t, with("accounts", "plan", "--account", id, "--plan", "enterprise", "--rpm", "100")...)
	show("plan          enterprise", "credit limit  NT$50000", "rpm 100, tpm 0, volume discount 0.1")
	// Without --plan the plan stays too.
	out := mustCLI(t, with("accounts", "plan", "--account", id, "--credit-limit", "60000", "--tpm", "5000")...)
	if !strings.Contains(out, "credit limit NT$60000") {
		t.Fatalf("accounts plan printed %q", out)
	}
	show("plan          enterprise", "credit limit  NT$60000", "rpm 100, tpm 5000, volume discount 0.1")
	// A given zero is a value: the plan's own rate limit again.
	mustCLI(t, with("accounts", "plan", "--account", id, "--rpm", "0")...)
	show("plan          enterprise", "credit limit  NT$60000", "rpm 0, tpm 5000, volume discount 0.1")
	// A prepaid plan has no credit: moving there drops it, giving one is refused.
	refusedCLI(t, "prepaid plans have no credit limit", with("accounts", "plan", "--account", id, "--plan", "starter", "--credit-limit", "10")...)
	mustCLI(t, with("accounts", "plan", "--account", id, "--plan", "starter")...)
	show("plan          starter", "credit limit  NT$0")
	usageCLI(t, "--account is required", with("accounts", "plan", "--plan", "starter")...)
}

// Custom RPM, TPM and volume discount are for Enterprise accounts, from the
// CLI as from the console and the admin API: given for another plan they
// are refused and nothing is recorded; an account leaving Enterprise leaves
// them behind.
func TestAccountsPlanCustomTermsAreEnterprisesOnly(t *testing.T) {
	dir := storeDir(t)
	with := func(args ...string) []string { return append(args, "--data-dir", dir) }
	id := strings.TrimSpace(mustCLI(t, with("accounts", "open", "--organisation", "範例股份有限公司", "--plan", "starter")...))
	show := func(want string) {
		t.Helper()
		if out := mustCLI(t, with("accounts", "show", "--account", id)...); !strings.Contains(out, want) {
			t.Fatalf("accounts show lacks %q:\n%s", want, out)
		}
	}
	noCustom := func() {
		t.Helper()
		if out := mustCLI(t, with("accounts", "show", "--account", id)...); strings.Contains(out, "custom") {
			t.Fatalf("accounts show has custom terms:\n%s", out)
		}
	}
	const says = "custom RPM, TPM and volume discount are for enterprise accounts"
	for _, args := range [][]string{
		{"--rpm", "600"},
		{"--tpm", "2000000"},
		{"--volume-discount", "0.1"},
		{"--plan", "business", "--rpm", "600"},
		{"--plan", "business", "--credit-limit", "1000", "--volume-discount", "0.05"},
	} {
		refusedCLI(t, says, with(append([]string{"accounts", "plan", "--account", id}, args...)...)...)
	}
	show("plan          starter")
	noCustom()

	mustCLI(t, with("accounts", "plan", "--account", id, "--plan", "enterprise", "--rpm", "600", "--tpm", "2000000", "--volume-discount", "0.1")...)
	show("rpm 600, tpm 2000000, volume discount 0.1")
	// Leaving Enterprise leaves its terms, as the console does; naming one
	// on the way out is refused.
	refusedCLI(t, says, with("accounts", "plan", "--account", id, "--plan", "business", "--rpm", "600")...)
	mustCLI(t, with("accounts", "plan", "--account", id, "--plan", "business")...)
	show("plan          business")
	noCustom()
}

// A price file must give every model an input and an output price (an
// explicit "0" for a free model), name only models of the catalog and
// each key once; a refused file records nothing.
func TestPricesPublishRefusesMissingPricesAndUnknownModels(t *testing.T) {
	dir := storeDir(t)
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	refusedCLI(t, "routefree/echo: no input price", "prices", "publish", file("noinput.json", `{"routefree/echo":{"output":"200"}}`), "--data-dir", dir)
	refusedCLI(t, "routefree/echo: no output price", "prices", "publish", file("nooutput.json", `{"routefree/echo":{"input":"200"}}`), "--data-dir", dir)
	refusedCLI(t, "nosuch/model, other/model", "prices", "publish",
		file("unknown.json", `{"nosuch/model":{"input":"1","output":"2"},"other/model":{"input":"1","output":"2"},"routefree/echo":{"input":"1","output":"2"}}`), "--data-dir", dir)
	// A model or a price given twice is a file that says two things.
	refusedCLI(t, `key "routefree/echo" is given twice`, "prices", "publish",
		file("twice.json", `{"routefree/echo":{"input":"1","output":"2"},"routefree/echo":{"input":"100","output":"200"}}`), "--data-dir", dir)
	refusedCLI(t, `key "input" is given twice`, "prices", "publish",
		file("twiceinput.json", `{"routefree/echo":{"input":"1","output":"2","input":"100"}}`), "--data-dir", dir)
	// A file far past any price list (a wrong path, a device) is refused
	// before it is read whole: beside a running serve, the command must not
	// take the machine's memory.
	huge := file("huge.json", `{"routefree/echo":{"input":"1","output":"2"}}`+strings.Repeat(" ", 17<<20))
	refusedCLI(t, "a price file is at most 16 MiB", "prices", "publish", huge, "--data-dir", dir)
	refusedCLI(t, "a price file is at most 16 MiB", "prices", "publish", "/dev/zero", "--data-dir", dir)
	// Every request's cost has the places of its price: one of 400 would
	// make every cost, balance and usage event of the model as long.
	// A price is written plainly, as every amount is: an exponent is refused.
	refusedCLI(t, "routefree/echo: output must be an amount written plainly", "prices", "publish", file("fine.json", `{"routefree/echo":{"input":"1","output":"1e-400"}}`), "--data-dir", dir)
	refusedCLI(t, "at most 12 decimal places", "prices", "publish",
		file("fine2.json", `{"routefree/echo":{"input":"0.000000000000000000000000000001","output":"1"}}`), "--data-dir", dir)
	if out := exportEvents(t, mustCLI(t, "events", "export", "--data-dir", dir)); len(out) != 0 {
		t.Fatalf("refused price lists recorded:\n%s", out)
	}
	out := mustCLI(t, "prices", "publish", file("free.json", `{"routefree/echo":{"input":"0","output":"0"}}`), "--data-dir", dir)
	if !strings.Contains(out, "published price list v1") {
		t.Fatalf("a free model's prices: %q", out)
	}
}

// Missing flags are usage errors naming them; an existing account is named
// as such.
func TestCLINamesWhatIsMissing(t *testing.T) {
	dir := storeDir(t)
	for _, c := range []struct {
		says string
		args []string
	}{
		{"--account is required", []string{"keys", "issue"}},
		{"--key is required", []string{"keys", "revoke"}},
		{"--key is required", []string{"keys", "disable"}},
		{"--key is required", []string{"keys", "enable"}},
		{"--account is required", []string{"credits", "topup"}},
		{"--amount is required", []string{"credits", "topup", "--account", "acct_x"}},
		{"--amount is required", []string{"credits", "adjust", "--account", "acct_x", "--reason", "r"}},
		{"flag provided but not defined: -bogus", []string{"keys", "revoke", "--bogus"}},
	} {
		usageCLI(t, c.says, append(c.args, "--data-dir", dir)...)
	}
	mustCLI(t, "accounts", "open", "--id", "acct_twice", "--organisation", "Once", "--data-dir", dir)
	refusedCLI(t, "account acct_twice already exists", "accounts", "open", "--id", "acct_twice", "--organisation", "Twice", "--data-dir", dir)

	// A group without its command shows the group's commands, as a usage error.
	code, out, errs := cli(t, "accounts")
	if code != 2 || out != "" || !strings.Contains(errs, "accounts open") {
		t.Fatalf("routefree accounts: exit %d\nstdout %q\nstderr %q", code, out, errs)
	}
}

// accounts show tells each key's state as the gateway treats it: a
// disabled key is not "active", and the management key (which calls no
// model but issues and revokes the account's keys) says so.
func TestAccountsShowTellsDisabledAndManagementKeys(t *testing.T) {
	dir := storeDir(t)
	with := func(args ...string) []string { return append(args, "--data-dir", dir) }
	mustCLI(t, with("accounts", "open", "--id", "acct_k", "--organisation", "Keys 公司")...)
	issued := func(args ...string) string {
		t.Helper()
		m := regexp.MustCompile(`key id: (key_\S+)`).FindStringSubmatch(mustCLI(t, with(append([]string{"keys", "issue", "--account", "acct_k"}, args...)...)...))
		if m == nil {
			t.Fatal("keys issue printed no key id")
		}
		return m[1]
	}
	plain, owner, paused := issued("--name", "plain"), issued("--name", "owner", "--management"), issued("--name", "paused")
	mustCLI(t, with("keys", "disable", "--key", paused)...)
	out := mustCLI(t, with("accounts", "show", "--account", "acct_k")...)
	line := func(id string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, id) {
				return l
			}
		}
		t.Fatalf("no line for %s:\n%s", id, out)
		return ""
	}
	if l := line(paused); !strings.Contains(l, "disabled") || strings.Contains(l, "active") {
		t.Errorf("a disabled key: %q", l)
	}
	if l := line(owner); !strings.Contains(l, "active") || !strings.Contains(l, "management") {
		t.Errorf("the management key: %q", l)
	}
	if l := line(plain); !strings.Contains(l, "active") || strings.Contains(l, "management") {
		t.Errorf("an inference key: %q", l)
	}
}
