package server

import (
	"encoding/json"
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

// A management key limited to some models reads the requests of the keys
// within its limits alone, as the keys list and the activity API show it
// only those keys: GET /generation answered it any request of its account,
// those of keys it may not see included. An unlimited management key and
// the account's inference keys still read every request of the account.
func TestALimitedManagementKeyReadsOnlyTheGenerationsOfItsKeys(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	issue := func(k domain.KeyIssued) string {
		k.AccountID = h.account
		_, secret, err := h.cmds.IssueKey(t.Context(), k)
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	lead := issue(domain.KeyIssued{Name: "team lead", Management: true, Models: []string{"test/openai"}})
	owner := issue(domain.KeyIssued{Name: "owner", Management: true})
	within := issue(domain.KeyIssued{Name: "team's", Models: []string{"test/openai"}})
	h.catchUp()
	ask := func(key string) string {
		resp, body := h.postKey(key, `{"model":"test/openai","messages":[{"role":"user","content":"x"}]}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request: %d %s", resp.StatusCode, body)
		}
		return resp.Header.Get("X-Request-Id")
	}
	outsideID, withinID := ask(h.key), ask(within) // h.key may call every model: beyond the lead's limits
	for _, c := range []struct {
		who, key, id string
		want         int
	}{
		{"the lead, its team's request", lead, withinID, http.StatusOK},
		{"the lead, another key's request", lead, outsideID, http.StatusNotFound},
		{"the owner, the team's request", owner, withinID, http.StatusOK},
		{"the owner, the other request", owner, outsideID, http.StatusOK},
		{"an inference key, another key's request", h.key, withinID, http.StatusOK},
	} {
		code, body := h.getJSON("/api/v1/generation?id="+c.id, c.key)
		if code != c.want {
			t.Errorf("%s: %d %v; want %d", c.who, code, body, c.want)
		}
		if code == http.StatusNotFound {
			if e, _ := body["error"].(map[string]any); e == nil || e["code"] != json.Number("404") {
				t.Errorf("%s: %v; want the error shape with code 404", c.who, body)
			}
		}
	}
}
