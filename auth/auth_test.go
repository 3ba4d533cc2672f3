package auth

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
)

// bearers maps a bearer token to a principal or an error.
type bearers map[string]any

func (b bearers) Authenticate(r *http.Request) (Principal, error) {
	switch v := b[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")].(type) {
	case Principal:
		return v, nil
	case error:
		return Principal{}, v
	}
	return Principal{}, ErrUnauthenticated
}

func TestRoleValid(t *testing.T) {
	for _, r := range []Role{Admin, Finance, Auditor} {
		if !r.Valid() {
			t.Errorf("%q refused", r)
		}
	}
	for _, r := range []Role{"", "root", "Admin", "admins"} {
		if r.Valid() {
			t.Errorf("%q accepted", r)
		}
	}
}

// Each gate, called over loopback HTTP by every kind of caller: the status
// it answers and, when it lets the caller through, the principal and actor
// the handler sees.
func TestGatesLetThroughOnlyTheirCallers(t *testing.T) {
	a := bearers{
		"admin":   Principal{Staff: true, Role: Admin, TokenID: "st_a"},
		"finance": Principal{Staff: true, Role: Finance, TokenID: "st_f"},
		"auditor": Principal{Staff: true, Role: Auditor, TokenID: "st_u"},
		"sso":     Principal{Staff: true, Role: Finance, Subject: "oidc:mei"},
		"key":     Principal{AccountID: "acme", KeyID: "k1"},
		"manager": Principal{AccountID: "acme", KeyID: "k2", Management: true},
		"member":  Principal{AccountID: "acme", Management: true, Subject: "saml:wang"},
		// A customer's principal never carries a role; the gate still
		// reads a role only as staff's.
		"rolekey":  Principal{AccountID: "acme", KeyID: "k3", Role: Admin},
		"nocsrf":   ErrForbidden,
		"unknown":  ErrUnauthenticated,
		"storeerr": errors.New("store unavailable"),
	}
	e := echo.New()
	ok := func(c echo.Context) error {
		p, found := FromContext(c)
		if !found {
			return c.String(http.StatusInternalServerError, "no principal")
		}
		return c.String(http.StatusOK, p.TokenID+p.KeyID+"|"+domain.ActorFrom(c.Request().Context()).String())
	}
	e.GET("/admin", ok, Require(a, false, Admin))
	e.GET("/books", ok, Require(a, true, Finance, Auditor))
	e.GET("/customers", ok, Require(a, true))
	e.GET("/keys", ok, RequireKeyManager(a, Admin))
	srv := httptest.NewServer(e)
	defer srv.Close()

	want := map[string]map[string]int{
		"/admin":     {"admin": 200, "finance": 403, "auditor": 403, "sso": 403, "key": 403, "manager": 403, "member": 403, "rolekey": 403},
		"/books":     {"admin": 403, "finance": 200, "auditor": 200, "sso": 200, "key": 200, "manager": 200, "member": 200, "rolekey": 200},
		"/customers": {"admin": 403, "finance": 403, "auditor": 403, "sso": 403, "key": 200, "manager": 200, "member": 200, "rolekey": 200},
		"/keys":      {"admin": 200, "finance": 403, "auditor": 403, "sso": 403, "key": 403, "manager": 200, "member": 200, "rolekey": 403},
	}
	for path, cells := range want {
		for _, who := range []string{"nocsrf", "unknown", "storeerr", ""} {
			cells[who] = 401
		}
		cells["nocsrf"] = 403
		for who, code := range cells {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			if who != "" {
				req.Header.Set("Authorization", "Bearer "+who)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != code {
				t.Errorf("%s by %q: %d %s, want %d", path, who, res.StatusCode, body, code)
				continue
			}
			if code != 200 {
				continue
			}
			p := a[who].(Principal)
			if got := string(body); got != p.TokenID+p.KeyID+"|"+p.Actor().String() {
				t.Errorf("%s by %q: the handler saw %q", path, who, got)
			}
		}
	}
}

func TestActorOfEachPrincipal(t *testing.T) {
	for _, c := range []struct {
		p    Principal
		want domain.Actor
	}{
		{Principal{Staff: true, Role: Admin, TokenID: "st_a"}, domain.Actor{Kind: domain.ActorStaff, ID: "st_a", Role: "admin"}},
		{Principal{Staff: true, Role: Finance, Subject: "oidc:mei"}, domain.Actor{Kind: domain.ActorStaff, ID: "oidc:mei", Role: "finance"}},
		{Principal{AccountID: "acme", Subject: "saml:wang"}, domain.Actor{Kind: domain.ActorMember, ID: "saml:wang"}},
		{Principal{AccountID: "acme", KeyID: "k1"}, domain.Actor{Kind: domain.ActorKey, ID: "k1"}},
	} {
		if got := c.p.Actor(); got != c.want {
			t.Errorf("%+v: actor %+v, want %+v", c.p, got, c.want)
		}
	}
}
