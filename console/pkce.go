package console

// OpenRouter's OAuth PKCE flow: an app sends its user to /auth with a
// callback URL and a code challenge; the user, signed in to the console,
// approves; the console sends the browser to the callback with a one-time
// code; the app exchanges the code and its verifier at POST
// /api/v1/auth/keys, and only then is a key of the user's account issued,
// named after the app, and handed out.
//
// Nothing usable exists before the exchange: an approval keeps what the
// key will be (its account, name and limits, who approved it, and the ID
// it will have), and a code points to its approval. An app that never
// exchanges its code (it crashed, or took longer than authCodeLife) leaves
// nothing behind, and a user who denies after approving (the same page's
// other button, or the page again by the back button) voids the approvals
// of that request they made before. Approvals and codes live in this
// process's memory, or in Redis when the console's state is shared
// (Authenticator.Share), so that any instance answers the exchange. They
// are kept under hashes of the code and of the form's one-time token, and
// hold no secret: the key's secret is made by the exchange, stored hashed
// as every key's, and handed out in its answer alone. Without Redis, a
// serve that restarted between the approval and the exchange has lost the
// approval: the code is refused and the app starts again.
//
// One approval issues one key. The page's form carries a one-time token,
// bound to the session; the first copy of the form keeps the approval and
// answers with a code; a copy sent again (a double click, whose first
// answer the browser drops, or a resend) leads to the app with a fresh
// code of the same approval. The first exchange of any of an approval's
// codes takes the approval with its code, so that one exchange issues its
// key, under the ID the approval fixed; a copy of the form sent after that
// is answered with a page saying the app was given its key.

import (
	"container/heap"
	"context"
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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
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
	// maxGrantsPerAccount bounds the grants of one account waiting in a
	// store (approvals and denials; codes), so that one account approving
	// in a loop cannot fill the store for every other: far more than a
	// person approves apps within a code's life.
	maxGrantsPerAccount = 100
)

// errTooManyWaiting refuses a grant past its account's bound.
var errTooManyWaiting = errors.New("too many app approvals waiting for their exchange")

