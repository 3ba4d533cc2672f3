package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/internal/testenv"
)

// One account keeps at most maxGrantsPerAccount grants waiting, in this
// process's memory and in Redis alike: its next is refused with
// errTooManyWaiting while another account's are kept, and a grant taken
// or expired makes room again.
func TestGrantsAreBoundedPerAccount(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	stores := map[string]func(t *testing.T) grantStore{
		"memory": func(*testing.T) grantStore { return &memoryGrants{} },
		"redis": func(t *testing.T) grantStore {
			rdb, prefix := testenv.Redis(t)
			return &redisGrants{rdb: rdb, prefix: prefix, name: "authapproval"}
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			grant := func(acct string, life time.Duration) authGrant {
				return authGrant{AccountID: acct, Expires: at.Add(life).UnixMilli()}
			}
			for i := range maxGrantsPerAccount {
				life := time.Hour
				if i == 0 {
					life = time.Minute // expires first
				}
				if err := s.put(ctx, fmt.Sprint("a", i), grant("acct_a", life), at); err != nil {
					t.Fatalf("put %d: %v", i, err)
				}
			}
			err := s.put(ctx, "a-more", grant("acct_a", time.Hour), at)
			if !errors.Is(err, errTooManyWaiting) {
				t.Fatalf("one grant past the account's bound: %v, want errTooManyWaiting", err)
			}
			if _, ok, _ := s.get(ctx, "a-more"); ok {
				t.Fatal("the refused grant was kept")
			}
			// Put again under its ID, a grant takes no more room.
			if err := s.put(ctx, "a5", grant("acct_a", time.Hour), at); err != nil {
				t.Fatalf("a grant kept again: %v", err)
			}
			if err := s.put(ctx, "b0", grant("acct_b", time.Hour), at); err != nil {
				t.Fatalf("another account's grant beside a full one: %v", err)
			}
			if _, ok, err := s.take(ctx, "a7"); !ok || err != nil {
				t.Fatalf("take a7: %v %v", ok, err)
			}
			if err := s.put(ctx, "a-more", grant("acct_a", time.Hour), at); err != nil {
				t.Fatalf("a grant in the room a take left: %v", err)
			}
			if err := s.put(ctx, "a-again", grant("acct_a", time.Hour), at); !errors.Is(err, errTooManyWaiting) {
				t.Fatalf("past the bound again: %v", err)
			}
			later := at.Add(2 * time.Minute) // a0 expired
			if err := s.put(ctx, "a-again", grant("acct_a", time.Hour), later); err != nil {
				t.Fatalf("a grant in the room an expiry left: %v", err)
			}
		})
	}
}

// An account that has used up its approvals waiting is told so (429, in
// the page's language) and its app gets no code, while another account's
// owner approves as usual: one customer approving in a loop does not stop
// the others.
func TestAuthApprovalsOfOneAccountDoNotStarveAnother(t *testing.T) {
	e := newEnv(t, false)
	busy, other := e.browser(), e.browser()
	busy.signIn(pkceOwner(e, "acct_busy"))
	other.signIn(pkceOwner(e, "acct_other"))
	_, challenge := pkcePair(t)
	path := authURL("https://app.example/cb", challenge, "S256")
	for i := range maxGrantsPerAccount {
		if code := busy.decide(path, "approve").Query().Get("code"); code == "" {
			t.Fatalf("approval %d: no code", i)
		}
	}
	for lang, says := range map[string]string{"zh-TW": "等待交換", "en": "waiting for their apps to exchange them"} {
		v := busy.approveForm(path + "&lang=" + lang)
		v.Set("decision", "approve")
		resp, page := busy.post("/auth", v)
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("approval past the account's bound (%s): %d to %q, want 429", lang, resp.StatusCode, resp.Header.Get("Location"))
		}
		if msg, untranslated := errorOf(t, page); untranslated || !strings.Contains(msg, says) {
			t.Errorf("approval past the bound (%s): %q (general text: %v), want %q", lang, msg, untranslated, says)
		}
	}
	if code := other.decide(path, "approve").Query().Get("code"); code == "" {
		t.Fatal("another account's approval got no code")
	}
}

// An approval the exchange would refuse is refused at once: a management
// key limited to NT$1,000 a month that already made a key of NT$1,000 has
// nothing left to give an app's key, and the app gets no code.
func TestAuthApprovalPastTheManagementKeysShareIsRefusedAtOnce(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_share", "分攤公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_share", Name: "contractor", Management: true,
		SpendLimit: mustDec("1000"), SpendPeriod: "monthly"})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	b := e.browser()
	b.signIn(mgmt)
	_, challenge := pkcePair(t)
	path := authURL("https://app.example/cb", challenge, "S256")
	if code := b.decide(path, "approve").Query().Get("code"); code == "" {
		t.Fatal("a first approval got no code")
	}
	if code, body := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "all of it", "limit": 1000, "limit_reset": "monthly"}); code != http.StatusCreated {
		t.Fatalf("a key of the whole limit: %d %s", code, body)
	}
	v := b.approveForm(path)
	v.Set("decision", "approve")
	resp, page := b.post("/auth", v)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an approval with nothing left to share: %d to %q, want 403", resp.StatusCode, resp.Header.Get("Location"))
	}
	if msg, untranslated := errorOf(t, page); untranslated || !strings.Contains(msg, "NT$0.00") {
		t.Errorf("refusal: %q (general text: %v), want what is left", msg, untranslated)
	}
}
