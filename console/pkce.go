package console

// OpenRouter's OAuth PKCE flow: an app sends its user to /auth with a
// callback URL and a code challenge; the user, signed in to the console,
// approves; the console issues a key of the user's account, named after
// the app, and sends the browser to the callback with a one-time code; the
// app exchanges the code and its verifier at POST /api/v1/auth/keys for
// the key.
//
// The key's secret is stored hashed, as every key's; the code exchange
// hands it out once. Between the approval and the exchange the secret is
// kept sealed (AES-256-GCM) with a key derived from the code, under a hash
// of the code: in this process's memory, or in Redis when the console's
// state is shared (Authenticator.Share), so that any instance answers the
// exchange. Neither store holds the code or the secret in clear, and a
// sealed grant is useless without the code, which only the app's browser
// saw. A grant lives authCodeLife and is taken once, whether or not the
// verifier then matches; a code refused at its exchange (expired, wrong
// verifier or method) has its key revoked. Without Redis, a serve that
// restarted between the approval and the exchange has lost the grant: the
// code is refused and the app starts again (the key issued stays in the
// account's list, unused, where its owner may revoke it).

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/domain"
)

const (
	// authCodeLife is how long a code may be exchanged after its approval.
	authCodeLife = 10 * time.Minute
	// maxCallbackLen bounds a callback URL.
	maxCallbackLen = 2048
	// nextCookie keeps the /auth request a signed-out visitor is sent to
	// sign in from, to come back to once signed in.
	nextCookie = "rf_next"
	// maxGrants bounds the grants one process keeps in memory.
	maxGrants = 100_000
)

// authRequest is what an app asks of /auth: its callback and, optionally,
// a PKCE challenge with its method.
type authRequest struct {
	callback  *url.URL
	raw       url.Values // the three parameters as sent
	challenge string
	method    string // "S256" or "plain"; "" without a challenge
}

// app is the app's name as the user sees it and its key is named: the
// callback's host, with its port when it has one (localhost:3000).
func (r authRequest) app() string { return r.callback.Host }

// origin is where the approval's redirect goes, for the page's
// Content-Security-Policy (form-action covers a form's redirects).
func (r authRequest) origin() string { return r.callback.Scheme + "://" + r.callback.Host }

// path is the /auth request again, its parameters encoded anew.
func (r authRequest) path() string { return "/auth?" + r.raw.Encode() }

