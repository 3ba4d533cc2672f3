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

// A key's own figures are never cached, refusals included.
func TestKeyReadsAreNotCached(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for _, c := range []struct {
		path, key string
		want      int
	}{{"/api/v1/key", h.key, 200}, {"/api/v1/key", "", 401}, {"/api/v1/generation?id=gen-none", h.key, 404}} {
		req, _ := http.NewRequest("GET", h.http.URL+c.path, nil)
		if c.key != "" {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: %d, Cache-Control %q", c.path, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
}
