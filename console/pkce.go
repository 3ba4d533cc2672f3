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
//
// One approval issues one key. The page's form carries a one-time token,
// bound to the session; the first copy of the form issues the key and
// keeps it, as long as its codes live, sealed with a key derived from the
// token and the session, under another hash of both (an approval). A copy
// sent again (a double click, whose first answer the browser drops, or a
// resend) issues nothing: it opens the approval and leads to the app with
// a fresh code for the same key. The first exchange of any of an
// approval's codes takes the approval with its code, so that the key is
// handed out once; a copy sent after that is answered with a page saying
// the app was given its key.

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
		"Once": randomToken(), // the approval's one-time token
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
// signed-in key's own limits, and sends the browser back with a code,
// once per one-time token of the page: a copy sent again issues nothing
// (approvedAgain).
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
	nonce, err := formToken(c)
	if err != nil {
		return err
	}
	ap := newApproval(s.approvalBinding(c, by), nonce)
	ctx := c.Request().Context()
	key := c.Request().URL.Path + "\x00" + ap.id
	_, first, err := s.auth.forms.begin(ctx, key)
	if err != nil {
		return err
	}
	if !first {
		return s.approvedAgain(c, req, ap)
	}
	code, err := s.approve(ctx, by, req, ap)
	if err != nil {
		s.auth.forms.fail(context.WithoutCancel(ctx), key)
		return err
	}
	s.formDone(ctx, key, "approved")
	return c.Redirect(http.StatusSeeOther, withParam(req.callback, "code", code))
}

// approve issues the app's key and keeps it under the approval ap and
// under a new code, which it returns.
func (s *server) approve(ctx context.Context, by auth.Principal, req authRequest, ap approval) (string, error) {
	in := keyInput{Name: req.app()}
	own, bound, err := s.callersLimits(by)
	if err != nil {
		return "", err
	}
	if bound { // the app's key gets the approving key's limits, never more
		in.Models = own.Models
		if own.SpendLimit.IsPositive() {
			limit := own.SpendLimit
			in.SpendLimit, in.SpendPeriod = &limit, own.SpendPeriod
		}
		in.ExpiresAt = own.ExpiresAt
	}
	keyID, secret, err := s.issueKey(ctx, by, by.AccountID, in)
	if err != nil {
		return "", err
	}
	now := s.auth.now()
	kept, err := sealSecret(ap.aead(), ap.id, secret)
	if err != nil {
		s.revokeUnclaimed(ctx, keyID)
		return "", err
	}
	a := authGrant{Challenge: req.challenge, Method: req.method, AccountID: by.AccountID, KeyID: keyID, Sealed: kept,
		Request: requestID(req), Until: now.Add(authCodeLife).UnixMilli(), Expires: now.Add(2 * authCodeLife).UnixMilli()}
	code := ""
	if err = s.auth.approvals.put(ctx, ap.id, a, now); err == nil {
		code, err = s.newCode(ctx, a, ap.id, secret)
	}
	if err != nil {
		s.deps.Logger.Error("console: keeping an app's code", "err", err)
		s.revokeUnclaimed(ctx, keyID)
		return "", errCodeNotKept
	}
	return code, nil
}

var errCodeNotKept = echo.NewHTTPError(http.StatusServiceUnavailable, "the code could not be kept: try again shortly")

// newCode keeps a new code for the key of the approval a (kept under
// approvalID), good until the approval's codes expire, and returns it.
func (s *server) newCode(ctx context.Context, a authGrant, approvalID, secret string) (string, error) {
	code := randomToken()
	sealed, err := seal(code, secret)
	if err != nil {
		return "", err
	}
	g := authGrant{Challenge: a.Challenge, Method: a.Method, AccountID: a.AccountID, KeyID: a.KeyID, Sealed: sealed,
		Expires: a.Until, Approval: approvalID}
	return code, s.auth.grants.put(ctx, grantID(code), g, s.auth.now())
}

