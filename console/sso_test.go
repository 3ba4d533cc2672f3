package console

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	"github.com/labstack/echo/v4"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/domain"
)

// The rules every SSO test signs in under: the rf-admins group are admins,
// rf-finance finance; a verified address at acme.example is the owner of
// acct_acme.
func testMapping(t *testing.T) auth.Mapping {
	t.Helper()
	m, err := auth.ParseMapping("groups:rf-admins=admin, eduPersonAffiliation:rf-finance=finance", "email_domain:acme.example=acct_acme")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// oidcEnv is the console with OIDC sign-in against an in-process provider
// that issues real RS256-signed ID tokens.
func oidcEnv(t *testing.T) (*env, *mockoidc.MockOIDC) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	cfg := m.Config()
	e := buildAt(t, false, true, func(base string, _ *echo.Echo, d *Deps) {
		o, err := auth.NewOIDC(auth.OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			RedirectURL: base + "/console/sso/oidc/callback", Scopes: []string{"email", "profile", "groups"}, Mapping: testMapping(t)})
		if err != nil {
			t.Fatal(err)
		}
		d.OIDC = o
	})
	e.openAccount("acct_acme", "艾克米股份有限公司", domain.PlanBusiness)
	return e, m
}

// ssoSignIn clicks the sign-in page's button sel and waits for the console.
func (c *chrome) ssoSignIn(base, sel string) {
	c.t.Helper()
	c.do("sso sign in",
		chromedp.Navigate(base+"/console/signin"),
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Click(chromedp.CSS(sel)),
		chromedp.WaitVisible(chromedp.CSS("#signout")),
	)
}

// actorOf finds the actor of the last audited event of type typ.
func actorOf(e *env, typ string) (domain.Actor, bool) {
	var last *domain.Actor
	for _, ev := range e.auditEvents() {
		if ev.Type == typ && ev.Actor != nil {
			last = ev.Actor
		}
	}
	if last == nil {
		return domain.Actor{}, false
	}
	return *last, true
}

