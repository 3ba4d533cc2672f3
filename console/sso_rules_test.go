package console

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/redis/go-redis/v9"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/internal/testenv"
)

// signedInBySSO signs a person in through e's OIDC provider m over plain HTTP
// and returns the session cookie's value and its CSRF token.
func signedInBySSO(t *testing.T, e *env, m *mockoidc.MockOIDC, user *mockoidc.MockUser) (sid, csrf string) {
	t.Helper()
	b := browserBySSO(t, e, m, user)
	_, page := b.get("/models")
	return b.cookie(sessionCookie), attrOf(t, page, "input", "name", "csrf", "value")
}

// browserBySSO is a browser signed in through e's OIDC provider m.
func browserBySSO(t *testing.T, e *env, m *mockoidc.MockOIDC, user *mockoidc.MockUser) *browser {
	t.Helper()
	m.QueueUser(user)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(e.srv.URL + "/console/sso/oidc")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	b := &browser{e: e, c: c, jar: jar}
	if b.cookie(sessionCookie) == "" {
		t.Fatalf("single sign-on of %s started no session (status %d)", user.Subject, resp.StatusCode)
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return b
}

// restarted is e's console started again on the same store and the same
// Redis (where its sessions are), with the single sign-on that configure
// sets up: the operator's settings after a restart.
func restarted(t *testing.T, e *env, rdb *redis.Client, prefix string, configure func(d *Deps)) *httptest.Server {
	t.Helper()
	authB := NewAuthenticator(e.views, e.models.Keys).WithClock(e.clock.Now)
	authB.Share(rdb, prefix)
	d := e.deps
	d.Auth, d.OIDC, d.SAML = authB, nil, nil
	configure(&d)
	ech := echo.New()
	if err := Register(ech, d); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ech)
	t.Cleanup(srv.Close)
	return srv
}

// openAccountAt opens an account through the admin API of srv with a
// session, as a signed-in page's script would.
func openAccountAt(t *testing.T, srv *httptest.Server, sid, csrf string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/admin/api/accounts", strings.NewReader(`{"organisation":"留任測試有限公司","plan":"starter"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sid})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A person signed in through single sign-on keeps their session only while
// the operator's settings still map them as they did: the rule that gave
// them their role (or account) removed or changed, or single sign-on turned
// off, ends the session at its next request, on every instance sharing it.
// Otherwise an admin the operator has just taken out of the rules would go
// on acting for the rest of their twelve hours.
func TestSSOSessionEndsWhenItsRuleIsGone(t *testing.T) {
	e, m := oidcEnv(t)
	rdb, prefix := testenv.Redis(t)
	e.deps.Auth.Share(rdb, prefix)
	admin := &mockoidc.MockUser{Subject: "staff-0099", Email: "lin@routefree.example", EmailVerified: true, Groups: []string{"rf-admins"}}
	withMapping := func(roles, accounts string) func(d *Deps) {
		return func(d *Deps) {
			mp, err := auth.ParseMapping(roles, accounts)
			if err != nil {
				t.Fatal(err)
			}
			cfg := m.Config()
			o, err := auth.NewOIDC(auth.OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
				RedirectURL: e.srv.URL + "/console/sso/oidc/callback", Mapping: mp})
			if err != nil {
				t.Fatal(err)
			}
			d.OIDC = o
		}
	}
	for _, tc := range []struct {
		name      string
		configure func(d *Deps)
		keeps     bool
	}{
		{"settings unchanged", withMapping("groups:rf-admins=admin, eduPersonAffiliation:rf-finance=finance", "email_domain:acme.example=acct_acme"), true},
		{"the group now maps to auditor", withMapping("groups:rf-admins=auditor", "email_domain:acme.example=acct_acme"), false},
		{"the group's rule removed", withMapping("eduPersonAffiliation:rf-finance=finance", "email_domain:acme.example=acct_acme"), false},
		{"single sign-on turned off", func(*Deps) {}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sid, csrf := signedInBySSO(t, e, m, admin)
			srv := restarted(t, e, rdb, prefix, tc.configure)
			status, body := openAccountAt(t, srv, sid, csrf)
			switch {
			case tc.keeps && status != http.StatusCreated:
				t.Fatalf("with the settings unchanged the admin's session opens no account: %d %s", status, body)
			case !tc.keeps && status != http.StatusUnauthorized:
				t.Fatalf("the admin's session still acts (%d %s): want 401, the rule that made them admin is no longer configured", status, body)
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/console/accounts", nil)
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sid})
			resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.StatusCode == http.StatusOK; got != tc.keeps {
				t.Fatalf("the accounts page with the session: %d, want it shown: %v", resp.StatusCode, tc.keeps)
			}
		})
	}

	// The account's owner likewise: their account's rule now names
	// another account, and their session no longer reaches theirs.
	t.Run("a customer's account rule moved", func(t *testing.T) {
		owner := &mockoidc.MockUser{Subject: "cust-0099", Email: "mei@acme.example", EmailVerified: true}
		sid, csrf := signedInBySSO(t, e, m, owner)
		srv := restarted(t, e, rdb, prefix, withMapping("groups:rf-admins=admin", "email_domain:acme.example=acct_other"))
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/admin/api/accounts/acct_acme/keys", strings.NewReader(`{"name":"after"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sid})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("the former owner's session issues a key of acct_acme: %d, want 401", resp.StatusCode)
		}
	})

	// An app's key the owner approved is issued at the app's exchange, as
	// the owner: by then their rule must still make them the owner.
	for _, tc := range []struct {
		name, accounts string
		issues         bool
	}{
		{"an approval exchanged with the rules unchanged", "email_domain:acme.example=acct_acme", true},
		{"an approval exchanged after the owner's rule moved", "email_domain:acme.example=acct_other", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			owner := &mockoidc.MockUser{Subject: "cust-0100", Email: "wu@acme.example", EmailVerified: true}
			b := browserBySSO(t, e, m, owner)
			verifier, challenge := pkcePair(t)
			code := b.decide(authURL("https://app.example/cb", challenge, "S256"), "approve").Query().Get("code")
			srv := restarted(t, e, rdb, prefix, withMapping("groups:rf-admins=admin", tc.accounts))
			before := countEvents(e, domain.TypeKeyIssued)
			resp, err := http.Post(srv.URL+"/api/v1/auth/keys", "application/json",
				strings.NewReader(`{"code":"`+code+`","code_verifier":"`+verifier+`","code_challenge_method":"S256"}`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			issued := countEvents(e, domain.TypeKeyIssued) - before
			switch {
			case tc.issues && (resp.StatusCode != http.StatusOK || issued != 1):
				t.Fatalf("exchange: %d %s, %d keys issued; want 200 and one key", resp.StatusCode, body, issued)
			case !tc.issues && (resp.StatusCode != http.StatusForbidden || issued != 0):
				t.Fatalf("exchange after the approver's rule moved: %d %s, %d keys issued; want 403 and none", resp.StatusCode, body, issued)
			}
		})
	}
}
