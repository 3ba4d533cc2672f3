package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/auth"
)

// Single sign-on: the person comes back from their organisation's identity
// provider with a principal mapped from its claims (package auth), and gets
// the console's ordinary session. Sign-in routes are public.

const (
	oidcCookie = "rf_oidc" // the pending OIDC sign-in: state, nonce, PKCE verifier
	credSSO    = "sso"     // session kind of a single sign-on
	ssoPath    = "/console/sso"
)

func (s *server) registerSSO(g *echo.Group) {
	if s.deps.OIDC != nil {
		g.GET("/sso/oidc", s.oidcStart)
		g.GET("/sso/oidc/callback", s.oidcCallback)
	}
	if s.deps.SAML != nil {
		g.GET("/sso/saml", s.samlStart)
		g.GET("/sso/saml/metadata", s.samlMetadata)
		g.POST("/sso/saml/acs", s.samlACS)
	}
}

func (s *server) oidcStart(c echo.Context) error {
	u, p, err := s.deps.OIDC.Start(c.Request().Context())
	if err != nil {
		s.deps.Logger.Error("console: OIDC sign-in", "err", err)
		return s.signinFailed(c, http.StatusServiceUnavailable, "sso.unavailable")
	}
	// Lax, not Strict: the browser must send it back on the provider's
	// cross-site redirect to the callback.
	http.SetCookie(c.Response(), &http.Cookie{Name: oidcCookie, Value: p.State + "." + p.Nonce + "." + p.Verifier,
		Path: ssoPath + "/oidc", MaxAge: 600, HttpOnly: true, Secure: isTLS(c.Request()), SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusFound, u)
}

func (s *server) oidcCallback(c echo.Context) error {
	r := c.Request()
	var pending auth.OIDCPending
	if ck, err := r.Cookie(oidcCookie); err == nil {
		if parts := strings.Split(ck.Value, "."); len(parts) == 3 {
			pending = auth.OIDCPending{State: parts[0], Nonce: parts[1], Verifier: parts[2]}
		}
	}
	http.SetCookie(c.Response(), &http.Cookie{Name: oidcCookie, Path: ssoPath + "/oidc", MaxAge: -1, HttpOnly: true,
		Secure: isTLS(r), SameSite: http.SameSiteLaxMode}) // one use
	p, err := s.deps.OIDC.Finish(r.Context(), pending, r.URL.Query())
	return s.ssoDone(c, p, err)
}

// ssoDone starts a session for a mapped person, or says why not. Nothing is
// created for a person no rule maps.
func (s *server) ssoDone(c echo.Context, p auth.Principal, err error) error {
	if err == nil && !p.Staff {
		if _, ok := s.deps.Views.Account(p.AccountID); !ok {
			s.deps.Logger.Warn("console: single sign-on maps to an account that does not exist", "account", p.AccountID, "subject", p.Subject)
			err = auth.ErrUnmapped
		}
	}
	switch {
	case errors.Is(err, auth.ErrUnmapped):
		s.deps.Logger.Info("console: single sign-on refused: no role or account mapped", "subject", p.Subject)
		return s.signinFailed(c, http.StatusForbidden, "sso.unmapped")
	case errors.Is(err, auth.ErrSSOUnavailable):
		// Not the person's doing, and not a sign-in: the same answer as a
		// sign-in with a token while Redis is down.
		s.deps.Logger.Error("console: single sign-on", "err", err)
		return s.signinFailed(c, http.StatusServiceUnavailable, "signin.unavailable")
	case err != nil:
		s.deps.Logger.Warn("console: single sign-on failed", "err", err)
		return s.signinFailed(c, http.StatusBadRequest, "sso.failed")
	}
	old := ""
	if oc, err := c.Request().Cookie(sessionCookie); err == nil {
		old = oc.Value
	}
	id, err := s.auth.sessions.create(c.Request().Context(), old, credSSO, encodeSSO(p), 0)
	if err != nil {
		s.deps.Logger.Error("console: starting a session", "err", err)
		return s.signinFailed(c, http.StatusServiceUnavailable, "signin.unavailable")
	}
	setCookie(c.Response(), c.Request(), sessionCookie, id, int(sessionTTL.Seconds()))
	// The session cookie is SameSite=Strict, and a redirect chain that began
	// at the provider is cross-site: a page of our own moves on instead, so
	// that the next request is same-site and carries the cookie.
	next := afterSignIn(c)
	c.Response().Header().Set("Refresh", "0; url="+next)
	return s.render(c, http.StatusOK, "ssodone", s.newPage(c, "title.signin", next))
}

// ssoSession is a signed-in person's principal, kept in the session in
// place of a credential hash, with the mapping rule that made them who
// they are.
type ssoSession struct {
	Role    string `json:"role,omitempty"`    // staff
	Account string `json:"account,omitempty"` // a customer's account
	Subject string `json:"sub"`
	Rule    string `json:"rule"`
}

func encodeSSO(p auth.Principal) string {
	s := ssoSession{Subject: p.Subject, Rule: p.Rule}
	if p.Staff {
		s.Role = string(p.Role)
	} else {
		s.Account = p.AccountID
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// decodeSSO reads a session's person back. A session of an earlier
// release, which kept no rule, is not read: its person signs in again.
func decodeSSO(v string) (auth.Principal, error) {
	var s ssoSession
	if json.Unmarshal([]byte(v), &s) != nil || s.Subject == "" || s.Rule == "" || (s.Role == "") == (s.Account == "") {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	if s.Role != "" {
		if !auth.Role(s.Role).Valid() {
			return auth.Principal{}, auth.ErrUnauthenticated
		}
		return auth.Principal{Staff: true, Role: auth.Role(s.Role), Subject: s.Subject, Rule: s.Rule}, nil
	}
	return auth.Principal{AccountID: s.Account, Management: true, Subject: s.Subject, Rule: s.Rule}, nil
}

// ssoMappings are the rules of each single sign-on turned on, by the
// protocol that prefixes its people's subjects ("oidc", "saml").
type ssoMappings map[string]auth.Mapping

func ssoMappingsOf(o *auth.OIDC, s *auth.SAML) ssoMappings {
	m := ssoMappings{}
	if o != nil {
		m["oidc"] = o.Mapping()
	}
	if s != nil {
		m["saml"] = s.Mapping()
	}
	return m
}

// keeps reports whether the person p, signed in through single sign-on,
// is still who they were signed in as: their protocol is still turned on
// and the rule that mapped them is still configured, with the same role
// or account. An operator who takes a person's rule out, points it
// elsewhere or turns single sign-on off, and restarts, ends their session
// on every instance that shares it.
func (m ssoMappings) keeps(p auth.Principal) bool {
	proto, _, _ := strings.Cut(p.Subject, ":")
	mapping, on := m[proto]
	return on && mapping.Keeps(p)
}

// samlBrowserCookie binds a SAML sign-in to the browser that started it:
// without it, a response to someone else's sign-in, posted from this
// browser by a page of theirs, would sign it in as them (login CSRF). The
// IdP's post back is cross-site, so the cookie must be SameSite=None, and
// with it Secure: a sign-in is bound over HTTPS only. Its path is "/", as
// the session's: behind a proxy that serves the console under a prefix,
// the ACS's path is not the one this process sees.
const samlBrowserCookie = "rf_saml_browser"

func (s *server) samlStart(c echo.Context) error {
	browser := ""
	if r := c.Request(); isTLS(r) {
		browser = randomToken()
		http.SetCookie(c.Response(), &http.Cookie{Name: samlBrowserCookie, Value: browser, Path: "/",
			MaxAge: int(auth.SAMLRequestTTL / time.Second), HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode})
	}
	u, err := s.deps.SAML.Start(browser)
	if err != nil {
		s.deps.Logger.Error("console: SAML sign-in", "err", err)
		return s.signinFailed(c, http.StatusServiceUnavailable, "sso.unavailable")
	}
	return c.Redirect(http.StatusFound, u)
}

func (s *server) samlMetadata(c echo.Context) error {
	b, err := s.deps.SAML.Metadata()
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/samlmetadata+xml", b)
}

// samlACS takes the IdP's posted assertion. It is a cross-site POST with no
// session and no CSRF token of ours: the signed assertion, answering a
// request this gateway signed into the relay state, stands in for them.
func (s *server) samlACS(c echo.Context) error {
	browser := ""
	if ck, err := c.Request().Cookie(samlBrowserCookie); err == nil {
		browser = ck.Value
	}
	p, err := s.deps.SAML.Finish(c.Request(), browser)
	return s.ssoDone(c, p, err)
}
