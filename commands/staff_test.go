package commands

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// openHandlers opens the SQLite file at path n times, one handler each, as
// n processes (the CLI beside serve, two consoles) would.
func openHandlers(t *testing.T, path string, n int) []*Handler {
	t.Helper()
	var hs []*Handler
	for range n {
		s, err := sqlite.Open(path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		hs = append(hs, &Handler{Store: s, Now: time.Now})
	}
	return hs
}

// activeAdmins counts the admin tokens not revoked, from the whole history
// of the file read by a store opened afresh (a replay).
func activeAdmins(t *testing.T, path string) int {
	t.Helper()
	h := openHandlers(t, path, 1)[0]
	tokens, err := h.ListStaffTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tok := range tokens {
		if tok.Role == "admin" && !tok.Revoked {
			n++
		}
	}
	return n
}

// TestConcurrentAdminRevocationsKeepOneAdmin revokes every admin token at
// once, from two handlers on one file (two processes), one of them deciding
// from a read model that has not seen any revocation yet: exactly one
// admin token survives, every other revocation succeeds, and the history
// read afresh says the same.
func TestConcurrentAdminRevocationsKeepOneAdmin(t *testing.T) {
	const n = 6
	for round := range 3 {
		path := filepath.Join(t.TempDir(), "events.db")
		hs := openHandlers(t, path, 2)
		ctx := context.Background()
		var ids []string
		for range n {
			id, _, err := hs[0].IssueStaffToken(ctx, "admin", "admin")
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		// A read model that lags: it still lists every token as active.
		stale, err := hs[1].ListStaffTokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		hs[1].StaffTokens = func(context.Context) ([]StaffToken, error) { return stale, nil }

		errs := make([]error, n)
		var start, wg sync.WaitGroup
		start.Add(1)
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				errs[i] = hs[i%2].RevokeStaffToken(ctx, id)
			}()
		}
		start.Done()
		wg.Wait()

		refused := 0
		for i, err := range errs {
			switch {
			case err == nil:
			case errors.Is(err, ErrConflict) && strings.Contains(err.Error(), "last admin token"):
				refused++
			default:
				t.Fatalf("round %d: revoking %s: %v", round, ids[i], err)
			}
		}
		if refused != 1 {
			t.Errorf("round %d: %d revocations refused, want exactly 1 (the last admin)", round, refused)
		}
		if got := activeAdmins(t, path); got != 1 {
			t.Fatalf("round %d: %d admin tokens left active, want 1", round, got)
		}
	}
}

// TestRevokedAdminTokenStaysRevoked: an admin token revoked once is
// revoked for good: revoking it again is harmless, and registering its
// secret again is refused.
func TestRevokedAdminTokenStaysRevoked(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	secret := StaffTokenPrefix + strings.Repeat("x", 40)
	id, err := h.RegisterStaffToken(ctx, "admin", "env", secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.IssueStaffToken(ctx, "admin", "second"); err != nil {
		t.Fatal(err)
	}
	if err := h.RevokeStaffToken(ctx, id); err != nil {
		t.Fatal(err)
	}
	n := len(all(t, h))
	if err := h.RevokeStaffToken(ctx, id); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if _, err := h.RegisterStaffToken(ctx, "admin", "env", secret); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("registering a revoked admin token again: %v", err)
	}
	if m := len(all(t, h)); m != n {
		t.Fatalf("%d events appended by a second revocation and a refused registration", m-n)
	}
	tokens, err := h.ListStaffTokens(ctx)
	if err != nil || len(tokens) != 2 || !tokens[0].Revoked || tokens[1].Revoked {
		t.Fatalf("tokens %+v, %v", tokens, err)
	}
}

// TestStaffTokenListNamesWhoRevoked: the list read from history names who
// revoked a token, as it names who issued it.
func TestStaffTokenListNamesWhoRevoked(t *testing.T) {
	h := openHandlers(t, filepath.Join(t.TempDir(), "events.db"), 1)[0]
	admin := domain.Actor{Kind: domain.ActorCLI, ID: "alice"}
	ctx := WithActor(context.Background(), admin)
	id, _, err := h.IssueStaffToken(ctx, "auditor", "稽核")
	if err != nil {
		t.Fatal(err)
	}
	by := domain.Actor{Kind: domain.ActorStaff, ID: "stf_1", Role: "admin"}
	if err := h.RevokeStaffToken(WithActor(context.Background(), by), id); err != nil {
		t.Fatal(err)
	}
	tokens, err := h.ListStaffTokens(context.Background())
	if err != nil || len(tokens) != 1 {
		t.Fatalf("%d tokens, %v", len(tokens), err)
	}
	tok := tokens[0]
	if tok.IssuedBy != admin || !tok.Revoked || tok.RevokedAt.IsZero() || tok.RevokedBy == nil || *tok.RevokedBy != by {
		t.Fatalf("listed as %+v (revoked by %v)", tok, tok.RevokedBy)
	}
}