// A staff member of the rf-admins group signs in through OIDC, is an admin,
// and the account they open names them as its actor.
func TestBrowserOIDCStaff(t *testing.T) {
	e, m := oidcEnv(t)
	m.QueueUser(&mockoidc.MockUser{Subject: "staff-0042", Email: "chen@routefree.example", EmailVerified: true, Groups: []string{"engineering", "rf-admins"}})
	c := newChrome(t)
	c.ssoSignIn(e.srv.URL, "#sso-oidc")
	c.do("accounts page", chromedp.WaitVisible(chromedp.CSS("#open-account")))
	if u := get(c, "location", chromedp.Location()); !strings.HasSuffix(u, "/console/accounts") {
		t.Fatalf("a staff member lands on %s, want the accounts list", u)
	}
	c.do("open account",
		chromedp.SendKeys(chromedp.CSS(`#open-account input[name="organisation"]`), "單一登入測試有限公司"),
		chromedp.Submit(chromedp.CSS(`#open-account input[name="organisation"]`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	a, ok := actorOf(e, domain.TypeAccountOpened)
	if want := (domain.Actor{Kind: domain.ActorStaff, ID: "oidc:staff-0042", Role: "admin"}); !ok || a != want {
		t.Fatalf("account opened by %+v, want %+v", a, want)
	}
	if v := c.violations(); len(v) > 0 {
		t.Errorf("browser console: %v", v)
	}
	// The admin API knows the session too, and who is behind it.
	c.do("whoami", chromedp.Navigate(e.srv.URL+"/admin/api/whoami"), chromedp.WaitVisible(chromedp.CSS("body")))
	if who := get(c, "whoami", chromedp.Text(chromedp.CSS("body"))); !strings.Contains(who, `"subject":"oidc:staff-0042"`) || !strings.Contains(who, `"role":"admin"`) {
		t.Fatalf("whoami: %s", who)
	}
}

// A customer with a verified address at the mapped domain signs in as the
// owner of acct_acme: they see that account and may issue its keys.
func TestBrowserOIDCCustomer(t *testing.T) {
	e, m := oidcEnv(t)
	m.QueueUser(&mockoidc.MockUser{Subject: "cust-7", Email: "mei@acme.example", EmailVerified: true})
	c := newChrome(t)
	c.ssoSignIn(e.srv.URL, "#sso-oidc")
	c.do("account page", chromedp.WaitVisible(chromedp.CSS("#create-key")))
	if u := get(c, "location", chromedp.Location()); !strings.HasSuffix(u, "/console/accounts/acct_acme") {
		t.Fatalf("the customer lands on %s, want their account", u)
	}
	c.do("create key",
		chromedp.SendKeys(chromedp.CSS(`#create-key input[name="name"]`), "sso-key"),
		chromedp.Submit(chromedp.CSS(`#create-key input[name="name"]`)),
		chromedp.WaitVisible(chromedp.CSS("#new-key-secret")),
	)
	a, ok := actorOf(e, domain.TypeKeyIssued)
	if want := (domain.Actor{Kind: domain.ActorMember, ID: "oidc:cust-7"}); !ok || a != want {
		t.Fatalf("key issued by %+v, want %+v", a, want)
	}
	// Other accounts stay closed to them.
	e.openAccount("acct_other", "Other", domain.PlanStarter)
	c.do("other account", chromedp.Navigate(e.srv.URL+"/console/accounts/acct_other"), chromedp.WaitVisible(chromedp.CSS("main")))
	if body := get(c, "other", chromedp.Text(chromedp.CSS("main"))); strings.Contains(body, "Other") && !strings.Contains(body, "403") {
		t.Fatalf("a customer signed in by SSO sees another account: %q", body)
	}
}

// A person no rule maps is refused with a clear page, gets no session and
// nothing is written; an unverified address at the mapped domain counts for
// nothing either.
func TestBrowserOIDCUnknownUser(t *testing.T) {
	e, m := oidcEnv(t)
	before := len(e.auditEvents())
	c := newChrome(t)
	for _, u := range []*mockoidc.MockUser{
		{Subject: "stranger", Email: "who@elsewhere.example", EmailVerified: true, Groups: []string{"engineering"}},
		{Subject: "spoof", Email: "boss@acme.example", EmailVerified: false},
	} {
		m.QueueUser(u)
		c.do("sso sign in "+u.Subject,
			chromedp.Navigate(e.srv.URL+"/console/signin"),
			chromedp.Click(chromedp.CSS("#sso-oidc")),
			chromedp.WaitVisible(chromedp.CSS(".error")),
		)
		msg := get(c, "message", chromedp.Text(chromedp.CSS(".error")))
		if !strings.Contains(msg, "未對應") && !strings.Contains(msg, "not mapped") {
			t.Fatalf("%s: refusal says %q", u.Subject, msg)
		}
		if n := get(c, "signed out", chromedp.Evaluate[float64](`document.querySelectorAll("#signout").length`)); n != 0 {
			t.Fatalf("%s: a refused person is signed in", u.Subject)
		}
		c.do("console", chromedp.Navigate(e.srv.URL+"/console/accounts"), chromedp.WaitVisible(chromedp.CSS("#token")))
	}
	if after := len(e.auditEvents()); after != before {
		t.Fatalf("refused sign-ins wrote %d events", after-before)
	}
}

// The callback refuses a state that is not the browser's own.
func TestOIDCCallbackChecksState(t *testing.T) {
	e, _ := oidcEnv(t)
	b := e.browser()
	resp, body := b.get("/console/sso/oidc/callback?code=x&state=forged")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "sign-on failed") && !strings.Contains(body, "單一登入失敗") {
		t.Fatalf("forged state: %d %s", resp.StatusCode, body)
	}
	if b.cookie(sessionCookie) != "" {
		t.Fatal("a forged callback started a session")
	}
}

func selfSigned(t *testing.T, cn string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// testIdP is a SAML identity provider in the test process (crewjam/saml's
// IdentityProvider) that signs in whoever user is, without a login form.
type testIdP struct {
	idp  *saml.IdentityProvider
	srv  *httptest.Server
	user *saml.Session
	sp   string // the SP's metadata URL
}

func (p *testIdP) GetSession(http.ResponseWriter, *http.Request, *saml.IdpAuthnRequest) *saml.Session {
	s := *p.user
	s.CreateTime, s.ExpireTime = time.Now(), time.Now().Add(time.Hour)
	return &s
}

// GetServiceProvider reads the SP's metadata from the console's endpoint.
func (p *testIdP) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	if id != p.sp {
		return nil, os.ErrNotExist
	}
	resp, err := http.Get(p.sp)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return samlsp.ParseMetadata(b)
}

func newTestIdP(t *testing.T) *testIdP {
	t.Helper()
	key, cert := selfSigned(t, "test idp")
	p := &testIdP{}
	mux := http.NewServeMux()
	p.srv = httptest.NewUnstartedServer(mux)
	base, _ := url.Parse("http://" + p.srv.Listener.Addr().String())
	p.idp = &saml.IdentityProvider{Key: key, Signer: key, Certificate: cert,
		MetadataURL: *base.JoinPath("/metadata"), SSOURL: *base.JoinPath("/sso"),
		ServiceProviderProvider: p, SessionProvider: p}
	mux.HandleFunc("/sso", p.idp.ServeSSO)
	mux.HandleFunc("/metadata", p.idp.ServeMetadata)
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	return p
}

func samlEnv(t *testing.T, also ...func(*Deps)) (*env, *testIdP) {
	t.Helper()
	idp := newTestIdP(t)
	spKey, spCert := selfSigned(t, "routefree sp")
	e := buildAt(t, false, true, func(base string, _ *echo.Echo, d *Deps) {
		for _, f := range also {
			f(d)
		}
		u, _ := url.Parse(base)
		s, err := auth.NewSAML(auth.SAMLConfig{BaseURL: *u, Key: spKey, Certificate: spCert, IDPMetadata: idp.idp.Metadata(), Mapping: testMapping(t)})
		if err != nil {
			t.Fatal(err)
		}
		d.SAML = s
		idp.sp = base + auth.SAMLMetadataPath
	})
	e.openAccount("acct_acme", "艾克米股份有限公司", domain.PlanBusiness)
	return e, idp
}

// A finance clerk of an organisation that has only SAML signs in through
// its IdP: the signed assertion's affiliation makes them finance.
func TestBrowserSAMLFinance(t *testing.T) {
	e, idp := samlEnv(t)
	idp.user = &saml.Session{ID: "s-1", Index: "1", NameID: "lin@books.example", UserEmail: "lin@books.example", Groups: []string{"rf-finance"}}
	c := newChrome(t)
	c.ssoSignIn(e.srv.URL, "#sso-saml")
	c.do("invoices", chromedp.Navigate(e.srv.URL+"/console/invoices"), chromedp.WaitVisible(chromedp.CSS("#signout")))
	if u := get(c, "location", chromedp.Location()); !strings.HasSuffix(u, "/console/invoices") {
		t.Fatalf("finance lands on %s", u)
	}
	p, err := e.deps.Auth.Authenticate(httptest.NewRequest("GET", "/", nil))
	if err == nil {
		t.Fatalf("a request without the cookie is %+v", p)
	}

	// A person the IdP vouches for but no rule maps is refused.
	idp.user = &saml.Session{ID: "s-2", Index: "2", NameID: "guest@books.example", UserEmail: "guest@books.example", Groups: []string{"visitors"}}
	c.signOut()
	c.do("unmapped", chromedp.Click(chromedp.CSS("#sso-saml")), chromedp.WaitVisible(chromedp.CSS(".error")))
	if msg := get(c, "message", chromedp.Text(chromedp.CSS(".error"))); !strings.Contains(msg, "未對應") && !strings.Contains(msg, "not mapped") {
		t.Fatalf("refusal says %q", msg)
	}
}

// The ACS takes only an assertion answering a request made here: a post
// with a forged relay state or no signed response is refused.
func TestSAMLACSRefusesForgeries(t *testing.T) {
	e, _ := samlEnv(t)
	resp, err := http.Get(e.srv.URL + auth.SAMLMetadataPath)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(md), auth.SAMLACSPath) || !strings.Contains(string(md), "X509Certificate") {
		t.Fatalf("SP metadata lacks the ACS or the certificate:\n%s", md)
	}
	for name, form := range map[string]url.Values{
		"forged relay state": {"RelayState": {"abc.def"}, "SAMLResponse": {"PHNhbWxwOlJlc3BvbnNlLz4="}},
		"no response":        {},
	} {
		resp, err := http.PostForm(e.srv.URL+auth.SAMLACSPath, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, resp.StatusCode)
		}
		for _, ck := range resp.Cookies() {
			if ck.Name == sessionCookie && ck.Value != "" {
				t.Errorf("%s: a session was started", name)
			}
		}
	}
}

