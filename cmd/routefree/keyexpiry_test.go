package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// TestKeysIssueWithAnExpiry: `keys issue --expires` issues a key that the
// gateway refuses from that instant on; an instant past, or not RFC 3339,
// is refused before anything is issued.
func TestKeysIssueWithAnExpiry(t *testing.T) {
	up := fakeUpstream(t, providertest.Script{Text: "until then"})
	env := baseEnv(up)
	store := []string{"--data-dir", t.TempDir()}
	prepareDemo(t, env, store, 1000, "")
	soon := time.Now().Add(3 * time.Second).UTC().Truncate(time.Second)
	out := runCLI(t, env, append([]string{"keys", "issue", "--account", "acct_demo", "--expires", soon.Format(time.RFC3339)}, store...)...)
	m := regexp.MustCompile(`key:\s+(sk-rf-\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "expires: "+soon.Format(time.RFC3339)) {
		t.Fatalf("keys issue --expires: %s", out)
	}
	for _, bad := range []string{time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "tomorrow"} {
		if out, err := runCLIErr(env, append([]string{"keys", "issue", "--account", "acct_demo", "--expires", bad}, store...)...); err == nil {
			t.Fatalf("keys issue --expires %s: %s", bad, out)
		}
	}
	p := startServe(t, env, store...)
	if st := chatStatus(p.base, m[1]); st != 200 {
		t.Fatalf("the key before its expiry: %d", st)
	}
	waitFor(t, 10*time.Second, func() bool { return chatStatus(p.base, m[1]) == 401 })
}