var (
	hostPattern      = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)
	s256Challenge    = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	plainChallenge   = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,256}$`)
	errAuthBadMethod = "code_challenge_method must be S256 or plain"
)

// parseAuthRequest reads and checks /auth's parameters: a callback that is
// https, or http to this machine (localhost, 127.0.0.1, [::1]), as
// OpenRouter takes them, without user information or a fragment; a
// challenge of its method's form (S256: 43 base64url characters, the
// SHA-256 of the verifier; plain: the verifier itself, 1 to 256 unreserved
// characters). A challenge without a method is plain (RFC 7636, 4.3).
func parseAuthRequest(get func(string) string) (authRequest, error) {
	cb, challenge, method := get("callback_url"), get("code_challenge"), get("code_challenge_method")
	bad := func(msg string) (authRequest, error) {
		return authRequest{}, echo.NewHTTPError(http.StatusBadRequest, msg)
	}
	if cb == "" {
		return bad("callback_url is required: the app's URL to send the user back to")
	}
	if len(cb) > maxCallbackLen {
		return bad(fmt.Sprintf("callback_url is longer than %d bytes", maxCallbackLen))
	}
	u, err := url.Parse(cb)
	if err != nil || u.Opaque != "" || u.User != nil || u.Fragment != "" || !hostPattern.MatchString(u.Host) {
		return bad("callback_url must be an absolute https URL, without user information or a fragment")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch h := strings.ToLower(u.Hostname()); {
	case u.Scheme == "https":
	case u.Scheme == "http" && (h == "localhost" || h == "127.0.0.1" || h == "::1"):
	default:
		return bad("callback_url must be https (http only to localhost, 127.0.0.1 or [::1])")
	}
	raw := url.Values{"callback_url": {cb}}
	if challenge == "" {
		if method != "" {
			return bad("code_challenge_method was sent without a code_challenge")
		}
		return authRequest{callback: u, raw: raw}, nil
	}
	raw.Set("code_challenge", challenge)
	if method != "" {
		raw.Set("code_challenge_method", method)
	} else {
		method = "plain"
	}
	switch {
	case method == "S256" && !s256Challenge.MatchString(challenge):
		return bad("an S256 code_challenge is the SHA-256 of the verifier in base64url without padding: 43 characters")
	case method == "plain" && !plainChallenge.MatchString(challenge):
		return bad("a plain code_challenge is the verifier itself: 1 to 256 letters, digits and - . _ ~")
	case method != "S256" && method != "plain":
		return bad(errAuthBadMethod)
	}
	return authRequest{callback: u, raw: raw, challenge: challenge, method: method}, nil
}

// withParam is the callback with one more query parameter, its own query
// kept as the app wrote it.
func withParam(u *url.URL, name, value string) string {
	out := *u
	p := url.QueryEscape(name) + "=" + url.QueryEscape(value)
	if out.RawQuery == "" {
		out.RawQuery = p
	} else {
		out.RawQuery += "&" + p
	}
	return out.String()
}

// authorizePage asks the signed-in user whether the app may have a key. A
// visitor not signed in signs in first and comes back here.
func (s *server) authorizePage(c echo.Context) error {
	req, err := parseAuthRequest(c.QueryParam)
	if err != nil {
		return err
	}
	r := c.Request()
	p, err := s.auth.Authenticate(r)
	if err != nil {
		// The session cookie is SameSite=Strict, and the app's link to here
		// is cross-site: the browser left it out. A page of our own moves
		// on, so that the next request is same-site and carries it.
		if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
			c.Response().Header().Set("Refresh", "0; url="+req.path())
			return s.render(c, http.StatusOK, "authorize", s.newPage(c, "title.auth", map[string]any{"Hop": req.path()}))
		}
		setCookie(c.Response(), r, nextCookie, req.path(), int(authCodeLife.Seconds()))
		return c.Redirect(http.StatusSeeOther, "/console/signin")
	}
	data := map[string]any{
		"App": req.app(), "Callback": req.callback.String(), "Fields": req.raw,
		"Account": p.AccountID, "CanApprove": !p.Staff && p.Management, "Staff": p.Staff,
	}
	if own, bound, err := s.callersLimits(p); err == nil && bound {
		data["Limits"] = own
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", strings.Replace(ContentSecurityPolicy, "form-action 'self'", "form-action 'self' "+req.origin(), 1))
	return s.render(c, http.StatusOK, "authorize", s.newPage(c, "title.auth", data))
}

// authorizeForm is the user's answer. Deny sends the browser back with
// error=access_denied (OAuth 2.0's, RFC 6749 4.1.2.1); approve issues a
// key of the account, as the console's key form does and within the
// signed-in key's own limits, and sends the browser back with a code.
func (s *server) authorizeForm(c echo.Context) error {
	req, err := parseAuthRequest(c.FormValue)
	if err != nil {
		return err
	}
	switch c.FormValue("decision") {
	case "deny":
		return c.Redirect(http.StatusSeeOther, withParam(req.callback, "error", "access_denied"))
	case "approve":
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "decision must be approve or deny")
	}
	by := principal(c)
	if by.Staff || !by.Management {
		return echo.NewHTTPError(http.StatusForbidden, auth.NeedsManagementKey)
	}
	in := keyInput{Name: req.app()}
	own, bound, err := s.callersLimits(by)
	if err != nil {
		return err
	}
	if bound { // the app's key gets the approving key's limits, never more
		in.Models = own.Models
		if own.SpendLimit.IsPositive() {
			limit := own.SpendLimit
			in.SpendLimit, in.SpendPeriod = &limit, own.SpendPeriod
		}
		in.ExpiresAt = own.ExpiresAt
	}
	ctx := c.Request().Context()
	keyID, secret, err := s.issueKey(ctx, by, by.AccountID, in)
	if err != nil {
		return err
	}
	code := randomToken()
	sealed, err := seal(code, secret)
	if err != nil {
		return err
	}
	g := authGrant{Challenge: req.challenge, Method: req.method, AccountID: by.AccountID, KeyID: keyID, Sealed: sealed,
		Expires: s.auth.now().Add(authCodeLife).UnixMilli()}
	if err := s.auth.grants.put(ctx, grantID(code), g, s.auth.now()); err != nil {
		s.deps.Logger.Error("console: keeping an app's code", "err", err)
		s.revokeUnclaimed(ctx, keyID)
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the code could not be kept: try again shortly")
	}
	return c.Redirect(http.StatusSeeOther, withParam(req.callback, "code", code))
}

// afterSignIn is where a sign-in leads: back to the /auth request that
// sent the visitor to sign in, else the console.
func afterSignIn(c echo.Context) string {
	ck, err := c.Request().Cookie(nextCookie)
	if err != nil {
		return "/console/"
	}
	setCookie(c.Response(), c.Request(), nextCookie, "", -1)
	if !strings.HasPrefix(ck.Value, "/auth?") || strings.ContainsAny(ck.Value, "\\\r\n") {
		return "/console/"
	}
	return ck.Value
}

// waitingApp is the app (its callback's host) of the /auth request a
// signed-out visitor was sent to sign in from, "" for none.
func waitingApp(r *http.Request) string {
	ck, err := r.Cookie(nextCookie)
	if err != nil || !strings.HasPrefix(ck.Value, "/auth?") {
		return ""
	}
	q, err := url.ParseQuery(strings.TrimPrefix(ck.Value, "/auth?"))
	if err != nil {
		return ""
	}
	req, err := parseAuthRequest(q.Get)
	if err != nil {
		return ""
	}
	return req.app()
}

// orExchangeCode is OpenRouter's POST /api/v1/auth/keys: a code and its
// verifier for the key. A code is taken at once: a second exchange, or
// one after a wrong verifier, gets nothing. As OpenRouter answers, an
// unknown, used or expired code or a verifier that does not match is a
// 403 "Invalid code or code_verifier", a method other than the
// approval's a 400.
func (s *server) orExchangeCode(c echo.Context) error {
	b, err := readJSON(c)
	if err != nil {
		return err
	}
	var in struct {
		Code     string `json:"code"`
		Verifier string `json:"code_verifier"`
		Method   string `json:"code_challenge_method"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return jsonRefusal(err)
	}
	if in.Code == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "code is required: the code the callback received")
	}
	if in.Method != "" && in.Method != "S256" && in.Method != "plain" {
		return echo.NewHTTPError(http.StatusBadRequest, "Invalid code_challenge_method: "+errAuthBadMethod)
	}
	id := grantID(in.Code)
	g, ok, err := s.auth.grants.take(c.Request().Context(), id)
	if err != nil {
		s.deps.Logger.Error("console: taking an app's code", "err", err)
		return echo.NewHTTPError(http.StatusServiceUnavailable, "codes cannot be checked right now: try again shortly")
	}
	const invalid = "Invalid code or code_verifier"
	if !ok {
		return echo.NewHTTPError(http.StatusForbidden, invalid+": the code is unknown or was used; a code is exchanged once, within 10 minutes of its approval")
	}
	var refusal *echo.HTTPError
	secret := ""
	switch {
	case s.auth.now().UnixMilli() >= g.Expires:
		refusal = echo.NewHTTPError(http.StatusForbidden, invalid+": the code expired; a code is exchanged within 10 minutes of its approval")
	case in.Method != "" && g.Method != "" && in.Method != g.Method:
		refusal = echo.NewHTTPError(http.StatusBadRequest, "Invalid code_challenge_method: the code was approved for "+g.Method)
	case !g.verifies(in.Verifier):
		refusal = echo.NewHTTPError(http.StatusForbidden, invalid+": the code_verifier does not match the code_challenge")
	default:
		if secret, err = unseal(in.Code, g.Sealed); err != nil {
			refusal = echo.NewHTTPError(http.StatusForbidden, invalid)
		}
	}
	if refusal != nil {
		// The code is spent and its key reached nobody: it is revoked
		// rather than left working in the account's list.
		s.revokeUnclaimed(domain.WithActor(c.Request().Context(), authCodeActor), g.KeyID)
		return refusal
	}
	return c.JSON(http.StatusOK, map[string]any{"key": secret, "user_id": g.AccountID})
}

