package console

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/crewjam/saml"

	"github.com/routefree/routefree/auth"
)

// samlStartedAt starts a SAML sign-in at base as a browser reaching the
// console over HTTPS through its proxy would (the header is dropped unless
// the env trusts the proxy), and returns the form the IdP posts back
// (SAMLResponse and RelayState), read from its auto-posting page, and the
// cookies the start set.
func samlStartedAt(t *testing.T, base string, idp *testIdP) (url.Values, []*http.Cookie) {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", base+"/console/sso/saml", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, idp.srv.URL+"/sso?SAMLRequest=") || !strings.Contains(loc, "Signature=") {
		t.Fatalf("start: %d %s", resp.StatusCode, loc)
	}
	cookies := resp.Cookies()
	resp, err = http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fields := url.Values{}
	for _, in := range elements(t, string(form), "input", "name") {
		if in["name"] == "SAMLResponse" || in["name"] == "RelayState" {
			fields.Set(in["name"], in["value"])
		}
	}
	if fields.Get("SAMLResponse") == "" || fields.Get("RelayState") == "" {
		t.Fatalf("the IdP's form carries no response:\n%s", form)
	}
	return fields, cookies
}

// A SAML sign-in is bound to the browser that started it. Its relay state
// was signed but not tied to anyone, so a person the IdP knows could take
// the response to a sign-in they started and post it from another
// person's browser (a page of theirs that auto-submits it), signing that
// browser in as themselves: whatever the victim then did would be
// recorded as theirs. Over HTTPS the start now sets a cookie
// (SameSite=None, Secure: the IdP's post is cross-site) whose digest the
// relay state carries, and the ACS takes the response only with it.
func TestSAMLResponseIsTakenOnlyFromTheBrowserThatStartedIt(t *testing.T) {
	// Behind a TLS-terminating proxy on loopback, which says the browser
	// came over HTTPS.
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	e, idp := samlEnv(t, func(d *Deps) { d.TrustedProxies = []*net.IPNet{loopback} })
	idp.user = &saml.Session{ID: "s-b1", Index: "1", NameID: "mallory@books.example", Groups: []string{"rf-finance"}}
	post := func(fields url.Values, cookies []*http.Cookie) (int, bool) {
		t.Helper()
		req, _ := http.NewRequest("POST", e.srv.URL+auth.SAMLACSPath, strings.NewReader(fields.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-Proto", "https")
		for _, ck := range cookies {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		started := false
		for _, ck := range resp.Cookies() {
			started = started || ck.Name == sessionCookie && ck.Value != ""
		}
		return resp.StatusCode, started
	}

	planted, attackers := samlStartedAt(t, e.srv.URL, idp)
	var binding *http.Cookie
	for _, ck := range attackers {
		if ck.Name == samlBrowserCookie {
			binding = ck
		}
	}
	if binding == nil || !binding.Secure || !binding.HttpOnly || binding.SameSite != http.SameSiteNoneMode {
		t.Fatalf("the start over HTTPS set no Secure, HttpOnly, SameSite=None binding cookie: %+v", attackers)
	}
	// Posted from a browser that did not start it (none of its cookie, or
	// its own sign-in's), it signs no one in.
	_, victims := samlStartedAt(t, e.srv.URL, idp)
	for what, cookies := range map[string][]*http.Cookie{"no cookie": nil, "another sign-in's cookie": victims} {
		if code, started := post(planted, cookies); code != http.StatusBadRequest || started {
			t.Fatalf("the response posted with %s: %d, session %v; want 400 and none", what, code, started)
		}
	}
	// From the browser that started it, it signs in.
	own, cookies := samlStartedAt(t, e.srv.URL, idp)
	if code, started := post(own, cookies); code != http.StatusOK || !started {
		t.Fatalf("the response posted by the browser that started it: %d, session %v", code, started)
	}
}
