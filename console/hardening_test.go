package console

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
)

// Every answer of the admin API and the console, to a signed-in caller or
// not, carries the security headers and Cache-Control: no-store.
func TestNoStoreOnEveryAuthenticatedResponse(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_n", "快取公司", domain.PlanStarter)
	_, key := e.issueKey("acct_n")
	cases := []struct {
		method, path, who string
		body              any
		want              int
	}{
		{"GET", "/admin/api/whoami", e.admin, nil, 200},
		{"GET", "/admin/api/accounts", e.finance, nil, 200},
		{"GET", "/admin/api/accounts/acct_n", key, nil, 200},
		{"GET", "/admin/api/accounts/acct_n/keys", e.admin, nil, 200},
		{"GET", "/admin/api/accounts/acct_n/usage", key, nil, 200},
		{"POST", "/admin/api/accounts/acct_n/topups", e.finance, map[string]any{"amount": "10", "method": domain.MethodBankTransfer, "reference": "NS-1"}, 201},
		{"GET", "/admin/api/audit/events", e.auditor, nil, 200},
		{"GET", "/admin/api/audit/verify", e.auditor, nil, 200},
		{"GET", "/admin/api/audit/export", e.auditor, nil, 200},
		{"GET", "/admin/api/accounts", "", nil, 401},
		{"POST", "/admin/api/accounts", e.finance, map[string]any{"organisation": "x"}, 403},
		{"GET", "/admin/api/accounts/nobody", e.admin, nil, 404},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, e.srv.URL+c.path, nil)
		if c.body != nil {
			code, _ := e.call(c.method, c.path, c.who, c.body)
			if code != c.want {
				t.Errorf("%s %s: %d, want %d", c.method, c.path, code, c.want)
			}
			continue // the headers of POSTs are checked below through a form
		}
		if c.who != "" {
			req.Header.Set("Authorization", "Bearer "+c.who)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
		checkHeaders(t, c.method+" "+c.path, resp.Header)
	}
	b := e.browser()
	csrf := b.signIn(e.finance)
	resp, _ := b.post("/console/accounts/acct_n/topups", url.Values{"csrf": {csrf}, "amount": {"5"}, "method": {domain.MethodBankTransfer}, "reference": {"NS-2"}, "confirm": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("top-up form: %d", resp.StatusCode)
	}
	checkHeaders(t, "top-up form", resp.Header)
	for _, p := range []string{"/console/accounts", "/console/accounts/acct_n", "/console/invoices", "/console/accounts/nobody"} {
		resp, _ := b.get(p)
		checkHeaders(t, p, resp.Header)
	}
	// Static files are public and may be cached.
	if resp, _ := b.get("/console/static/console.css"); !strings.HasPrefix(resp.Header.Get("Cache-Control"), "public") {
		t.Errorf("static file Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
}

func checkHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for name, want := range map[string]string{"Content-Security-Policy": ContentSecurityPolicy,
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %s = %q, want %q", what, name, got, want)
		}
	}
}

// The CSRF token counts only from the X-CSRF-Token header or the form body,
// never from the URL (where logs, history and Referer would keep it); the
// sign-in form's token and credential likewise.
func TestCSRFTokenNotFromQueryString(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_q", "查詢字串公司", domain.PlanStarter)
	b := e.browser()
	csrf := b.signIn(e.finance)
	form := url.Values{"amount": {"10"}, "method": {domain.MethodBankTransfer}, "reference": {"Q-1"}, "confirm": {"yes"}}
	resp, _ := b.post("/console/accounts/acct_q/topups?csrf="+url.QueryEscape(csrf), form)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("CSRF token in the query string: %d, want 403", resp.StatusCode)
	}
	if v, _ := e.models.Balances.View("acct_q", "", e.clock.Now()); !v.Balance.IsZero() {
		t.Fatalf("balance moved to %s", v.Balance)
	}
	// The header works.
	req, _ := http.NewRequest("POST", e.srv.URL+"/console/accounts/acct_q/topups", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", csrf)
	if resp, err := b.c.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("CSRF token in the header: %v %v", resp.StatusCode, err)
	}
	// The sign-in form takes its token and the credential from the body only.
	fresh := e.browser()
	_, page := fresh.get("/console/signin")
	login := attrOf(t, page, "input", "id", "signin-csrf", "value")
	resp, _ = fresh.post("/console/signin?csrf="+url.QueryEscape(login)+"&token="+url.QueryEscape(e.admin), url.Values{})
	if resp.StatusCode == http.StatusSeeOther || fresh.cookie(sessionCookie) != "" {
		t.Fatalf("sign-in from the query string: %d", resp.StatusCode)
	}
}

// protoTransport sends every request with X-Forwarded-Proto: https, as a
// TLS-terminating proxy (or a client forging it) would.
type protoTransport struct{ base http.RoundTripper }

func (p protoTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-Proto", "https")
	return p.base.RoundTrip(r)
}

func sessionCookieOf(t *testing.T, e *env) *http.Cookie {
	t.Helper()
	b := e.browser()
	b.c.Transport = protoTransport{http.DefaultTransport}
	_, page := b.get("/console/signin")
	csrf := attrOf(t, page, "input", "id", "signin-csrf", "value")
	resp, _ := b.post("/console/signin", url.Values{"csrf": {csrf}, "token": {e.admin}})
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	t.Fatalf("sign-in: %d, no session cookie", resp.StatusCode)
	return nil
}

// X-Forwarded-Proto is believed from --trusted-proxies only.
func TestForwardedProtoOnlyFromTrustedProxies(t *testing.T) {
	e := newEnv(t, false)
	if sessionCookieOf(t, e).Secure {
		t.Fatal("a client's own X-Forwarded-Proto: https was believed")
	}
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	e = buildWithDeps(t, false, true, func(_ *echo.Echo, d *Deps) { d.TrustedProxies = []*net.IPNet{loopback} })
	if !sessionCookieOf(t, e).Secure {
		t.Fatal("a trusted proxy's X-Forwarded-Proto: https was not believed")
	}
	_, elsewhere, _ := net.ParseCIDR("10.0.0.0/8")
	e = buildWithDeps(t, false, true, func(_ *echo.Echo, d *Deps) { d.TrustedProxies = []*net.IPNet{elsewhere} })
	if sessionCookieOf(t, e).Secure {
		t.Fatal("X-Forwarded-Proto believed from a peer outside the trusted ranges")
	}
}
