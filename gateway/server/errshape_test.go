package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Every error of the gateway, its own refusals and echo's alike (an
// unknown route, a wrong method, no key), carries code, message and a
// metadata object, as the documented shape says.
func TestEveryErrorCarriesMetadata(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	cases := []struct {
		name, method, path, key, body string
		status                        int
	}{
		{"no key", "POST", "/api/v1/chat/completions", "", `{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`, 401},
		{"wrong key", "POST", "/api/v1/chat/completions", "sk-rf-nope", `{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`, 401},
		{"unknown route", "GET", "/api/v1/nowhere", h.key, "", 404},
		{"wrong method", "GET", "/api/v1/chat/completions", h.key, "", 405},
		{"bad JSON", "POST", "/api/v1/chat/completions", h.key, `{`, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, h.http.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			if c.key != "" {
				req.Header.Set("Authorization", "Bearer "+c.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b struct {
				Error map[string]json.RawMessage `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.status || string(b.Error["code"]) != strings.TrimSpace(jsonInt(c.status)) {
				t.Fatalf("status %d, code %s; want %d", resp.StatusCode, b.Error["code"], c.status)
			}
			if m := b.Error["metadata"]; len(m) == 0 || m[0] != '{' {
				t.Errorf("error %v has no metadata object", b.Error)
			}
			if len(b.Error["message"]) < 3 {
				t.Errorf("error %v has no message", b.Error)
			}
		})
	}
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }
