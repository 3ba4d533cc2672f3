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

// TestMovedKeyExpiryHoldsOnTheNextRequest: an expiry moved sooner refuses
// the key from the new instant on, and one cleared lets it work again,
// from the next request, as the key projection reads the change.
func TestMovedKeyExpiryHoldsOnTheNextRequest(t *testing.T) {
	var now atomic.Int64
	start := time.Now().UTC().Truncate(time.Second)
	now.Store(start.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	h := newHarness(t, harnessOpts{cfg: Config{Now: clock}})
	h.cmds.Now = clock
	later, sooner := start.Add(2*time.Hour), start.Add(time.Hour)
	id, key, err := h.cmds.IssueKey(context.Background(), domain.KeyIssued{AccountID: h.account, Name: "contractor", ExpiresAt: &later})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.cmds.ChangeKeyExpiry(context.Background(), id, &sooner, nil); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	body := `{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`
	now.Store(sooner.UnixNano())
	resp, b := h.postKey(key, body)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("at the moved expiry: %d %s", resp.StatusCode, b)
	}
	if e := decodeError(t, b); e.Error.Metadata["expired_at"] != sooner.Format(time.RFC3339) {
		t.Fatalf("the refusal names %v, want %s", e.Error.Metadata["expired_at"], sooner.Format(time.RFC3339))
	}
	if err := h.cmds.ChangeKeyExpiry(context.Background(), id, nil, nil); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	if resp, b := h.postKey(key, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("with its expiry cleared: %d %s", resp.StatusCode, b)
	}
	if code, got := h.getJSON("/api/v1/key", key); code != http.StatusOK || got["data"].(map[string]any)["expires_at"] != nil {
		t.Fatalf("/key with its expiry cleared: %d %v", code, got)
	}
	// Set again: a past instant is refused, a future one holds.
	past := sooner.Add(-time.Minute)
	if err := h.cmds.ChangeKeyExpiry(context.Background(), id, &past, nil); err == nil {
		t.Fatal("an expiry in the past was taken")
	}
}