// authRequest is what an app asks of /auth: its callback and, optionally,
// a PKCE challenge with its method and a spending limit for the key.
type authRequest struct {
	callback  *url.URL
	raw       url.Values // the parameters as sent
	challenge string
	method    string           // "S256" or "plain"; "" without a challenge
	limit     *decimal.Decimal // NTD; nil: none asked
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
	limitPattern     = regexp.MustCompile(`^[0-9]{1,12}(\.[0-9]{1,2})?$`)
	hostPattern      = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)
	s256Challenge    = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	plainChallenge   = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,256}$`)
	errAuthBadMethod = "code_challenge_method must be S256 or plain"
)

// parseAuthRequest reads and checks /auth's parameters: a callback that is
// https, or http to this machine (localhost, 127.0.0.1, [::1]), as
// OpenRouter takes them, without user information or a fragment (OAuth
// 2.0's redirection endpoints have none, RFC 6749 3.1.2); a challenge of
// its method's form (S256: 43 base64url characters, the SHA-256 of the
// verifier; plain: the verifier itself, 1 to 256 unreserved characters). A
// challenge without a method is plain (RFC 7636, 4.3). Each refusal says
// what is wrong, for the page (errtext.go has them in both languages).
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
	if err != nil {
		return bad("callback_url must be an absolute https URL")
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	switch h := u.Hostname(); {
	case u.Scheme == "https":
	case u.Scheme == "http" && (h == "localhost" || h == "127.0.0.1" || h == "::1"):
	default:
		return bad("callback_url must be https (http only to localhost, 127.0.0.1 or [::1])")
	}
	switch {
	case u.User != nil:
		return bad("callback_url must not carry user information (user:password@)")
	case u.Fragment != "":
		return bad("callback_url must not have a fragment (#…): the code is added to its query")
	case u.Opaque != "" || !hostPattern.MatchString(u.Host) || !validPort(u.Port()):
		return bad("callback_url must be an absolute https URL")
	}
	raw := url.Values{"callback_url": {cb}}
	// limit, as OpenRouter's /auth takes it, is the key's spending limit.
	var limit *decimal.Decimal
	if l := get("limit"); l != "" {
		d, err := decimal.NewFromString(l)
		if !limitPattern.MatchString(l) || err != nil || !d.IsPositive() {
			return bad("limit must be a positive amount of NTD with at most two decimal places (NT$0.01)")
		}
		limit = &d
		raw.Set("limit", l)
	}
	if challenge == "" {
		if method != "" {
			return bad("code_challenge_method was sent without a code_challenge")
		}
		return authRequest{callback: u, raw: raw, limit: limit}, nil
	}
	raw.Set("code_challenge", challenge)
	if method != "" {
		raw.Set("code_challenge_method", method)
	} else {
		method = "plain"
	}
	switch {
	case method != "S256" && method != "plain":
		return bad(errAuthBadMethod)
	case method == "S256" && !s256Challenge.MatchString(challenge):
		return bad("an S256 code_challenge is the SHA-256 of the verifier in base64url without padding: 43 characters")
	case method == "plain" && !plainChallenge.MatchString(challenge):
		return bad("a plain code_challenge is the verifier itself: 1 to 256 letters, digits and - . _ ~")
	}
	return authRequest{callback: u, raw: raw, challenge: challenge, method: method, limit: limit}, nil
}

// validPort reports whether p, a URL's port, is none or 1 to 65535.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// withParam is the callback with one more query parameter. The app's own
// query is kept as it wrote it (its state, its page's parameters), as
// OAuth 2.0 requires (RFC 6749, 3.1.2), except for parameters of the
// answer's own names (code, error), which would leave the app reading its
// own rather than ours; a character a URL may not carry (a space, a
// quote) is escaped, as a browser would.
func withParam(u *url.URL, name, value string) string {
	out := *u
	var kept []string
	for _, p := range strings.Split(out.RawQuery, "&") {
		k, _, _ := strings.Cut(p, "=")
		if k, err := url.QueryUnescape(k); p == "" || err == nil && (k == "code" || k == "error") {
			continue
		}
		kept = append(kept, escapeQuery(p))
	}
	out.RawQuery = strings.Join(append(kept, url.QueryEscape(name)+"="+url.QueryEscape(value)), "&")
	out.ForceQuery = false
	return out.String()
}

// escapeQuery escapes the bytes of a query a URL may not carry (RFC 3986,
// 3.4), leaving the others, escapes included, as they are.
func escapeQuery(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=:@/?%", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
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
	if own, bound, err := s.callersLimits(p); err == nil {
		if in := req.keyTerms(own, bound); in.SpendLimit != nil || bound {
			data["Limits"] = in
		}
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", strings.Replace(ContentSecurityPolicy, "form-action 'self'", "form-action 'self' "+req.origin(), 1))
	return s.render(c, http.StatusOK, "authorize", s.newPage(c, "title.auth", data))
}

// authorizeForm is the user's answer. Deny sends the browser back with
// error=access_denied (OAuth 2.0's, RFC 6749 4.1.2.1), voiding the user's
// approvals of the same request made before it; approve keeps an approval
// of a key of the account, within the signed-in key's own limits, and
// sends the browser back with a code, once per one-time token of the
// page: a copy sent again keeps nothing new (approvedAgain).
func (s *server) authorizeForm(c echo.Context) error {
	req, err := parseAuthRequest(c.FormValue)
	if err != nil {
		return err
	}
	by := principal(c)
	switch c.FormValue("decision") {
	case "deny":
		return s.deny(c, by, req)
	case "approve":
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "decision must be approve or deny")
	}
	if by.Staff || !by.Management {
		return echo.NewHTTPError(http.StatusForbidden, auth.NeedsManagementKey)
	}
	nonce, err := formToken(c)
	if err != nil {
		return err
	}
	ap := newApproval(s.approvalBinding(c, by), nonce)
	ctx := c.Request().Context()
	key := c.Request().URL.Path + "\x00" + ap
	_, first, err := s.auth.forms.begin(ctx, key)
	if err != nil {
		return err
	}
	if !first {
		return s.approvedAgain(c, req, ap)
	}
	code, err := s.approve(ctx, by, req, ap, s.pendingID(c, by, req))
	if err != nil {
		s.auth.forms.fail(context.WithoutCancel(ctx), key)
		return err
	}
	s.formDone(ctx, key, "approved")
	return c.Redirect(http.StatusSeeOther, withParam(req.callback, "code", code))
}

// deny sends the browser back to the app with access_denied, after
// recording the denial so that the codes of the user's approvals of this
// request made before it are refused: the user's last word is no. Failing
// to record it, the user is told so rather than sent on.
func (s *server) deny(c echo.Context, by auth.Principal, req authRequest) error {
	now := s.auth.now()
	d := authGrant{Denial: randomToken(), AccountID: by.AccountID, Expires: now.Add(authCodeLife).UnixMilli()}
	if err := s.auth.approvals.put(c.Request().Context(), denialID(s.pendingID(c, by, req)), d, now); errors.Is(err, errTooManyWaiting) {
		return errTooManyApprovals
	} else if err != nil {
		s.deps.Logger.Error("console: recording an app's denial", "err", err)
		return errDenialNotKept
	}
	return c.Redirect(http.StatusSeeOther, withParam(req.callback, "error", "access_denied"))
}

// approve keeps the approval ap of the app's key, which the exchange of
// one of its codes issues, and a first code, which it returns. The key's
// terms are fixed now, as the page showed them (keyTerms); and its ID, so
// that it is issued once.
func (s *server) approve(ctx context.Context, by auth.Principal, req authRequest, ap, pending string) (string, error) {
	own, bound, err := s.callersLimits(by)
	if err != nil {
		return "", err
	}
	in := req.keyTerms(own, bound)
	// Refusals the exchange would meet are told to the user now.
	k := domain.KeyIssued{AccountID: by.AccountID, Name: in.Name, Models: in.Models, ExpiresAt: in.ExpiresAt}
	if in.SpendLimit != nil {
		k.SpendLimit, k.SpendPeriod = *in.SpendLimit, in.SpendPeriod
	}
	if err := s.refuseIfSuspended(ctx, by, by.AccountID); err != nil {
		return "", err
	}
	if err := s.withinCallersKey(by, k); err != nil {
		return "", err
	}
	h, _ := s.cmds()
	if err := h.CheckIssue(domain.WithActor(ctx, by.Actor()), k); err != nil {
		return "", apiError(err)
	}
	// A denial made before this approval does not void it: the approval
	// names the one it came after, and the exchange refuses it only if
	// another was made since.
	before, _, err := s.auth.approvals.get(ctx, denialID(pending))
	if err != nil {
		s.deps.Logger.Error("console: reading an app's denial", "err", err)
		return "", errCodeNotKept
	}
	now := s.auth.now()
	a := authGrant{Challenge: req.challenge, Method: req.method, AccountID: by.AccountID,
		KeyID: commands.NewKeyID(), Key: &in, ByKey: by.KeyID, BySubject: by.Subject, ByRule: by.Rule, Pending: pending, Denial: before.Denial,
		Request: requestID(req), Until: now.Add(authCodeLife).UnixMilli(), Expires: now.Add(2 * authCodeLife).UnixMilli()}
	code := ""
	if err = s.auth.approvals.put(ctx, ap, a, now); err == nil {
		code, err = s.newCode(ctx, a, ap)
	}
	if errors.Is(err, errTooManyWaiting) {
		return "", errTooManyApprovals
	}
	if err != nil {
		s.deps.Logger.Error("console: keeping an app's approval", "err", err)
		return "", errCodeNotKept
	}
	return code, nil
}

var (
	errTooManyApprovals = echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf(
		"this account has %d app approvals waiting for their apps to exchange them, the most it may have: try again once they are exchanged or expire (within 10 minutes)", maxGrantsPerAccount))
	errCodeNotKept      = echo.NewHTTPError(http.StatusServiceUnavailable, "the code could not be kept: try again shortly")
	errApprovalNotRead  = echo.NewHTTPError(http.StatusServiceUnavailable, "the approval cannot be read right now: try again shortly")
	errDenialNotKept    = echo.NewHTTPError(http.StatusServiceUnavailable, "the denial could not be recorded: try again shortly")
	errCodesUnavailable = echo.NewHTTPError(http.StatusServiceUnavailable, "codes cannot be checked right now: try again shortly")
)

// keyTerms is the key the app will get, as the page shows it: the
// approving key's limits when it has them (bound), never more, and the
// spending limit the app asked for, which never resets, as OpenRouter's
// does (a total for the key's life, within any period of the approving
// key's own), and is at most the approving key's limit.
func (r authRequest) keyTerms(own domain.KeyIssued, bound bool) keyInput {
	in := keyInput{Name: r.app()}
	if bound {
		in.Models = own.Models
		if own.SpendLimit.IsPositive() {
			limit := own.SpendLimit
			in.SpendLimit, in.SpendPeriod = &limit, own.SpendPeriod
		}
		in.ExpiresAt = own.ExpiresAt
	}
	if r.limit != nil {
		limit := *r.limit
		if in.SpendLimit != nil && in.SpendLimit.LessThan(limit) {
			limit = *in.SpendLimit
		}
		in.SpendLimit, in.SpendPeriod = &limit, projections.PeriodNever
	}
	return in
}

// newCode keeps a new code of the approval a (kept under approvalID),
// good until the approval's codes expire, and returns it.
func (s *server) newCode(ctx context.Context, a authGrant, approvalID string) (string, error) {
	code := randomToken()
	return code, s.auth.grants.put(ctx, grantID(code), authGrant{Approval: approvalID, AccountID: a.AccountID, Expires: a.Until}, s.auth.now())
}

// approvedAgain answers a copy of an approval form whose first copy kept
// the approval: a fresh code of it while its codes live and none was
// exchanged, else a page saying the app was given its key.
func (s *server) approvedAgain(c echo.Context, req authRequest, ap string) error {
	ctx := c.Request().Context()
	a, ok, err := s.auth.approvals.get(ctx, ap)
	if err != nil {
		s.deps.Logger.Error("console: reading an app's approval", "err", err)
		return errApprovalNotRead
	}
	if !ok || s.auth.now().UnixMilli() >= a.Until {
		return s.render(c, http.StatusOK, "authorize", s.newPage(c, "title.auth", map[string]any{"Given": req.app()}))
	}
	if a.Request != requestID(req) {
		return echo.NewHTTPError(http.StatusBadRequest, "this form was approved for another app's request: reload the page")
	}
	code, err := s.newCode(ctx, a, ap)
	if errors.Is(err, errTooManyWaiting) {
		return errTooManyApprovals
	}
	if err != nil {
		s.deps.Logger.Error("console: keeping an app's code", "err", err)
		return errCodeNotKept
	}
	return c.Redirect(http.StatusSeeOther, withParam(req.callback, "code", code))
}

// newApproval is what an approval form's one-time token, bound to its
// session, is kept under; neither is kept.
func newApproval(binding, nonce string) string {
	sum := sha256.Sum256([]byte("routefree auth approval id\x00" + binding + "\x00" + nonce))
	return hex.EncodeToString(sum[:])
}

// approvalBinding is what an approval form's token is bound to: the
// session's own secret (its CSRF token), or for a request without a
// session, its credential.
func (s *server) approvalBinding(c echo.Context, by auth.Principal) string {
	if ss, ok := s.auth.session(c.Request()); ok {
		return "session\x00" + ss.csrf
	}
	return "credential\x00" + by.KeyID + "\x00" + by.TokenID + "\x00" + by.Subject
}

// pendingID names one user's answers to one app's request, whatever page
// they came from: a hash of the session (approvalBinding) and the request.
// A denial is kept under it, and the approvals it voids name it.
func (s *server) pendingID(c echo.Context, by auth.Principal, req authRequest) string {
	sum := sha256.Sum256([]byte("routefree auth pending\x00" + s.approvalBinding(c, by) + "\x00" + req.path()))
	return hex.EncodeToString(sum[:])
}

// denialID is what a denial of pending is kept under, beside approvals.
func denialID(pending string) string {
	sum := sha256.Sum256([]byte("routefree auth denial\x00" + pending))
	return hex.EncodeToString(sum[:])
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
// verifier for the key, issued now. A code is taken at once, and with it
// its approval: a second exchange, one after a wrong verifier, or one of
// another code of the same approval gets nothing. As OpenRouter answers,
// an unknown, used, expired or denied code or a verifier that does not
// match is a 403 "Invalid code or code_verifier", a method other than the
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
	ctx := c.Request().Context()
	const invalid = "Invalid code or code_verifier"
	unknown := echo.NewHTTPError(http.StatusForbidden, invalid+": the code is unknown or was used; a code is exchanged once, within 10 minutes of its approval")
	g, ok, err := s.auth.grants.take(ctx, grantID(in.Code))
	if err != nil {
		s.deps.Logger.Error("console: taking an app's code", "err", err)
		return errCodesUnavailable
	}
	if !ok {
		return unknown
	}
	// The approval's first code exchanged decides: another code of it (of
	// a copy of the form sent again) then gets nothing.
	a, ok, err := s.auth.approvals.take(ctx, g.Approval)
	if err != nil {
		s.deps.Logger.Error("console: taking an app's approval", "err", err)
		return errCodesUnavailable
	}
	if !ok {
		return unknown
	}
	d, denied, err := s.auth.approvals.get(ctx, denialID(a.Pending))
	if err != nil {
		s.deps.Logger.Error("console: reading an app's denial", "err", err)
		return errCodesUnavailable
	}
	switch {
	case denied && d.Denial != a.Denial:
		return echo.NewHTTPError(http.StatusForbidden, invalid+": the user denied the app after approving it")
	case s.auth.now().UnixMilli() >= g.Expires:
		return echo.NewHTTPError(http.StatusForbidden, invalid+": the code expired; a code is exchanged within 10 minutes of its approval")
	case in.Method != "" && a.Method != "" && in.Method != a.Method:
		return echo.NewHTTPError(http.StatusBadRequest, "Invalid code_challenge_method: the code was approved for "+a.Method)
	case !a.verifies(in.Verifier):
		return echo.NewHTTPError(http.StatusForbidden, invalid+": the code_verifier does not match the code_challenge")
	}
	secret, err := s.issueApproved(ctx, a)
	if secret != "" {
		if err != nil { // issued; the read models catch up on their own
			s.deps.Logger.Error("console: an app's key issued, not yet shown", "key_id", a.KeyID, "err", err)
		}
		return c.JSON(http.StatusOK, map[string]any{"key": secret, "user_id": a.AccountID})
	}
	var he *echo.HTTPError
	var rate *commands.KeyRateError
	switch {
	case errors.As(err, &rate):
		// The account made its most keys in the hour: nothing was issued,
		// and the code and its approval are put back, so that the app may
		// exchange it again once the next key can be made (within the
		// code's life; after it, the user approves again).
		now := s.auth.now()
		if s.auth.approvals.put(ctx, g.Approval, a, now) == nil {
			_ = s.auth.grants.put(ctx, grantID(in.Code), g, now)
		}
		return keyRateRefusal(c, rate, fmt.Sprintf("the key approved cannot be issued yet: %s", strings.TrimPrefix(rate.Error(), commands.ErrKeyRate.Error()+": ")))
	case errors.Is(err, commands.ErrConflict):
		// An earlier exchange of this approval issued the key and failed
		// before answering: its secret reached nobody.
		s.revokeUnclaimed(domain.WithActor(ctx, authCodeActor), a.KeyID)
		return unknown
	case errors.As(apiError(err), &he) && he.Code < http.StatusInternalServerError:
		// The approval no longer holds: the account was suspended, or the
		// approving key revoked or narrowed, since.
		return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("%s: the key approved can no longer be issued: %v", invalid, he.Message))
	}
	// Nothing was issued: the code and its approval are put back, so that
	// the app may send the exchange again.
	s.deps.Logger.Error("console: issuing an app's key", "err", err)
	now := s.auth.now()
	if s.auth.approvals.put(ctx, g.Approval, a, now) == nil {
		_ = s.auth.grants.put(ctx, grantID(in.Code), g, now)
	}
	return errCodesUnavailable
}

// issueApproved issues the key of the approval a, as the approving key or
// person, within its limits as they are now. secret is set once the key
// is issued, err then saying only that the read models lag.
func (s *server) issueApproved(ctx context.Context, a authGrant) (secret string, err error) {
	by := auth.Principal{AccountID: a.AccountID, KeyID: a.ByKey, Subject: a.BySubject, Rule: a.ByRule, Management: true}
	if by.KeyID != "" && !s.keyWorks(a.AccountID, by.KeyID) {
		return "", fmt.Errorf("%w: the key that approved it was revoked, disabled or expired", domain.ErrKeyScope)
	}
	if by.KeyID == "" && !s.auth.sso.keeps(by) {
		return "", fmt.Errorf("%w: the single sign-on rule that made the person who approved it the account's owner is no longer configured", domain.ErrKeyScope)
	}
	if a.Key == nil {
		return "", fmt.Errorf("%w: the approval names no key", commands.ErrInvalid)
	}
	_, secret, err = s.issueKeyAs(domain.WithActor(ctx, by.Actor()), by, a.AccountID, *a.Key, a.KeyID)
	return secret, err
}

// keyWorks reports whether the account's key keyID may still act.
func (s *server) keyWorks(account, keyID string) bool {
	for _, k := range s.deps.Models.Keys.ByAccount(account) {
		if k.KeyID == keyID {
			return !k.Revoked && !k.Disabled && (k.ExpiresAt.IsZero() || s.auth.now().Before(k.ExpiresAt))
		}
	}
	return false
}

// authCodeActor revokes the key of an exchange that failed to answer.
var authCodeActor = domain.Actor{Kind: domain.ActorSystem, ID: "oauth-pkce"}

// revokeUnclaimed revokes a key whose secret reached nobody; a failure is
// logged, the key then left as issued.
func (s *server) revokeUnclaimed(ctx context.Context, keyID string) {
	h, settle := s.cmds()
	err := h.RevokeKey(ctx, keyID)
	if err == nil {
		err = settle(ctx)
	}
	if err != nil {
		s.deps.Logger.Error("console: revoking an app's key that reached nobody", "key_id", keyID, "err", err)
	}
}

// authGrant is what /auth keeps until an exchange: a code (Approval and
// Expires), an approval (the key to issue, and its challenge), or a
// denial (Denial and Expires). None holds a secret.
type authGrant struct {
	Expires int64 `json:"exp"` // Unix milliseconds
	// Approval is, on a code, the approval it was given for.
	Approval string `json:"approval,omitempty"`
	// Denial is, on a denial, its own random ID; on an approval, the ID of
	// the denial of the same request made before it, if any.
	Denial string `json:"denial,omitempty"`

	// The rest is an approval's: the challenge; the key, its ID fixed so
	// that it is issued once; who approved it (their key, or the person
	// signed in by single sign-on); the user's answers it belongs to
	// (pendingID), a hash of the /auth request approved, and when its
	// codes expire (Unix milliseconds).
	Challenge string    `json:"challenge,omitempty"`
	Method    string    `json:"method,omitempty"`
	AccountID string    `json:"account,omitempty"`
	KeyID     string    `json:"key_id,omitempty"`
	Key       *keyInput `json:"key,omitempty"`
	ByKey     string    `json:"by_key,omitempty"`
	BySubject string    `json:"by_subject,omitempty"`
	ByRule    string    `json:"by_rule,omitempty"` // the single sign-on rule that mapped BySubject
	Pending   string    `json:"pending,omitempty"`
	Request   string    `json:"request,omitempty"`
	Until     int64     `json:"until,omitempty"`
}

// verifies reports whether verifier answers the approval's challenge
// (S256: base64url of its SHA-256, without padding; plain: itself). An
// approval without a challenge needs none.
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

// grantID is what a code is kept under: a hash of it.
func grantID(code string) string {
	sum := sha256.Sum256([]byte("routefree auth code id\x00" + code))
	return hex.EncodeToString(sum[:])
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

// memoryGrants keeps grants in this process, at most maxGrants of them
// and maxGrantsPerAccount of one account's. A min-heap of their expiries
// lets each put drop every expired grant at the cost of those it drops,
// where a sweep of the whole map would make each put of a burst of
// approvals cost every grant kept.
type memoryGrants struct {
	mu        sync.Mutex
	m         map[string]*heldGrant
	byExpiry  grantHeap
	ofAccount map[string]int // grants kept by account (those that name one)
}

// heldGrant is a grant kept, with its place in the heap (so that a take
// removes it from there too).
type heldGrant struct {
	id string
	g  authGrant
	i  int
}

// drop forgets a grant taken from the map and the heap.
func (s *memoryGrants) drop(e *heldGrant) {
	delete(s.m, e.id)
	if a := e.g.AccountID; a != "" {
		if s.ofAccount[a]--; s.ofAccount[a] <= 0 {
			delete(s.ofAccount, a)
		}
	}
}

// grantHeap orders grants by expiry, the soonest first (container/heap).
type grantHeap []*heldGrant

func (h grantHeap) Len() int           { return len(h) }
func (h grantHeap) Less(i, j int) bool { return h[i].g.Expires < h[j].g.Expires }
func (h grantHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].i, h[j].i = i, j
}
func (h *grantHeap) Push(x any) {
	e := x.(*heldGrant)
	e.i = len(*h)
	*h = append(*h, e)
}
func (h *grantHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

func (s *memoryGrants) put(_ context.Context, id string, g authGrant, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m, s.ofAccount = map[string]*heldGrant{}, map[string]int{}
	}
	for len(s.byExpiry) > 0 && now.UnixMilli() >= s.byExpiry[0].g.Expires {
		s.drop(heap.Pop(&s.byExpiry).(*heldGrant))
	}
	if e, ok := s.m[id]; ok && e.g.AccountID == g.AccountID {
		e.g = g
		heap.Fix(&s.byExpiry, e.i)
		return nil
	} else if ok {
		heap.Remove(&s.byExpiry, e.i)
		s.drop(e)
	}
	if len(s.m) >= maxGrants {
		return errors.New("too many codes waiting for their exchange")
	}
	if g.AccountID != "" && s.ofAccount[g.AccountID] >= maxGrantsPerAccount {
		return errTooManyWaiting
	}
	e := &heldGrant{id: id, g: g}
	s.m[id] = e
	if g.AccountID != "" {
		s.ofAccount[g.AccountID]++
	}
	heap.Push(&s.byExpiry, e)
	return nil
}

func (s *memoryGrants) take(_ context.Context, id string) (authGrant, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[id]
	if !ok {
		return authGrant{}, false, nil
	}
	heap.Remove(&s.byExpiry, e.i)
	s.drop(e)
	return e.g, true, nil
}

func (s *memoryGrants) get(_ context.Context, id string) (authGrant, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[id]; ok {
		return e.g, true, nil
	}
	return authGrant{}, false, nil
}

// redisGrants keeps grants in Redis, expiring with their codes; GETDEL
// takes one once, whichever instance each exchange reaches. The grants of
// each account waiting are also listed in a sorted set (score: expiry),
// which bounds them to maxGrantsPerAccount across every instance.
type redisGrants struct {
	rdb    redis.UniversalClient
	prefix string
	name   string // what they are: "authcode", "authapproval"
}

func (r *redisGrants) key(id string) string { return r.prefix + "console:" + r.name + ":" + id }

// accountKey lists an account's grants waiting.
func (r *redisGrants) accountKey(account string) string {
	return r.prefix + "console:" + r.name + "-of:" + account
}

// grantSlot drops an account's grants expired by now (ARGV[1]) and lists
// grant ARGV[3], expiring at ARGV[2], unless the account already has
// ARGV[4] others: 1 listed, 0 refused. The set lives as long as its
// longest grant (ARGV[5] milliseconds from now, at least).
var grantSlot = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
return 1
`)

func (r *redisGrants) put(ctx context.Context, id string, g authGrant, now time.Time) error {
	b, err := json.Marshal(g)
	if err != nil {
		return err
	}
	ttl := time.UnixMilli(g.Expires).Sub(now)
	if ttl <= 0 {
		return nil
	}
	if g.AccountID != "" {
		ok, err := grantSlot.Run(ctx, r.rdb, []string{r.accountKey(g.AccountID)},
			now.UnixMilli(), g.Expires, id, maxGrantsPerAccount, ttl.Milliseconds()).Int()
		if err != nil {
			return err
		}
		if ok == 0 {
			return errTooManyWaiting
		}
	}
	return r.rdb.Set(ctx, r.key(id), b, ttl).Err()
}

func (r *redisGrants) take(ctx context.Context, id string) (authGrant, bool, error) {
	g, ok, err := r.read(r.rdb.GetDel(ctx, r.key(id)))
	if ok && g.AccountID != "" {
		// Left listed, it would only wait for its expiry.
		_ = r.rdb.ZRem(ctx, r.accountKey(g.AccountID), id).Err()
	}
	return g, ok, err
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
