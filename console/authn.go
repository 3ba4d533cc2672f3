package console

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/projections"
)

// Authenticator implements auth.Authenticator: a bearer staff token, a bearer
// API key (sk-rf-…), or the console's session cookie. Credentials are
// resolved on every request, so a revoked token or key stops at once, even
// inside a session.
type Authenticator struct {
	views    *Views
	keys     *projections.Keys
	sessions sessionStore
	signins  throttle
	forms    onceStore  // the one-time forms acted on
	grants   grantStore // apps' approved codes (OAuth PKCE) until their exchange
	// approvals are the approvals of /auth's forms, until one of their
	// codes is exchanged for the key, and the denials that void them.
	approvals grantStore
	now       func() time.Time // when keys expire against
	// sso is the rules of the single sign-ons turned on (Register sets
	// them): a signed-in person's session lasts while their rule does.
	sso ssoMappings
}

var _ auth.Authenticator = (*Authenticator)(nil)

// NewAuthenticator returns an authenticator over the staff tokens of views
// and the API keys of keys, with its own session store.
func NewAuthenticator(views *Views, keys *projections.Keys) *Authenticator {
	return &Authenticator{views: views, keys: keys, sessions: newSessions(), signins: memoryThrottle{newLimiter(signinFailures, signinWindow)},
		forms: &onceForms{}, grants: &memoryGrants{}, approvals: &memoryGrants{}, now: time.Now}
}

// WithClock makes keys expire against now (a test's clock).
func (a *Authenticator) WithClock(now func() time.Time) *Authenticator { a.now = now; return a }

// Sign-in throttling: this many failures per client address in the window,
// then that address waits.
const (
	signinFailures = 5
	signinWindow   = time.Minute
)

// Share keeps the console's state in Redis (keys under prefix): sessions,
// so that a browser signed in through one gateway instance is signed in on
// all of them, and sign-in failures, so that the throttle counts a client's
// guesses on every instance together, and the one-time forms acted on, so
// that a form sent again acts once whichever instance each copy reaches,
// and apps' approved codes and approvals, so that an app may exchange its
// code at any instance, an approval sent again issues no other key, and
// a denial voids the approvals before it.
// Call it before serving.
func (a *Authenticator) Share(rdb redis.UniversalClient, prefix string) {
	a.sessions = &redisSessions{rdb: rdb, prefix: prefix}
	a.forms = &redisOnce{rdb: rdb, prefix: prefix}
	a.grants = &redisGrants{rdb: rdb, prefix: prefix, name: "authcode"}
	a.approvals = &redisGrants{rdb: rdb, prefix: prefix, name: "authapproval"}
	a.signins = &redisThrottle{rdb: rdb, prefix: prefix, max: signinFailures, window: signinWindow, now: time.Now}
}

// Authenticate implements auth.Authenticator. A request authenticated by the
// session cookie that changes state must carry the session's CSRF token (form
// field csrf or header X-CSRF-Token).
func (a *Authenticator) Authenticate(r *http.Request) (auth.Principal, error) {
	if len(r.Header.Values("Authorization")) > 1 {
		return auth.Principal{}, auth.ErrTwoCredentials
	}
	if h := r.Header.Get("Authorization"); h != "" {
		// The scheme is case-insensitive (RFC 9110, 11.1), as the model
		// endpoints read it: "bearer sk-rf-…" is the same credential.
		if len(h) < len("Bearer ") || !strings.EqualFold(h[:len("Bearer ")], "Bearer ") {
			return auth.Principal{}, auth.ErrUnauthenticated
		}
		secret := strings.TrimSpace(h[len("Bearer "):])
		p, err := a.resolve(secret)
		if err != nil {
			err = a.keyRefusal(secret, err) // a bearer key that may not act is told why
		}
		return p, err
	}
	sess, ok := a.session(r)
	if !ok {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	if !safeMethod(r.Method) && !validCSRF(r, sess.csrf) {
		return auth.Principal{}, auth.ErrForbidden
	}
	if sess.kind == credKey {
		// A key disabled since the sign-in ended the session, even if it
		// has been enabled again since.
		return a.keyPrincipal(sess.credHash, &sess.gen)
	}
	return a.resolveHash(sess.kind, sess.credHash)
}

// keyRefusal is why a key secret that failed to resolve may not act:
// unknown, revoked, disabled or expired (the instant named). A secret that
// is not a key keeps err.
func (a *Authenticator) keyRefusal(secret string, err error) error {
	if !strings.HasPrefix(secret, commands.KeyPrefix) {
		return err
	}
	k, ok := a.keys.Lookup(commands.HashKey(secret))
	switch {
	case !ok:
		return auth.ErrKeyUnknown
	case k.Revoked:
		return auth.ErrKeyRevoked
	case k.Disabled:
		return auth.ErrKeyDisabled
	case k.Expired(a.now()):
		return &keyExpired{at: k.ExpiresAt}
	}
	return err
}

// keyExpired is auth.ErrKeyExpired with its instant, in the model
// endpoints' words, and the instant for the console's own.
type keyExpired struct{ at time.Time }

func (e *keyExpired) Error() string {
	return fmt.Sprintf("%s at %s; use or issue another key", auth.ErrKeyExpired, e.at.UTC().Format(time.RFC3339))
}

func (e *keyExpired) Unwrap() error { return auth.ErrKeyExpired }

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// validCSRF takes the token from the header or the form body, never from
// the URL, where logs, history and Referer headers would keep it.
func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

const (
	credStaff = "staff"
	credKey   = "key"
)

// resolve authenticates a secret: an API key or a staff token.
func (a *Authenticator) resolve(secret string) (auth.Principal, error) {
	if secret == "" {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	kind := credStaff
	if strings.HasPrefix(secret, commands.KeyPrefix) {
		kind = credKey
	}
	return a.resolveHash(kind, commands.HashKey(secret))
}

func (a *Authenticator) resolveHash(kind, hash string) (auth.Principal, error) {
	if kind == credSSO { // a single sign-on: the mapped principal itself
		p, err := decodeSSO(hash)
		if err != nil || !a.sso.keeps(p) {
			return auth.Principal{}, auth.ErrUnauthenticated
		}
		return p, nil
	}
	if kind == credKey {
		return a.keyPrincipal(hash, nil)
	}
	t, ok := a.views.StaffByHash(hash)
	if !ok || t.Revoked || !auth.Role(t.Role).Valid() {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	return auth.Principal{Staff: true, Role: auth.Role(t.Role), TokenID: t.ID}, nil
}

// keyPrincipal is the principal of a working key; signedIn, for a
// console session, is the key's count of disables at sign-in, which must
// not have changed.
func (a *Authenticator) keyPrincipal(hash string, signedIn *uint32) (auth.Principal, error) {
	k, ok := a.keys.Lookup(hash)
	if !ok || k.Revoked || k.Disabled || signedIn != nil && k.Disables != *signedIn || k.Expired(a.now()) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	return auth.Principal{AccountID: k.AccountID, KeyID: k.KeyID, Management: k.Management}, nil
}

// session returns the live session of the request's cookie.
func (a *Authenticator) session(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	return a.sessions.get(r.Context(), c.Value)
}