// samlResponse starts a SAML sign-in at base and returns the form the IdP
// posts back (SAMLResponse and RelayState), read from its auto-posting page.
func samlResponse(t *testing.T, base string, idp *testIdP) url.Values {
	t.Helper()
	fields, _ := samlStartedAt(t, base, idp)
	return fields
}

// postACS posts a SAML response to base's ACS and checks the answer: want,
// with a session started exactly when want is 200.
func postACS(t *testing.T, base string, fields url.Values, want int, what string) {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(base+auth.SAMLACSPath, fields)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	started := false
	for _, ck := range resp.Cookies() {
		started = started || ck.Name == sessionCookie && ck.Value != ""
	}
	if resp.StatusCode != want || started != (want == http.StatusOK) {
		t.Fatalf("%s: %d, session %v; want %d", what, resp.StatusCode, started, want)
	}
}

// The same signed response posted twice signs in once: the second is a
// replay. Driven without a browser, reading the IdP's auto-posting form.
func TestSAMLResponseIsUsedOnce(t *testing.T) {
	e, idp := samlEnv(t)
	idp.user = &saml.Session{ID: "s-3", Index: "3", NameID: "lin@books.example", Groups: []string{"rf-finance"}}
	fields := samlResponse(t, e.srv.URL, idp)
	postACS(t, e.srv.URL, fields, http.StatusOK, "first post")
	postACS(t, e.srv.URL, fields, http.StatusBadRequest, "second post")
}

