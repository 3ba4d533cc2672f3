package server

import (
	"net/http"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A management key issues and revokes keys; it calls no model. The gateway
// refuses it before any upstream is called.
func TestManagementKeyCannotCallModels(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	_, secret, err := h.cmds.IssueKey(t.Context(), domain.KeyIssued{AccountID: h.account, Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	resp, body := h.postKey(secret, `{"model":"test/openai","messages":[{"role":"user","content":"x"}]}`)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("management key on chat: %d %s", resp.StatusCode, body)
	}
	if e := decodeError(t, body); e.Error.Code != http.StatusForbidden {
		t.Fatalf("error body %s", body)
	}
	if n := len(h.fakes["openai"].Received()); n != 0 {
		t.Fatalf("the upstream was called %d times", n)
	}
	// The account's inference key still works.
	if resp, body := h.post(`{"model":"test/openai","messages":[{"role":"user","content":"x"}]}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("inference key: %d %s", resp.StatusCode, body)
	}
}
