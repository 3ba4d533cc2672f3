package commands

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
)

// asKey is a context under which the key keyID acts, as the console and
// /api/v1/keys set it for a customer's management key.
func asKey(keyID string) context.Context {
	return WithActor(context.Background(), domain.Actor{Kind: domain.ActorKey, ID: keyID})
}

// issueLimited issues a monthly-limited key for acct under ctx.
func issueLimited(ctx context.Context, h *Handler, acct, name, limit string) (string, error) {
	id, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: name, SpendLimit: dec(limit), SpendPeriod: "monthly"})
	return id, err
}

// The spending limits a management key gives the keys it makes add up to
// at most its own, over the same period: a contractor's key limited to
// NT$1,000 a month cannot make two keys of NT$1,000 each. Revoking one of
// them frees its share; keys others made do not count; lowering a limit
// is always allowed, raising one only within what is left.
func TestAManagementKeysLimitBoundsTheSumOfItsKeys(t *testing.T) {
	h := newHandler(t)
	op := WithActor(context.Background(), domain.Actor{Kind: domain.ActorCLI, ID: "root"})
	acct := mustOpen(t, op, h, domain.PlanStarter)
	mgmt, _, err := h.IssueKey(op, domain.KeyIssued{AccountID: acct, Name: "contractor", Management: true, SpendLimit: dec("1000"), SpendPeriod: "monthly"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := issueLimited(op, h, acct, "operator's", "5000"); err != nil {
		t.Fatal(err)
	}
	as := asKey(mgmt)
	first, err := issueLimited(as, h, acct, "first", "600")
	if err != nil {
		t.Fatal(err)
	}
	before := len(all(t, h))
	_, err = issueLimited(as, h, acct, "second", "500")
	wantRefused(t, h, before, err, domain.ErrKeyScope, "NT$600")
	second, err := issueLimited(as, h, acct, "second", "400")
	if err != nil {
		t.Fatalf("a key within what is left: %v", err)
	}
	// Raising a key it made past what is left is refused; lowering is not.
	raise := domain.KeyChanged{KeyID: second, Name: "second", SpendLimit: dec("401"), SpendPeriod: "monthly"}
	if err := h.ChangeKey(as, raise, nil); !errors.Is(err, domain.ErrKeyScope) {
		t.Fatalf("raising a key past the management key's limit: %v, want refused", err)
	}
	lower := domain.KeyChanged{KeyID: second, Name: "second", SpendLimit: dec("300"), SpendPeriod: "monthly"}
	if err := h.ChangeKey(as, lower, nil); err != nil {
		t.Fatalf("lowering a key's limit: %v", err)
	}
	if _, err := issueLimited(as, h, acct, "third", "101"); !errors.Is(err, domain.ErrKeyScope) {
		t.Fatalf("past the share after a lowering: %v, want refused", err)
	}
	if err := h.RevokeKey(as, first); err != nil {
		t.Fatal(err)
	}
	if _, err := issueLimited(as, h, acct, "third", "700"); err != nil {
		t.Fatalf("after a key it made is revoked, its share is free: %v", err)
	}
}

// Several processes making keys with one management key at once cannot
// give them more than its limit together: SQLite and PostgreSQL.
func TestAManagementKeysShareHoldsAcrossProcesses(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			s, reopen := kind.open(t)
			setup := &Handler{Store: s, Now: func() time.Time { return t0 }}
			acct := mustOpen(t, context.Background(), setup, domain.PlanStarter)
			mgmt, _, err := setup.IssueKey(context.Background(), domain.KeyIssued{AccountID: acct, Name: "m", Management: true, SpendLimit: dec("1000"), SpendPeriod: "monthly"})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			made := 0
			for p := range 4 {
				h := &Handler{Store: reopen(), Now: setup.Now}
				for i := range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, err := issueLimited(asKey(mgmt), h, acct, fmt.Sprint(p, "-", i), "400")
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							made++
						case !errors.Is(err, domain.ErrKeyScope):
							t.Errorf("issue: %v", err)
						}
					}()
				}
			}
			wg.Wait()
			if made != 2 {
				t.Fatalf("%d keys of NT$400 made under a NT$1,000 management key, want 2", made)
			}
		})
	}
}
