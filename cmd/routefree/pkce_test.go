package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// pkceApp is an app of OpenRouter's OAuth PKCE flow: its verifier, and
// the /auth request carrying its challenge.
type pkceApp struct {
	verifier, path string
}

func newPKCEApp(callback string) pkceApp {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(v))
	q := url.Values{"callback_url": {callback}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	return pkceApp{verifier: v, path: "/auth?" + q.Encode()}
}

// approve answers the /auth page of a signed-in browser with approve and
// returns the code its callback got.
func (s *selfServe) approve(c *http.Client, app pkceApp) string {
	s.t.Helper()
	page := s.page(c, app.path)
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		s.t.Fatal(err)
	}
	form := url.Values{"decision": {"approve"}}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "type") == "hidden" {
			form.Set(attr(n, "name"), attr(n, "value"))
		}
	}
	resp, err := c.PostForm(s.p.base+"/auth", form)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	to, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || to.Host != "app.example" || to.Query().Get("code") == "" {
		s.t.Fatalf("approval: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	return to.Query().Get("code")
}

// exchangeAt posts a code and verifier to base's /api/v1/auth/keys, as an
// app does, with no credential.
func exchangeAt(t *testing.T, base, code, verifier string) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"code": code, "code_verifier": verifier, "code_challenge_method": "S256"})
	return postAuthKeys(t, base, "application/json", string(b))
}

// postAuthKeys posts body, of content type ct, to base's /api/v1/auth/keys.
func postAuthKeys(t *testing.T, base, ct, body string) (int, []byte) {
	t.Helper()
	resp, err := client.Post(base+"/api/v1/auth/keys", ct, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// An OpenRouter app gets a key through OAuth PKCE from a running serve:
// the user, sent to /auth signed out, signs in with the account's
// management key, comes back and approves; the app exchanges the code for
// a key that calls models. The code works once, refusals come in
// OpenRouter's error shape, and a code approved before a restart of a
// serve without Redis is refused after it (the app starts again).
func TestOpenRouterPKCEGivesAppsAWorkingKey(t *testing.T) {
	s := startSelfServe(t)
	app := newPKCEApp("https://app.example/callback")

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(s.p.base + app.path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
		t.Fatalf("signed out: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	m := regexp.MustCompile(`id="signin-csrf" value="([^"]+)"`).FindStringSubmatch(s.page(c, "/console/signin"))
	if m == nil {
		t.Fatal("no sign-in CSRF token")
	}
	resp, err = c.PostForm(s.p.base+"/console/signin", url.Values{"csrf": {m[1]}, "token": {s.owner}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != app.path {
		t.Fatalf("sign-in led to %q, want back to %q", resp.Header.Get("Location"), app.path)
	}

	// A web app may exchange the code from the browser, as OpenRouter
	// allows: the preflight is answered for any origin.
	pre, _ := http.NewRequest(http.MethodOptions, s.p.base+"/api/v1/auth/keys", nil)
	pre.Header.Set("Origin", "https://app.example")
	pre.Header.Set("Access-Control-Request-Method", http.MethodPost)
	pre.Header.Set("Access-Control-Request-Headers", "content-type")
	if resp, err := client.Do(pre); err != nil || resp.StatusCode >= 300 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight of the exchange: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// A browser's fetch with a JSON string as its body and no headers, as
	// OpenRouter's guide once showed it, sends it as text/plain.
	code := s.approve(c, app)
	b, _ := json.Marshal(map[string]string{"code": code, "code_verifier": app.verifier, "code_challenge_method": "S256"})
	status, body := postAuthKeys(t, s.p.base, "text/plain;charset=UTF-8", string(b))
	var got struct {
		Key    string `json:"key"`
		UserID string `json:"user_id"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &got) != nil || got.Key == "" || got.UserID != "acct_demo" {
		t.Fatalf("exchange: %d %s", status, body)
	}
	if o := chat(t.Context(), s.p.base, got.Key, false, 16); o.status != http.StatusOK || !o.complete {
		t.Fatalf("the app's key on /api/v1/chat/completions: %d (%v)", o.status, o.err)
	}

	status, body = exchangeAt(t, s.p.base, code, app.verifier)
	var refusal struct {
		Error struct {
			Code     int            `json:"code"`
			Message  string         `json:"message"`
			Metadata map[string]any `json:"metadata"`
		} `json:"error"`
	}
	if status != http.StatusForbidden || json.Unmarshal(body, &refusal) != nil || refusal.Error.Code != http.StatusForbidden ||
		!strings.HasPrefix(refusal.Error.Message, "Invalid code or code_verifier") || refusal.Error.Metadata == nil {
		t.Fatalf("the same code again: %d %s", status, body)
	}
	// Bodies that are not an exchange are refused in the same shape.
	for _, bad := range []struct {
		ct, body string
		status   int
	}{
		{"application/json", `{"code":`, http.StatusBadRequest},
		{"application/json", `[1]`, http.StatusBadRequest},
		{"application/json", `{"code":123}`, http.StatusBadRequest},
		{"application/json", `{"code":"x"}{"code":"y"}`, http.StatusBadRequest},
		{"application/json", `{}`, http.StatusBadRequest},
		{"application/json", `{"code":"x","code_challenge_method":"S512"}`, http.StatusBadRequest},
		{"application/x-www-form-urlencoded", "code=x&code_verifier=y", http.StatusBadRequest},
		{"application/json", `{"code":"` + strings.Repeat("x", 2<<20) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		refusal.Error.Code, refusal.Error.Message, refusal.Error.Metadata = 0, "", nil
		status, body := postAuthKeys(t, s.p.base, bad.ct, bad.body)
		if status != bad.status || json.Unmarshal(body, &refusal) != nil || refusal.Error.Code != bad.status || refusal.Error.Message == "" || refusal.Error.Metadata == nil {
			t.Errorf("%s %.40s: %d %.200s, want %d in OpenRouter's error shape", bad.ct, bad.body, status, body, bad.status)
		}
	}

	if resp, err := client.Get(s.p.base + "/api/v1/auth/keys"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /api/v1/auth/keys: %v %v, want 405 as OpenRouter answers", resp, err)
	} else {
		resp.Body.Close()
	}

	wrong := newPKCEApp("https://app.example/callback")
	code = s.approve(c, wrong)
	if status, body := exchangeAt(t, s.p.base, code, app.verifier); status != http.StatusForbidden {
		t.Fatalf("another app's verifier: %d %s", status, body)
	}

	// A serve without Redis keeps codes in its memory: one approved before
	// a restart is refused after it.
	code = s.approve(c, app)
	if exit := s.p.stop(syscall.SIGTERM, 30*time.Second); exit != 0 {
		t.Fatalf("serve exited %d", exit)
	}
	again := startServe(t, s.env, s.store...)
	if status, body := exchangeAt(t, again.base, code, app.verifier); status != http.StatusForbidden {
		t.Fatalf("a code approved before a restart: %d %s", status, body)
	}
}
