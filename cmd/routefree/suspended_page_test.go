package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A suspended account's page says so first, in the terms of the API's
// answer (every request of its keys is 403 account_suspended, whatever
// its credit): its credit left is marked as not usable, and no
// low-balance warning asks to top up, as if credit were what stood in the
// way (a 402). Resumed, the page reads as before.
func TestASuspendedAccountsPageSaysItIsSuspended(t *testing.T) {
	s := startSelfServe(t)
	// Credit low enough for the low-balance warning (NT$50 < NT$100).
	runCLI(t, s.env, append([]string{"credits", "adjust", "--account", "acct_demo", "--amount", "-950", "--reason", "test"}, s.store...)...)
	owner := s.consoleAs(s.owner)
	low := regexp.MustCompile(`id="low-balance"`)
	notice := regexp.MustCompile(`(?s)<[a-z]+[^>]*id="suspended-notice"[^>]*>.*?</section>`)
	waitFor := func(what string, ok func(page string) bool, path string) string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			page := s.page(owner, path)
			if ok(page) {
				return page
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s never shows it", what, path)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	const en = "/console/accounts/acct_demo?lang=en"
	page := waitFor("low balance", func(p string) bool { return low.MatchString(p) }, en)
	if notice.MatchString(page) {
		t.Fatal("an active account's page says it is suspended")
	}

	runCLI(t, s.env, append([]string{"accounts", "suspend", "--account", "acct_demo", "--reason", "chargeback from bank"}, s.store...)...)
	deadline := time.Now().Add(5 * time.Second)
	for {
		o := chat(t.Context(), s.p.base, s.demo, false, 16)
		if o.status == http.StatusForbidden {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a suspended account's request: %d, want 403", o.status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	page = waitFor("the suspension", func(p string) bool { return notice.MatchString(p) }, en)
	n := notice.FindString(page)
	for _, want := range []string{`role="alert"`, "suspended", "403", "account_suspended"} {
		if !strings.Contains(n, want) {
			t.Errorf("the suspension notice does not say %q:\n%s", want, n)
		}
	}
	if strings.Contains(page, "chargeback from bank") {
		t.Error("the customer reads the suspension's internal reason")
	}
	if low.MatchString(page) {
		t.Error("a suspended account's page asks to top up (low balance), as if credit were why requests are refused")
	}
	if i, j := strings.Index(page, `id="suspended-notice"`), strings.Index(page, `id="remaining"`); i < 0 || j < 0 || i > j {
		t.Error("the suspension notice does not come before the credit left")
	}
	if m := regexp.MustCompile(`(?s)<section[^>]*id="remaining"[^>]*>.*?</section>`).FindString(page); !strings.Contains(m, `data-usable="false"`) ||
		!strings.Contains(m, "not usable") {
		t.Errorf("the credit left is not marked unusable:\n%s", m)
	}
	zh := s.page(owner, "/console/accounts/acct_demo?lang=zh-TW")
	if n := notice.FindString(zh); !strings.Contains(n, "已停用") || !strings.Contains(n, "403") {
		t.Errorf("the Chinese notice:\n%s", n)
	}

	runCLI(t, s.env, append([]string{"accounts", "resume", "--account", "acct_demo", "--reason", "paid"}, s.store...)...)
	page = waitFor("the resumption", func(p string) bool { return !notice.MatchString(p) }, en)
	if !low.MatchString(page) || strings.Contains(page, `data-usable="false"`) {
		t.Error("the resumed account's page does not read as before")
	}
}
