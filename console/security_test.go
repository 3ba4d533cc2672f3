package console

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/routefree/routefree/domain"
	"golang.org/x/net/html"
)

func TestConsoleFormsNeedCSRF(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_c", "CSRF 公司", domain.PlanStarter)
	b := e.browser()
	csrf := b.signIn(e.finance)
	form := func(token string) url.Values {
		v := url.Values{"amount": {"50"}, "method": {domain.MethodBankTransfer}, "reference": {"T-" + token}, "confirm": {"yes"}}
		if token != "" {
			v.Set("csrf", token)
		}
		return v
	}
	for _, bad := range []string{"", "forged-token"} {
		resp, _ := b.post("/console/accounts/acct_c/topups", form(bad))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("top-up with CSRF token %q: %d, want 403", bad, resp.StatusCode)
		}
	}
	if v, _ := e.models.Balances.View("acct_c", "", e.clock.Now()); !v.Balance.IsZero() {
		t.Fatalf("a forged form moved the balance to %s", v.Balance)
	}
	resp, _ := b.post("/console/accounts/acct_c/topups", form(csrf))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("top-up with the session's token: %d", resp.StatusCode)
	}
	if v, _ := e.models.Balances.View("acct_c", "", e.clock.Now()); !v.Balance.Equal(mustDec("50")) {
		t.Fatalf("balance = %s, want 50", v.Balance)
	}
	// The session's token is not another session's.
	other := e.browser()
	other.signIn(e.finance)
	if resp, _ := other.post("/console/accounts/acct_c/topups", form(csrf)); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("another session's CSRF token accepted: %d", resp.StatusCode)
	}
	// The sign-in form has its own (double-submit) token.
	fresh := e.browser()
	if resp, _ := fresh.post("/console/signin", url.Values{"token": {e.admin}, "csrf": {"made-up"}}); resp.StatusCode != http.StatusForbidden || fresh.cookie(sessionCookie) != "" {
		t.Fatalf("sign-in without its CSRF cookie: %d", resp.StatusCode)
	}
}

// A session ID planted before sign-in is never the signed-in one, and each
// sign-in gets a new ID.
func TestSessionFixationImpossible(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	u, _ := url.Parse(e.srv.URL)
	planted := "attacker-chosen-session-id"
	b.jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: planted, Path: "/"}})
	b.signIn(e.admin)
	first := b.cookie(sessionCookie)
	if first == "" || first == planted {
		t.Fatalf("session ID after sign-in = %q", first)
	}
	attacker := e.browser()
	attacker.jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: planted, Path: "/"}})
	if resp, _ := attacker.get("/console/accounts"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the planted ID is signed in: %d", resp.StatusCode)
	}
	b.signIn(e.admin)
	second := b.cookie(sessionCookie)
	if second == first {
		t.Fatal("signing in again kept the session ID")
	}
	old := e.browser()
	old.jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: first, Path: "/"}})
	if resp, _ := old.get("/console/accounts"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the replaced session still works: %d", resp.StatusCode)
	}
}

func TestSessionCookieFlags(t *testing.T) {
	e := newEnv(t, true) // TLS
	b := e.browser()
	_, page := b.get("/console/signin")
	csrf := attrOf(t, page, "input", "id", "signin-csrf", "value")
	resp, _ := b.post("/console/signin", url.Values{"csrf": {csrf}, "token": {e.admin}})
	var sess *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			sess = c
		}
	}
	if sess == nil {
		t.Fatal("no session cookie set")
	}
	if !sess.HttpOnly || !sess.Secure || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/" {
		t.Fatalf("session cookie flags: HttpOnly=%v Secure=%v SameSite=%v Path=%q", sess.HttpOnly, sess.Secure, sess.SameSite, sess.Path)
	}
	if len(sess.Value) < 40 {
		t.Fatalf("session ID too short: %d characters", len(sess.Value))
	}
}

func TestSignInBruteForceSlowed(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	try := func(secret string) int {
		_, page := b.get("/console/signin")
		csrf := attrOf(t, page, "input", "id", "signin-csrf", "value")
		resp, _ := b.post("/console/signin", url.Values{"csrf": {csrf}, "token": {secret}})
		return resp.StatusCode
	}
	for i := 0; i < 5; i++ {
		if got := try("rf-staff-wrong-guess"); got != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, got)
		}
	}
	if got := try("rf-staff-wrong-guess"); got != http.StatusTooManyRequests {
		t.Fatalf("sixth failure in a minute: %d, want 429", got)
	}
	// Blocked means blocked: even the right token waits out the window.
	if got := try(e.admin); got != http.StatusTooManyRequests {
		t.Fatalf("right token while blocked: %d, want 429", got)
	}
	// The window slides: a minute later the IP may try again.
	e.deps.Auth.signins.(memoryThrottle).now = func() time.Time { return time.Now().Add(61 * time.Second) }
	if got := try(e.admin); got != http.StatusSeeOther {
		t.Fatalf("after the window: %d, want 303", got)
	}
}

// xffTransport sends every request with an X-Forwarded-For, as a client
// behind a proxy (or one forging the header) would.
type xffTransport struct {
	base http.RoundTripper
	addr string
}

func (x xffTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", x.addr)
	return x.base.RoundTrip(r)
}

func (b *browser) forwardedFor(addr string) *browser {
	base := b.c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	b.c.Transport = xffTransport{base, addr}
	return b
}

