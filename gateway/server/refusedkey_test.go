package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestRefusedKeysAnswer401 checks that a disabled or a revoked key gets
// OpenRouter's status for a key it will not take, 401 with the error's code
// 401, on the model endpoints and the account ones alike, the message
// saying why (OpenRouter documents a rejected credential as 401; a 403
// there means a key that may not do this one thing).
func TestRefusedKeysAnswer401(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	chat := `{"model":"test/openai","messages":[{"role":"user","content":"x"}]}`
	check := func(state, why string) {
		t.Helper()
		resp, body := h.post(chat)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s key, chat: %d %s", state, resp.StatusCode, body)
		}
		e := decodeError(t, body)
		if e.Error.Code != http.StatusUnauthorized || !strings.Contains(e.Error.Message, why) {
			t.Fatalf("%s key, chat's error: %s", state, body)
		}
		for _, path := range []string{"/api/v1/key", "/api/v1/credits"} {
			if code, b := h.getJSON(path, h.key); code != http.StatusUnauthorized {
				t.Fatalf("%s key, %s: %d %v", state, path, code, b)
			}
		}
	}
	if err := h.cmds.SetKeyDisabled(t.Context(), h.keyID, true); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	check("disabled", "this API key is disabled")
	if err := h.cmds.RevokeKey(t.Context(), h.keyID); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	check("revoked", "this API key has been revoked")
}
