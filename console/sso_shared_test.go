package console

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/internal/testenv"
)

// Two gateway instances behind one public address, sharing Redis: a
// signed SAML response taken by one is refused as a replay by the other.
func TestSAMLResponseIsUsedOnceAcrossInstances(t *testing.T) {
	rdb, prefix := testenv.Redis(t)

	idp := newTestIdP(t)
	spKey, spCert := selfSigned(t, "routefree sp")
	var public url.URL
	newSAML := func() *auth.SAML {
		s, err := auth.NewSAML(auth.SAMLConfig{BaseURL: public, Key: spKey, Certificate: spCert, IDPMetadata: idp.idp.Metadata(), Mapping: testMapping(t)})
		if err != nil {
			t.Fatal(err)
		}
		s.ShareAnswered(auth.NewRedisAnswered(rdb, prefix))
		return s
	}
	e := buildAt(t, false, true, func(base string, _ *echo.Echo, d *Deps) {
		u, _ := url.Parse(base)
		public = *u
		d.SAML = newSAML()
		idp.sp = base + auth.SAMLMetadataPath
	})
	depsB := e.deps
	depsB.SAML = newSAML()
	depsB.Auth = NewAuthenticator(e.views, e.models.Keys)
	echB := echo.New()
	if err := Register(echB, depsB); err != nil {
		t.Fatal(err)
	}
	srvB := httptest.NewServer(echB)
	defer srvB.Close()

	idp.user = &saml.Session{ID: "s-4", Index: "4", NameID: "lin@books.example", Groups: []string{"rf-finance"}}
	fields := samlResponse(t, e.srv.URL, idp)
	postACS(t, e.srv.URL, fields, http.StatusOK, "the response on the instance that started the sign-in")
	postACS(t, srvB.URL, fields, http.StatusBadRequest, "the same response posted to the other instance")

	// A sign-in started on one instance and answered on the other works.
	fields = samlResponse(t, e.srv.URL, idp)
	postACS(t, srvB.URL, fields, http.StatusOK, "a fresh response on the other instance")
}

// With Redis unreachable a SAML response cannot be recorded as used, so a
// replay of it could not be told on another instance: the sign-in is
// refused with 503 and a page saying to try again shortly, in the person's
// language, and no session starts.
func TestSAMLSignInWithRedisDown(t *testing.T) {
	e, idp := samlEnv(t)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	e.deps.SAML.ShareAnswered(auth.NewRedisAnswered(rdb, "rf-test-down:"))
	idp.user = &saml.Session{ID: "s-5", Index: "5", NameID: "lin@books.example", Groups: []string{"rf-finance"}}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, lang := range []string{langZH, langEN} {
		fields := samlResponse(t, e.srv.URL, idp)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+auth.SAMLACSPath, strings.NewReader(fields.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: langCookie, Value: lang})
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, ck := range resp.Cookies() {
			if ck.Name == sessionCookie && ck.Value != "" {
				t.Fatalf("%s: a session started with Redis down", lang)
			}
		}
		want := html.EscapeString(tr(lang, "signin.unavailable"))
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), want) {
			t.Fatalf("%s: SAML sign-in with Redis down: %d, want 503 saying %q:\n%s", lang, resp.StatusCode, want, body)
		}
	}
}