func failSignIns(t *testing.T, b *browser, n int) int {
	t.Helper()
	code := 0
	for range n {
		_, page := b.get("/console/signin")
		csrf := attrOf(t, page, "input", "id", "signin-csrf", "value")
		resp, _ := b.post("/console/signin", url.Values{"csrf": {csrf}, "token": {"rf-staff-wrong-guess"}})
		code = resp.StatusCode
	}
	return code
}

// Sign-in throttling keys on the client: a forged X-Forwarded-For does not
// dodge it, and behind a trusted proxy each forwarded client has its own
// allowance.
func TestSignInThrottleKeysOnTheClient(t *testing.T) {
	// No trusted proxy: the connection's address counts, whatever the header.
	e := newEnv(t, false)
	if got := failSignIns(t, e.browser().forwardedFor("203.0.113.1"), 5); got != http.StatusUnauthorized {
		t.Fatalf("five failures: %d, want 401", got)
	}
	if got := failSignIns(t, e.browser().forwardedFor("203.0.113.2"), 1); got != http.StatusTooManyRequests {
		t.Fatalf("a forged X-Forwarded-For dodged the limit: %d, want 429", got)
	}

	// Loopback is the trusted proxy: the forwarded address is the client.
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	e = buildWith(t, false, true, func(ech *echo.Echo) {
		ech.IPExtractor = echo.ExtractIPFromXFFHeader(echo.TrustLoopback(false), echo.TrustLinkLocal(false),
			echo.TrustPrivateNet(false), echo.TrustIPRange(loopback))
	})
	if got := failSignIns(t, e.browser().forwardedFor("203.0.113.1"), 6); got != http.StatusTooManyRequests {
		t.Fatalf("sixth failure of one forwarded client: %d, want 429", got)
	}
	if got := failSignIns(t, e.browser().forwardedFor("203.0.113.2"), 1); got != http.StatusUnauthorized {
		t.Fatalf("another client behind the same proxy: %d, want 401", got)
	}
}

// Every page carries the strict CSP, and no page has inline script or style.
func TestCSPOnEveryPage(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_p", "頁面公司", domain.PlanStarter)
	keyID, key := e.issueKey("acct_p")
	e.request("acct_p", keyID, e.cat.IDs()[0], "</script>", testNow.Add(-time.Hour), 10, 10, "1.5") // pages with charts and their data
	e.sync()
	staff := e.browser()
	staff.signIn(e.admin)
	auditor := e.browser()
	auditor.signIn(e.auditor)
	finance := e.browser()
	finance.signIn(e.finance)
	customer := e.browser()
	customer.signIn(key)
	anon := e.browser()
	pages := []struct {
		b    *browser
		path string
	}{
		{anon, "/console/signin"}, {anon, "/models"}, {anon, "/models?q=gpt"}, {anon, "/rankings"}, {anon, "/console/static/console.css"},
		{anon, "/console/accounts"}, {anon, "/console/no-such-page"}, {anon, "/admin/api/accounts"},
		{staff, "/console/accounts"}, {staff, "/console/accounts/acct_p"}, {finance, "/console/invoices"}, {finance, "/console/quotes"}, {staff, "/console/quotes"},
		{staff, "/console/accounts/nobody"}, {auditor, "/console/audit"}, {auditor, "/console/audit?check=1"},
		{customer, "/console/accounts/acct_p"}, {customer, "/console/accounts"}, {staff, "/models?lang=en"},
		{staff, "/console/dashboard"}, {finance, "/console/dashboard"},
	}
	for _, p := range pages {
		resp, body := p.b.get(p.path)
		if got := resp.Header.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
			t.Errorf("%s (%d): CSP %q", p.path, resp.StatusCode, got)
		}
		if !strings.Contains(ContentSecurityPolicy, "script-src 'self'") || strings.Contains(ContentSecurityPolicy, "unsafe-inline") {
			t.Fatal("the CSP must allow scripts from self only")
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: missing nosniff / frame headers", p.path)
		}
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			low := strings.ToLower(body)
			for _, bad := range []string{"style=", "<style", " onclick=", " onload=", " onsubmit=", "javascript:"} {
				if strings.Contains(low, bad) {
					t.Errorf("%s holds inline %q", p.path, bad)
				}
			}
			for _, bad := range inlineScripts(t, body) {
				t.Errorf("%s holds inline script %q", p.path, bad)
			}
		}
	}
}

// inlineScripts lists the page's <script> elements that would run inline:
// every script must load a file of the console's own (src under
// /console/static/, empty body) or be a JSON data block, which the browser
// never runs.
func inlineScripts(t *testing.T, page string) []string {
	t.Helper()
	var bad []string
	for _, sc := range scriptElements(t, page) {
		switch {
		case sc.attrs["type"] == "application/json":
			if !json.Valid([]byte(sc.body)) {
				bad = append(bad, "data block that is not JSON: "+sc.body)
			}
		case strings.HasPrefix(sc.attrs["src"], "/console/static/") && strings.TrimSpace(sc.body) == "":
		default:
			bad = append(bad, fmt.Sprint(sc.attrs, sc.body))
		}
	}
	return bad
}

type scriptElement struct {
	attrs map[string]string
	body  string
}

func scriptElements(t *testing.T, page string) []scriptElement {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []scriptElement
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "script" {
			sc := scriptElement{attrs: map[string]string{}}
			for _, a := range n.Attr {
				sc.attrs[a.Key] = a.Val
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				sc.body += c.Data
			}
			out = append(out, sc)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}
