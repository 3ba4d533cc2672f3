package console

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/crewjam/saml"
	"github.com/labstack/echo/v4"

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
