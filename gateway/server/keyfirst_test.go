package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Every endpoint checks the key before it reads the body: without a key, a
// body that is not even JSON gets 401, not the 400 its parsing would give,
// and no upstream is called.
func TestKeyIsCheckedBeforeTheBodyOnEveryEndpoint(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/chat/completions", `"error":{`},
		{"/api/v1/embeddings", `"error":{`},
		{"/api/v1/completions", `"error":{`},
		{"/api/v1/messages", `"authentication_error"`},
	} {
		for _, key := range []string{"", "sk-rf-not-a-key"} {
			req, _ := http.NewRequest("POST", h.http.URL+tc.path, strings.NewReader(`{"model": [[[ not json`))
			if key != "" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), tc.want) {
				t.Errorf("%s with key %q: %d %s", tc.path, key, resp.StatusCode, b)
			}
		}
	}
	for name, f := range h.fakes {
		if n := len(f.Received()); n != 0 {
			t.Fatalf("fake %s called %d times", name, n)
		}
	}
}
