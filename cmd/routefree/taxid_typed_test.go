package main

import (
	"strings"
	"testing"
)

// A 統一編號 pasted with a space around it, or typed in full width by a
// Chinese input method (０４５９５２５７), is the number: `accounts open`
// takes it as `accounts update` does and records it in plain digits.
// Anything else malformed (a space inside, a digit left out, a checksum
// that fails) is refused by both, through the built binary.
func TestAccountsTaxIDTypedWithSpacesOrInFullWidth(t *testing.T) {
	env := baseEnv("")
	dir := storeDir(t)
	taxLine := func(acct string) string {
		for _, l := range strings.Split(runCLI(t, env, "accounts", "show", "--data-dir", dir, "--account", acct), "\n") {
			if strings.HasPrefix(l, "tax ID") {
				return l
			}
		}
		return ""
	}
	const want = "tax ID        04595257"
	for i, typed := range []string{"04595257 ", " 04595257", "０４５９５２５７", "\u3000０４５９５２５７ "} {
		acct := "acct_t" + string(rune('a'+i))
		runCLI(t, env, "accounts", "open", "--data-dir", dir, "--id", acct, "--organisation", "範例股份有限公司", "--tax-id", typed)
		if got := taxLine(acct); got != want {
			t.Errorf("opened with --tax-id %q: %q, want %q", typed, got, want)
		}
	}
	runCLI(t, env, "accounts", "open", "--data-dir", dir, "--id", "acct_u", "--organisation", "範例股份有限公司")
	for _, typed := range []string{"04595257 ", "０４５９５２５７\u3000"} {
		runCLI(t, env, "accounts", "update", "--data-dir", dir, "--account", "acct_u", "--tax-id", "", "--reason", "B2C again")
		runCLI(t, env, "accounts", "update", "--data-dir", dir, "--account", "acct_u", "--tax-id", typed, "--reason", "B2B")
		if got := taxLine("acct_u"); got != want {
			t.Errorf("updated with --tax-id %q: %q, want %q", typed, got, want)
		}
	}

	for _, c := range []struct{ typed, says string }{
		{"0459 5257", `統一編號 "0459 5257" is not 8 digits`},
		{"0459525 ", `統一編號 "0459525" is not 8 digits`},
		{"04595258 ", `統一編號 "04595258" fails its checksum`},
		{"０４５９５２５８", `統一編號 "04595258" fails its checksum`},
	} {
		out, err := runCLIErr(env, "accounts", "open", "--data-dir", dir, "--id", "acct_bad", "--organisation", "範例股份有限公司", "--tax-id", c.typed)
		if err == nil || !strings.Contains(out, c.says) {
			t.Errorf("accounts open --tax-id %q: %v, want a refusal saying %q:\n%s", c.typed, err, c.says, out)
		}
		out, err = runCLIErr(env, "accounts", "update", "--data-dir", dir, "--account", "acct_u", "--tax-id", c.typed, "--reason", "x")
		if err == nil || !strings.Contains(out, c.says) {
			t.Errorf("accounts update --tax-id %q: %v, want a refusal saying %q:\n%s", c.typed, err, c.says, out)
		}
	}
}
