package server

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
)

// TestExpiredKeyIsRefused: a key issued with an expiry works until that
// instant and is refused from it on, with a 401 that says when it expired,
// on the model endpoints and on /key; nothing is billed for the refusal.
func TestExpiredKeyIsRefused(t *testing.T) {
	var now atomic.Int64
	start := time.Now().UTC().Truncate(time.Second)
	now.Store(start.UnixNano())
	h := newHarness(t, harnessOpts{cfg: Config{Now: func() time.Time { return time.Unix(0, now.Load()) }}})
	expires := start.Add(time.Hour)
	_, key, err := h.cmds.IssueKey(context.Background(), domain.KeyIssued{AccountID: h.account, Name: "until ten", ExpiresAt: &expires})
	if err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	body := `{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`
	if resp, b := h.postKey(key, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("before its expiry: %d %s", resp.StatusCode, b)
	}
	now.Store(expires.UnixNano())
	billed := len(h.completed())
	resp, b := h.postKey(key, body)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("at its expiry: %d %s", resp.StatusCode, b)
	}
	e := decodeError(t, b)
	if e.Error.Code != 401 || e.Error.Metadata["expired_at"] != expires.Format(time.RFC3339) {
		t.Fatalf("the refusal of an expired key: %s", b)
	}
	h.catchUp()
	if n := len(h.completed()); n != billed {
		t.Fatalf("%d requests billed after the refusal, %d before", n, billed)
	}
	if st, _ := h.rawGet("/api/v1/key", key); st != http.StatusUnauthorized {
		t.Fatalf("/key with an expired key: %d", st)
	}
}

// TestKeyExpiryIsInTheFuture: a key cannot be issued already expired.
func TestKeyExpiryIsInTheFuture(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	past := time.Now().Add(-time.Minute)
	if _, _, err := h.cmds.IssueKey(context.Background(), domain.KeyIssued{AccountID: h.account, Name: "late", ExpiresAt: &past}); err == nil {
		t.Fatal("a key issued with an expiry in the past")
	}
}
