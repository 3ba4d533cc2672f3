// Package auth says who is calling the admin API, the console and the
// invoicing API: a staff member by role, or a customer by an API key of their
// account; and it signs people in through their organisation's OpenID
// Connect or SAML identity provider (sso.go, oidc.go, saml.go).
package auth

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
)

// Role is a staff role.
type Role string

// Staff roles: admin runs accounts, keys, catalog and prices; finance records
// payments, invoices and quotes; auditor reads history and figures.
const (
	Admin   Role = "admin"
	Finance Role = "finance"
	Auditor Role = "auditor"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == Admin || r == Finance || r == Auditor }

// Principal is an authenticated caller.
type Principal struct {
	Staff     bool
	Role      Role   // staff only
	TokenID   string // staff token ID, for the audit trail
	AccountID string // customers only: the account of their API key
	KeyID     string // customers only
	// Management: customers only, the key carries the management scope
	// (domain.KeyWithin): it may issue and revoke the account's keys.
	Management bool
	// Subject: a person signed in through single sign-on, named by protocol
	// and the identity provider's subject ("oidc:…", "saml:…"). Staff then
	// have no TokenID; a customer has no KeyID and acts as the account's
	// owner.
	Subject string
	// Rule is, for a person signed in through single sign-on, the mapping
	// rule that made them who they are ("groups:rf-admins=admin"): their
	// session lasts while it is configured (Mapping.Keeps).
	Rule string
}

// Actor is who acts in the events a request of p causes: the staff token
// or signed-in staff member with its role, the customer's key, or the
// customer's signed-in person.
func (p Principal) Actor() domain.Actor {
	switch {
	case p.Staff && p.Subject != "":
		return domain.Actor{Kind: domain.ActorStaff, ID: p.Subject, Role: string(p.Role)}
	case p.Staff:
		return domain.Actor{Kind: domain.ActorStaff, ID: p.TokenID, Role: string(p.Role)}
	case p.Subject != "":
		return domain.Actor{Kind: domain.ActorMember, ID: p.Subject}
	}
	return domain.Actor{Kind: domain.ActorKey, ID: p.KeyID}
}

// ErrUnauthenticated and ErrForbidden map to 401 and 403.
var (
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrForbidden       = errors.New("forbidden")
)

// A key that may not act is told why in the words the model endpoints use,
// rather than asked to sign in: 401, as OpenRouter answers a key it does
// not take (unknown, disabled, revoked or expired).
var (
	ErrKeyUnknown  = errors.New("invalid API key")
	ErrKeyDisabled = errors.New("this API key is disabled; a management key can enable it again")
	ErrKeyRevoked  = errors.New("this API key has been revoked")
	// ErrKeyExpired is wrapped with the instant, in the model endpoints'
	// words: "this API key expired at …; use or issue another key".
	ErrKeyExpired = errors.New("this API key expired")
	// ErrTwoCredentials refuses a request with more than one
	// Authorization header: which one acts would be a guess (a proxy
	// adding its own, a staff token beside a key), as the model endpoints
	// refuse it.
	ErrTwoCredentials = errors.New("more than one Authorization header was sent: send one credential, as one Authorization header")
)

// Authenticator resolves the caller of a request (bearer token or session).
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

// FromContext returns the principal set by Require.
func FromContext(c echo.Context) (Principal, bool) {
	p, ok := c.Get("principal").(Principal)
	return p, ok
}

// Require lets through staff with one of roles (and, if customers is true,
// customers, whose handlers must then confine them to their own account).
func Require(a Authenticator, customers bool, roles ...Role) echo.MiddlewareFunc {
	return gate(a, func(p Principal) bool { return !p.Staff && customers }, roles, "", signIn)
}

// RequireKeyManager lets through staff with one of roles and customers whose
// key carries the management scope; an ordinary (inference) key is refused.
// Handlers must confine customers to their own account and to keys within
// their key's limits.
func RequireKeyManager(a Authenticator, roles ...Role) echo.MiddlewareFunc {
	return gate(a, func(p Principal) bool { return !p.Staff && p.Management }, roles, NeedsManagementKey, signIn)
}

// RequireManagementKey is RequireKeyManager for an API that staff do not
// use (OpenRouter's key management): a request without a credential is
// asked for the one thing it accepts.
func RequireManagementKey(a Authenticator) echo.MiddlewareFunc {
	return gate(a, func(p Principal) bool { return !p.Staff && p.Management }, nil, NeedsManagementKey, sendManagementKey)
}

// The refusals of a request without a credential.
const (
	signIn            = "sign in with a staff token or an API key"
	sendManagementKey = "this needs a management key of the account, sent as Authorization: Bearer sk-rf-…"
)

// NeedsManagementKey is the refusal of an inference key where a management
// key is needed: a customer learns what they lack, not that a "role" may not.
const NeedsManagementKey = "this needs a management key of the account: an inference key calls models and reads its account"

// gate lets through staff with one of roles and customers that customer
// accepts. A customer refused gets customerRefusal when set; a request
// without a credential, unauthenticated.
func gate(a Authenticator, customer func(Principal) bool, roles []Role, customerRefusal, unauthenticated string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, err := a.Authenticate(c.Request())
			if errors.Is(err, ErrForbidden) { // signed in, but e.g. without the form's CSRF token
				return echo.NewHTTPError(http.StatusForbidden, "the request's CSRF token is missing or wrong")
			}
			if errors.Is(err, ErrKeyUnknown) || errors.Is(err, ErrKeyExpired) || errors.Is(err, ErrKeyDisabled) || errors.Is(err, ErrKeyRevoked) ||
				errors.Is(err, ErrTwoCredentials) {
				return echo.NewHTTPError(http.StatusUnauthorized, err.Error())
			}
			if err != nil {
				return echo.NewHTTPError(http.StatusUnauthorized, unauthenticated)
			}
			allowed := customer(p)
			for _, r := range roles {
				if p.Staff && p.Role == r {
					allowed = true
				}
			}
			if !allowed {
				if !p.Staff && customerRefusal != "" {
					return echo.NewHTTPError(http.StatusForbidden, customerRefusal)
				}
				return echo.NewHTTPError(http.StatusForbidden, "your role may not do this")
			}
			c.Set("principal", p)
			// Every command the request runs records its caller.
			c.SetRequest(c.Request().WithContext(domain.WithActor(c.Request().Context(), p.Actor())))
			return next(c)
		}
	}
}