// authCodeActor revokes the key of a code refused at its exchange.
var authCodeActor = domain.Actor{Kind: domain.ActorSystem, ID: "oauth-pkce"}

// revokeUnclaimed revokes the key of an approval whose code will never
// hand it out; a failure is logged, the key then left as issued.
func (s *server) revokeUnclaimed(ctx context.Context, keyID string) {
	h, settle := s.cmds()
	err := h.RevokeKey(ctx, keyID)
	if err == nil {
		err = settle(ctx)
	}
	if err != nil {
		s.deps.Logger.Error("console: revoking the key of a refused code", "key_id", keyID, "err", err)
	}
}

// authGrant is an approval waiting for its code's exchange: the challenge,
// the key issued, and its secret sealed with the code.
type authGrant struct {
	Challenge string `json:"challenge,omitempty"`
	Method    string `json:"method,omitempty"`
	AccountID string `json:"account"`
	KeyID     string `json:"key_id"`
	Sealed    []byte `json:"sealed"`
	Expires   int64  `json:"exp"` // Unix milliseconds
}

// verifies reports whether verifier answers the grant's challenge (S256:
// base64url of its SHA-256, without padding; plain: itself). A grant
// approved without a challenge needs none.
func (g authGrant) verifies(verifier string) bool {
	if g.Challenge == "" {
		return true
	}
	if verifier == "" {
		return false
	}
	got := verifier
	if g.Method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		got = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(g.Challenge)) == 1
}

