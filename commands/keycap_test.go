package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// liveKeys counts an account's keys that are not revoked, from history.
func liveKeys(t *testing.T, h *Handler, acct string) int {
	t.Helper()
	live := map[string]bool{}
	for _, e := range all(t, h) {
		switch e.Type {
		case domain.TypeKeyIssued, domain.TypeKeyRevoked:
		default:
			continue
		}
		d, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			t.Fatal(err)
		}
		switch v := d.(type) {
		case *domain.KeyIssued:
			if v.AccountID == acct {
				live[v.KeyID] = true
			}
		case *domain.KeyRevoked:
			delete(live, v.KeyID)
		}
	}
	return len(live)
}

// An account holds at most the configured number of live keys: one more
// is refused, naming the cap and the setting that raises it, and writes
// nothing; revoking a key frees its place.
func TestAnAccountsLiveKeysAreCapped(t *testing.T) {
	ctx := context.Background()
	h := newHandler(t)
	h.MaxKeysPerAccount = 3
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	other := mustOpen(t, ctx, h, domain.PlanStarter)
	var ids []string
	for i := range 3 {
		id, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: fmt.Sprint("k", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	before := len(all(t, h))
	_, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "one too many"})
	wantRefused(t, h, before, err, ErrKeyCap, "3 live keys")
	for _, says := range []string{"max-keys-per-account", "ROUTEFREE_MAX_KEYS_PER_ACCOUNT", "revoke"} {
		if !strings.Contains(err.Error(), says) {
			t.Errorf("refusal %q does not say %q", err, says)
		}
	}
	// Another account is not held to this one's keys.
	if _, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: other, Name: "theirs"}); err != nil {
		t.Fatalf("another account's key: %v", err)
	}
	if err := h.RevokeKey(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "in its place"}); err != nil {
		t.Fatalf("a key in a revoked one's place: %v", err)
	}
	if n := liveKeys(t, h, acct); n != 3 {
		t.Fatalf("%d live keys, want 3", n)
	}
}

// Keys issued before the cap was kept count towards it: an account that
// already holds them gets no more.
func TestKeysIssuedBeforeTheCapCount(t *testing.T) {
	ctx := context.Background()
	h := newHandler(t)
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	// Written as an older release wrote them: the key's stream alone.
	for i := range 3 {
		k := domain.KeyIssued{KeyID: fmt.Sprint("key_old", i), AccountID: acct, Hash: fmt.Sprint("h", i), Prefix: "sk-rf-old…"}
		if _, err := h.append(ctx, domain.KeyStream(k.KeyID), expectAfter(-1), domain.EventID(domain.TypeKeyIssued, k.KeyID), &k); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.RevokeKey(ctx, "key_old0"); err != nil {
		t.Fatal(err)
	}
	h.MaxKeysPerAccount = 3
	if _, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "third"}); err != nil {
		t.Fatalf("a third live key: %v", err)
	}
	_, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "fourth"})
	if !errors.Is(err, ErrKeyCap) {
		t.Fatalf("a fourth live key beside two older ones: %v, want the cap's refusal", err)
	}
	if err := h.RevokeKey(ctx, "key_old1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "fourth"}); err != nil {
		t.Fatalf("after an older key is revoked: %v", err)
	}
}

// Processes issuing keys for one account at once, on one store, never
// take it past its cap together: SQLite and PostgreSQL.
func TestTheKeyCapHoldsAcrossProcesses(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			ctx := context.Background()
			s, reopen := kind.open(t)
			setup := &Handler{Store: s, Now: func() time.Time { return t0 }}
			acct := mustOpen(t, ctx, setup, domain.PlanStarter)
			const limit, procs, each = 5, 4, 4
			issued, refused := issueAtOnce(t, reopen, setup.Now, limit, acct, procs, each)
			if n := liveKeys(t, &Handler{Store: reopen()}, acct); issued != limit || n != limit || refused != procs*each-limit {
				t.Fatalf("%d issued, %d refused, %d live keys; want %d issued and live, %d refused", issued, refused, n, limit, procs*each-limit)
			}
		})
	}
}

// issueAtOnce issues each keys from each of procs processes of their own
// (a handler on its own store opened by reopen), all at once, under a cap
// of limit live keys, and counts those issued and those refused at the cap.
func issueAtOnce(t *testing.T, reopen func() eventstore.Store, now func() time.Time, limit int, acct string, procs, each int) (issued, refused int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for p := range procs {
		h := &Handler{Store: reopen(), Now: now, MaxKeysPerAccount: limit}
		for i := range each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := h.IssueKey(context.Background(), domain.KeyIssued{AccountID: acct, Name: fmt.Sprint("p", p, "-", i)})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					issued++
				case errors.Is(err, ErrKeyCap):
					refused++
				default:
					t.Errorf("issue: %v", err)
				}
			}()
		}
	}
	wg.Wait()
	return issued, refused
}