// approvedAgain answers a copy of an approval form whose first copy
// issued the key: a fresh code for that key while the approval's codes
// live and none was exchanged, else a page saying the app was given it.
func (s *server) approvedAgain(c echo.Context, req authRequest, ap approval) error {
	ctx := c.Request().Context()
	a, ok, err := s.auth.approvals.get(ctx, ap.id)
	if err != nil {
		s.deps.Logger.Error("console: reading an app's approval", "err", err)
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the approval cannot be read right now: try again shortly")
	}
	if !ok || s.auth.now().UnixMilli() >= a.Until {
		return s.render(c, http.StatusOK, "authorize", s.newPage(c, "title.auth", map[string]any{"Given": req.app()}))
	}
	if a.Request != requestID(req) {
		return echo.NewHTTPError(http.StatusBadRequest, "this form was approved for another app's request: reload the page")
	}
	secret, err := openSecret(ap.aead(), ap.id, a.Sealed)
	if err != nil {
		return err
	}
	code, err := s.newCode(ctx, a, ap.id, secret)
	if err != nil {
		s.deps.Logger.Error("console: keeping an app's code", "err", err)
		return errCodeNotKept
	}
	return c.Redirect(http.StatusSeeOther, withParam(req.callback, "code", code))
}

// approval is an approval form's one-time token bound to its session: id
// is what the approval is kept under, material what its key is sealed
// with; neither is kept.
type approval struct{ id, material string }

func newApproval(binding, nonce string) approval {
	m := binding + "\x00" + nonce
	sum := sha256.Sum256([]byte("routefree auth approval id\x00" + m))
	return approval{id: hex.EncodeToString(sum[:]), material: m}
}

func (a approval) aead() cipher.AEAD { return aeadOf("routefree auth approval seal", a.material) }

// approvalBinding is what an approval form's token is bound to: the
// session's own secret (its CSRF token), or for a request without a
// session, its credential.
func (s *server) approvalBinding(c echo.Context, by auth.Principal) string {
	if ss, ok := s.auth.session(c.Request()); ok {
		return "session\x00" + ss.csrf
	}
	return "credential\x00" + by.KeyID + "\x00" + by.TokenID + "\x00" + by.Subject
}

// requestID is a hash of the /auth request approved.
func requestID(req authRequest) string {
	sum := sha256.Sum256([]byte(req.path()))
	return hex.EncodeToString(sum[:])
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
	unknown := echo.NewHTTPError(http.StatusForbidden, invalid+": the code is unknown or was used; a code is exchanged once, within 10 minutes of its approval")
	if !ok {
		return unknown
	}
	if g.Approval != "" {
		// The approval's first code exchanged decides: another code of it
		// (of a copy of the form sent again) then gets nothing.
		_, first, err := s.auth.approvals.take(c.Request().Context(), g.Approval)
		if err != nil {
			s.deps.Logger.Error("console: taking an app's approval", "err", err)
			return echo.NewHTTPError(http.StatusServiceUnavailable, "codes cannot be checked right now: try again shortly")
		}
		if !first {
			return unknown
		}
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
	// Approval is, on a code's grant, the approval it was given for.
	Approval string `json:"approval,omitempty"`
	// Request and Until are, on an approval, a hash of the /auth request
	// approved and when its codes expire (Unix milliseconds).
	Request string `json:"request,omitempty"`
	Until   int64  `json:"until,omitempty"`
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

// aeadOf is AES-256-GCM with a key derived from s under label.
func aeadOf(label, s string) cipher.AEAD {
	k := sha256.Sum256([]byte(label + "\x00" + s))
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
	return sealSecret(aeadOf("routefree auth code seal", code), grantID(code), secret)
}

func unseal(code string, sealed []byte) (string, error) {
	return openSecret(aeadOf("routefree auth code seal", code), grantID(code), sealed)
}

func sealSecret(aead cipher.AEAD, aad, secret string) ([]byte, error) {
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, []byte(secret), []byte(aad)), nil
}

func openSecret(aead cipher.AEAD, aad string, sealed []byte) (string, error) {
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("sealed secret too short")
	}
	b, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(aad))
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
	// get returns the grant under id and leaves it.
	get(ctx context.Context, id string) (authGrant, bool, error)
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

func (s *memoryGrants) get(_ context.Context, id string) (authGrant, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.m[id]
	return g, ok, nil
}

// redisGrants keeps grants in Redis, expiring with their codes; GETDEL
// takes one once, whichever instance each exchange reaches.
type redisGrants struct {
	rdb    redis.UniversalClient
	prefix string
	name   string // what they are: "authcode", "authapproval"
}

func (r *redisGrants) key(id string) string { return r.prefix + "console:" + r.name + ":" + id }

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
	return r.read(r.rdb.GetDel(ctx, r.key(id)))
}

func (r *redisGrants) get(ctx context.Context, id string) (authGrant, bool, error) {
	return r.read(r.rdb.Get(ctx, r.key(id)))
}

func (r *redisGrants) read(cmd *redis.StringCmd) (authGrant, bool, error) {
	b, err := cmd.Bytes()
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