// grantID is what a grant is kept under: a hash of its code, apart from
// the key that seals it.
func grantID(code string) string {
	sum := sha256.Sum256([]byte("routefree auth code id\x00" + code))
	return hex.EncodeToString(sum[:])
}

func sealKey(code string) cipher.AEAD {
	k := sha256.Sum256([]byte("routefree auth code seal\x00" + code))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

// seal encrypts secret with a key derived from code: nonce, then sealed
// text.
func seal(code, secret string) ([]byte, error) {
	aead := sealKey(code)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, []byte(secret), []byte(grantID(code))), nil
}

func unseal(code string, sealed []byte) (string, error) {
	aead := sealKey(code)
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("sealed secret too short")
	}
	b, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(grantID(code)))
	return string(b), err
}

// grantStore keeps grants until their exchange: in this process
// (memoryGrants) or in Redis for every instance (redisGrants).
type grantStore interface {
	// put keeps g under id until it expires; now sweeps expired ones.
	put(ctx context.Context, id string, g authGrant, now time.Time) error
	// take removes and returns the grant under id: of exchanges at once,
	// one gets it.
	take(ctx context.Context, id string) (authGrant, bool, error)
}

type memoryGrants struct {
	mu sync.Mutex
	m  map[string]authGrant
}

func (s *memoryGrants) put(_ context.Context, id string, g authGrant, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]authGrant{}
	}
	for k, v := range s.m {
		if now.UnixMilli() >= v.Expires {
			delete(s.m, k)
		}
	}
	if len(s.m) >= maxGrants {
		return errors.New("too many codes waiting for their exchange")
	}
	s.m[id] = g
	return nil
}

func (s *memoryGrants) take(_ context.Context, id string) (authGrant, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.m[id]
	delete(s.m, id)
	return g, ok, nil
}

// redisGrants keeps grants in Redis, expiring with their codes; GETDEL
// takes one once, whichever instance each exchange reaches.
type redisGrants struct {
	rdb    redis.UniversalClient
	prefix string
}

func (r *redisGrants) key(id string) string { return r.prefix + "console:authcode:" + id }

func (r *redisGrants) put(ctx context.Context, id string, g authGrant, now time.Time) error {
	b, err := json.Marshal(g)
	if err != nil {
		return err
	}
	ttl := time.UnixMilli(g.Expires).Sub(now)
	if ttl <= 0 {
		return nil
	}
	return r.rdb.Set(ctx, r.key(id), b, ttl).Err()
}

func (r *redisGrants) take(ctx context.Context, id string) (authGrant, bool, error) {
	b, err := r.rdb.GetDel(ctx, r.key(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return authGrant{}, false, nil
	}
	if err != nil {
		return authGrant{}, false, err
	}
	var g authGrant
	if err := json.Unmarshal(b, &g); err != nil {
		return authGrant{}, false, err
	}
	return g, true, nil
}