// The language cookie is SameSite=Lax: it is no credential, and the browser
// must send it on the identity provider's cross-site way back, so that a
// failed single sign-on is told in the language the person chose.
func TestLanguageCookieIsLax(t *testing.T) {
	e, _ := oidcEnv(t)
	b := e.browser()
	resp, _ := b.get("/console/signin?lang=en")
	var lang *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == langCookie {
			lang = c
		}
	}
	if lang == nil || lang.Value != langEN || lang.SameSite != http.SameSiteLaxMode {
		t.Fatalf("language cookie %+v, want rf_lang=en with SameSite=Lax", lang)
	}
	resp, body := b.get("/console/sso/oidc/callback?code=x&state=forged")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Single sign-on failed") {
		t.Fatalf("failed sign-on with rf_lang=en: %d %s", resp.StatusCode, body)
	}
}

// A person who chose English and comes back from another site (as from an
// identity provider) to a failed single sign-on reads the failure in
// English. The other site is the same loopback server by the name
// localhost, which the browser takes for a site of its own.
func TestBrowserSSOFailureKeepsLanguage(t *testing.T) {
	e, _ := oidcEnv(t)
	callback := e.srv.URL + "/console/sso/oidc/callback?code=x&state=forged"
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/back" {
			http.Redirect(w, r, callback, http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><a id="back" href="/back">back to the console</a>`)
	}))
	t.Cleanup(idp.Close)
	other := strings.Replace(idp.URL, "127.0.0.1", "localhost", 1)
	if other == idp.URL || !strings.Contains(e.srv.URL, "127.0.0.1") {
		t.Fatalf("want the console at 127.0.0.1 and the other site at localhost: %s, %s", e.srv.URL, idp.URL)
	}
	c := newChrome(t)
	c.do("choose English",
		chromedp.Navigate(e.srv.URL+"/console/signin?lang=en"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.Navigate(other+"/"),
		chromedp.WaitVisible(chromedp.CSS("#back")),
		chromedp.Click(chromedp.CSS("#back")),
		chromedp.WaitVisible(chromedp.CSS(".error")),
	)
	if msg := get(c, "message", chromedp.Text(chromedp.CSS(".error"))); !strings.Contains(msg, "Single sign-on failed") {
		t.Fatalf("the failure reads %q, want English", msg)
	}
}
