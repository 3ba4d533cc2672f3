package console

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
	"golang.org/x/text/width"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
	"github.com/routefree/routefree/projections"
)

var plans = []domain.Plan{domain.PlanStarter, domain.PlanBusiness, domain.PlanEnterprise}

// registerPages mounts the web console and the public pages.
func (s *server) registerPages(e *echo.Echo) error {
	e.GET("/console/static/*", staticFiles(), securityHeaders)
	e.GET("/models", s.modelsPage, securityHeaders, s.dropUntrustedForwarding, s.htmlErrors)
	e.GET("/rankings", s.rankingsPage, securityHeaders, s.dropUntrustedForwarding, s.htmlErrors)
	// OpenRouter's OAuth PKCE: an app asks the signed-in user for a key.
	e.GET("/auth", s.authorizePage, securityHeaders, s.dropUntrustedForwarding, s.htmlErrors)
	e.POST("/auth", s.authorizeForm, securityHeaders, s.dropUntrustedForwarding, s.htmlErrors,
		auth.Require(s.auth, true, roleAdmin, roleFinance, roleAuditor))

	g := e.Group("/console", securityHeaders, s.dropUntrustedForwarding, s.htmlErrors)
	anyone := auth.Require(s.auth, true, roleAdmin, roleFinance, roleAuditor)
	staff := auth.Require(s.auth, false, roleAdmin, roleFinance, roleAuditor)
	admin := auth.Require(s.auth, false, roleAdmin)
	keyManagers := auth.RequireKeyManager(s.auth, roleAdmin)
	finance := auth.Require(s.auth, false, roleFinance)
	books := auth.Require(s.auth, false, roleFinance, roleAuditor)
	auditors := auth.Require(s.auth, false, roleAuditor)
	detailsCorrectors := auth.Require(s.auth, false, roleAdmin, roleFinance)

	g.GET("", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/console/") })
	g.GET("/", s.home)
	g.GET("/signin", s.signinPage)
	g.POST("/signin", s.signin)
	g.POST("/signout", s.signout, anyone)
	s.registerSSO(g)
	g.GET("/accounts", s.accountsPage, staff)
	g.GET("/dashboard", s.dashboardPage, staff)
	g.POST("/accounts", s.openAccountForm, admin)
	g.GET("/accounts/:id", s.accountPage, anyone)
	g.POST("/accounts/:id/topups", s.topUpForm, finance)
	g.POST("/accounts/:id/adjustments", s.adjustForm, finance)
	g.POST("/accounts/:id/credit-limit", s.creditForm, finance)
	g.POST("/accounts/:id/keys", s.issueKeyForm, keyManagers)
	g.POST("/accounts/:id/plan", s.planForm, admin)
	g.POST("/accounts/:id/details", s.detailsForm, detailsCorrectors)
	g.POST("/accounts/:id/suspend", s.suspendForm, admin)
	g.POST("/accounts/:id/resume", s.resumeForm, admin)
	g.POST("/keys/:id/revoke", s.revokeKeyForm, keyManagers)
	g.POST("/keys/:id/disable", s.disableKeyForm, keyManagers)
	g.POST("/keys/:id/enable", s.enableKeyForm, keyManagers)
	g.GET("/invoices", s.invoicesPage, books)
	s.registerInvoicePages(g, finance, books)
	g.GET("/quotes", s.quotesPage, books) // auditors read them; finance builds them
	g.POST("/quotes", s.quoteForm, finance)
	g.GET("/quotes/:id", s.quotePage, books)
	g.POST("/quotes/:id/withdraw", s.quoteWithdrawForm, finance)
	g.GET("/quotes/:id/replace", s.quoteReplacePage, finance)
	g.GET("/audit", s.auditPage, auditors)
	s.registerSelfService(g)
	s.registerStaffPages(g, admin)
	return nil
}

func (s *server) home(c echo.Context) error {
	p, err := s.auth.Authenticate(c.Request())
	switch {
	case err != nil:
		return c.Redirect(http.StatusSeeOther, "/console/signin")
	case p.Staff:
		return c.Redirect(http.StatusSeeOther, "/console/accounts")
	}
	return c.Redirect(http.StatusSeeOther, "/console/accounts/"+url.PathEscape(p.AccountID))
}

// signinPage sets a fresh double-submit CSRF cookie for the sign-in form
// (there is no session yet to bind it to).
func (s *server) signinPage(c echo.Context) error {
	tok := randomToken()
	setCookie(c.Response(), c.Request(), loginCSRF, tok, 3600)
	return s.render(c, http.StatusOK, "signin", s.newPage(c, "title.signin", s.signinData(c, tok)))
}

// signinData is the sign-in form's CSRF token, the single sign-on buttons
// to offer and, for a visitor an app sent to /auth, the app waiting for
// their approval.
func (s *server) signinData(c echo.Context, tok string) map[string]any {
	return map[string]any{"CSRF": tok, "OIDC": s.deps.OIDC != nil, "SAML": s.deps.SAML != nil, "App": waitingApp(c.Request())}
}

// signinFailed shows the sign-in form again with the message msgKey,
// its {1}, {2}… filled in by args.
func (s *server) signinFailed(c echo.Context, status int, msgKey string, args ...string) error {
	tok := randomToken()
	setCookie(c.Response(), c.Request(), loginCSRF, tok, 3600)
	p := s.newPage(c, "title.signin", s.signinData(c, tok))
	p.Error = template.HTML(template.HTMLEscapeString(trf(p.Lang, msgKey, args...)))
	return s.render(c, status, "signin", p)
}

// signinRefused tells a credential that may not sign in why, where it is
// a key that exists (whoever holds its secret may know that much, as the
// APIs tell it); anything else is "not valid".
func (s *server) signinRefused(c echo.Context, err error) error {
	var exp *keyExpired
	switch {
	case errors.As(err, &exp):
		return s.signinFailed(c, http.StatusUnauthorized, "signin.expired", exp.at.In(twrules.Taipei).Format("2006-01-02 15:04"))
	case errors.Is(err, auth.ErrKeyRevoked):
		return s.signinFailed(c, http.StatusUnauthorized, "signin.revoked")
	case errors.Is(err, auth.ErrKeyDisabled):
		return s.signinFailed(c, http.StatusUnauthorized, "signin.disabled")
	}
	return s.signinFailed(c, http.StatusUnauthorized, "signin.bad")
}

// signin checks the form's CSRF token, the IP's recent failures and the
// credential, then starts a session under a new ID.
func (s *server) signin(c echo.Context) error {
	r := c.Request()
	ck, err := r.Cookie(loginCSRF)
	form := r.PostFormValue("csrf") // the body only: never a token or credential from the URL
	if err != nil || form == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(form)) != 1 {
		return s.signinFailed(c, http.StatusForbidden, "signin.csrf")
	}
	ip := s.clientIP(r)
	blocked, wait, err := s.auth.signins.blocked(r.Context(), ip)
	if err != nil { // no count to check against: refuse rather than let guesses through unchecked
		s.deps.Logger.Error("console: sign-in throttle", "err", err)
		return s.signinFailed(c, http.StatusServiceUnavailable, "signin.unavailable")
	}
	if blocked {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return s.signinFailed(c, http.StatusTooManyRequests, "signin.slow")
	}
	secret := strings.TrimSpace(r.PostFormValue("token"))
	p, err := s.auth.resolve(secret)
	if err != nil {
		if err := s.auth.signins.fail(r.Context(), ip); err != nil {
			s.deps.Logger.Error("console: sign-in throttle", "err", err)
		}
		return s.signinRefused(c, s.auth.keyRefusal(secret, err))
	}
	kind := credStaff
	if !p.Staff {
		kind = credKey
	}
	old := ""
	if oc, err := r.Cookie(sessionCookie); err == nil {
		old = oc.Value
	}
	hash, gen := commands.HashKey(secret), uint32(0)
	if kind == credKey {
		if k, ok := s.auth.keys.Lookup(hash); ok {
			gen = k.Disables
		}
	}
	id, err := s.auth.sessions.create(r.Context(), old, kind, hash, gen)
	if err != nil {
		s.deps.Logger.Error("console: starting a session", "err", err)
		return s.signinFailed(c, http.StatusServiceUnavailable, "signin.unavailable")
	}
	setCookie(c.Response(), r, sessionCookie, id, int(sessionTTL.Seconds()))
	setCookie(c.Response(), r, loginCSRF, "", -1)
	return c.Redirect(http.StatusSeeOther, afterSignIn(c))
}

func (s *server) signout(c echo.Context) error {
	s.endSession(c)
	return c.Redirect(http.StatusSeeOther, "/console/signin")
}

// endSession forgets the request's session on the server and in the
// browser, so that its cookie never signs in again, even once the
// credential it was made with works again (a key enabled again).
func (s *server) endSession(c echo.Context) {
	if ck, err := c.Request().Cookie(sessionCookie); err == nil {
		if err := s.auth.sessions.drop(c.Request().Context(), ck.Value); err != nil {
			s.deps.Logger.Error("console: ending a session", "err", err)
		}
	}
	setCookie(c.Response(), c.Request(), sessionCookie, "", -1)
}

// redirectBack is the Post/Redirect/Get step after a form, with a message.
func redirectBack(c echo.Context, path, flash string) error {
	return c.Redirect(http.StatusSeeOther, path+"?flash="+url.QueryEscape(flash))
}

func (s *server) accountsPage(c echo.Context) error {
	ids, l := s.accountRows(c)
	var rows any = s.accountsJSON(ids) // a CSV's rows are built as they are written
	if !wantsCSV(c) {
		rows = slices.Collect(s.accountsJSON(ids))
	}
	return s.render(c, http.StatusOK, "accounts", s.newPage(c, "title.accounts", map[string]any{"Accounts": rows, "Plans": plans, "List": l, "Once": randomToken()}))
}

// formNumber is a number field's text in ASCII: a Chinese input method
// types full-width digits, separators and spaces (１，０００．５),
// which are the same number.
func formNumber(c echo.Context, name string) string {
	return strings.TrimSpace(width.Narrow.String(c.FormValue(name)))
}

// formModels is a form's list of model IDs. Typed with a Chinese input
// method they come full-width and separated by "，" or "、": those, a
// comma and spaces all separate them (no model ID holds any of them).
func formModels(c echo.Context, name string) []string {
	return strings.FieldsFunc(width.Narrow.String(c.FormValue(name)), func(r rune) bool {
		return r == ',' || r == '、' || r == '､' || unicode.IsSpace(r)
	})
}

// formDecimal reads an amount field (zero when empty), as amount does.
func formDecimal(c echo.Context, name string) (decimal.Decimal, error) {
	if formNumber(c, name) == "" {
		return decimal.Zero, nil
	}
	return amount(name, c.FormValue(name))
}

// amount reads a money field's text as a customer types it: digits with
// an optional decimal point and minus sign, grouped by commas or not
// (1,000, 42.5, -50), full-width or not (a Chinese input method types
// １，０００). decimal.NewFromString also takes 1e3 and +100, which in a
// money field are a slip of the keyboard rather than NT$1,000 or NT$100:
// they are refused, naming the field and what was typed.
func amount(name, typed string) (decimal.Decimal, error) {
	v := strings.ReplaceAll(strings.TrimSpace(width.Narrow.String(typed)), ",", "")
	d, ok := commands.PlainAmount(v)
	if !ok {
		return decimal.Zero, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s: %s is not a plain amount", name, domain.Quote(strings.TrimSpace(typed))))
	}
	return d, nil
}

// formSpendLimit is a key form's spending limit: an empty field is none,
// and nil says so; 0 is refused (commands.GivenSpendLimit).
func formSpendLimit(c echo.Context) (*decimal.Decimal, error) {
	if formNumber(c, "spend_limit") == "" {
		return nil, nil
	}
	d, err := formDecimal(c, "spend_limit")
	if err != nil {
		return nil, err
	}
	if _, err := commands.GivenSpendLimit(&d); err != nil {
		return nil, apiError(err)
	}
	return &d, nil
}

// formExpiry reads a key's last day (YYYY-MM-DD, a Taipei date): the key
// works through that day and expires as the next begins. Empty: never.
func formExpiry(c echo.Context, name string) (*time.Time, error) {
	v := strings.TrimSpace(c.FormValue(name))
	if v == "" {
		return nil, nil
	}
	day, err := time.ParseInLocation("2006-01-02", v, projections.Taipei)
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s: %s is not a date (YYYY-MM-DD)", name, domain.Quote(v)))
	}
	at := day.AddDate(0, 0, 1).UTC()
	return &at, nil
}

func formInt(c echo.Context, name string) (int64, error) {
	v := formNumber(c, name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s: %s is not a whole number", name, domain.Quote(v)))
	}
	return n, nil
}

func (s *server) openAccountForm(c echo.Context) error {
	h, settle := s.cmds()
	ctx := c.Request().Context()
	var id string
	repeatedTo, err := s.makeOnce(c, func() (string, error) {
		var err error
		id, err = h.OpenAccount(ctx, domain.AccountOpened{Organisation: c.FormValue("organisation"), TaxID: formNumber(c, "tax_id"),
			Address: c.FormValue("address"), Contact: c.FormValue("contact"), Plan: domain.Plan(c.FormValue("plan"))})
		return "/console/accounts/" + url.PathEscape(id), err
	})
	if err == nil && repeatedTo == "" {
		err = settle(ctx)
	}
	if err != nil {
		return err
	}
	if repeatedTo != "" {
		return redirectBack(c, repeatedTo, repeatedFlash)
	}
	return redirectBack(c, "/console/accounts/"+url.PathEscape(id), "account.opened")
}

// accountView gathers what the account page shows.
func (s *server) accountView(c echo.Context, a AccountInfo, newKey string) (map[string]any, error) {
	p := principal(c)
	lang := language(c.Response(), c.Request())
	u, err := s.usage(c.Request().Context(), p, a.ID, c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return nil, err
	}
	charts := s.usageCharts(lang, u)
	topUps, err := accountTopUps(c.Request().Context(), s.deps.Store, a.ID)
	if err != nil {
		return nil, err
	}
	if !p.Staff {
		topUps = forCustomer(topUps) // before the search, which would find them by it
	}
	seen, err := s.keysSeenBy(p, a.ID)
	if err != nil {
		return nil, err
	}
	var keys []KeyJSON
	for _, k := range seen {
		keys = append(keys, s.keyWithSpend(k))
	}
	keys, keysList := keyList.apply(c, keys)
	// The low-balance warning reads the last top-up, whatever the table's
	// search, sort or page.
	allTopUps := topUps
	topUps, topUpsList := topUpList.apply(c, topUps)
	invoices, invoicesList := accountInvoiceList.apply(c, s.countedInvoices(a.ID))
	acct := s.accountJSON(a)
	data := map[string]any{
		"AllTopUps": allTopUps,
		"KeysList":  keysList, "TopUpsList": topUpsList, "InvoicesList": invoicesList,
		"Account": acct, "Keys": keys, "NewKey": newKey, "TopUps": topUps,
		"Usage": u, "Charts": charts, "Invoices": invoices,
		"Plans": plans, "CanKeys": p.Management || p.Role == auth.Admin, "CanTopUp": p.Role == auth.Finance,
		// A customer of a suspended account may lock its keys down, not loosen them.
		"KeysLocked": !p.Staff && acct.Suspended,
		"CanAdmin":   p.Role == auth.Admin, "CanInvoices": !p.Staff || p.Role == auth.Finance || p.Role == auth.Auditor,
		"CanDetails":   p.Role == auth.Admin || p.Role == auth.Finance,
		"CanCheckouts": s.deps.Payments != nil && (p.Role == auth.Finance || p.Role == auth.Auditor),
		"Once":         randomToken(), // the adjustment and key forms' one-time token
	}
	return data, s.selfServiceView(c, a, data)
}

func (s *server) accountPage(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	data, err := s.accountView(c, a, "")
	if err != nil {
		return err
	}
	p := s.newPage(c, "title.account", data)
	p.Subtitle = a.Organisation
	return s.render(c, http.StatusOK, "account", p)
}

func (s *server) topUpForm(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	amount, err := formDecimal(c, "amount")
	if err != nil {
		return err
	}
	in := topUpInput{Amount: amount, Method: c.FormValue("method"), Reference: strings.TrimSpace(c.FormValue("reference"))}
	back := "/console/accounts/" + url.PathEscape(a.ID)
	// A top-up credits the account and is invoiced: it asks first, once
	// the door has taken its input, and a reference already recorded with
	// the same amount needs no question.
	if c.FormValue(confirmField) != "yes" {
		dup, err := s.checkTopUp(c.Request().Context(), a.ID, in)
		if err != nil {
			return err
		}
		if dup {
			return redirectBack(c, back, "topup.dup")
		}
		lang := language(c.Response(), c.Request())
		_, err = s.confirmed(c, confirmStep{Action: "confirm.topup", Target: a.Organisation, Note: "confirm.topup.note",
			Facts: [][2]string{{"account", a.ID}, {"field.amount", money(in.Amount)},
				{"method", tr(lang, "method."+in.Method)}, {"reference", in.Reference}},
			Fields: [][2]string{{"amount", in.Amount.String()}, {"method", in.Method}, {"reference", in.Reference}},
			Post:   back + "/topups", Back: back})
		return err
	}
	dup, err := s.topUp(c.Request().Context(), a.ID, in)
	if err != nil {
		return err
	}
	flash := "topup.ok"
	if dup {
		flash = "topup.dup"
	}
	return redirectBack(c, back, flash)
}

func (s *server) creditForm(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	limit, err := formDecimal(c, "credit_limit")
	if err != nil {
		return err
	}
	h, settle := s.cmds()
	ctx := c.Request().Context()
	if err := h.SetCreditLimit(ctx, a.ID, limit); err != nil {
		return err
	}
	if err := settle(ctx); err != nil {
		return err
	}
	return redirectBack(c, "/console/accounts/"+url.PathEscape(a.ID), "saved")
}

// issueKeyForm answers with the account page showing the new key: that
// response is the only place the key ever appears.
func (s *server) issueKeyForm(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	limit, err := formSpendLimit(c)
	if err != nil {
		return err
	}
	period := c.FormValue("spend_period")
	if limit == nil {
		period = ""
	}
	expires, err := formExpiry(c, "expires_on")
	if err != nil {
		return err
	}
	expires = s.onCallersLastDay(principal(c), expires)
	var secret string
	repeatedTo, err := s.makeOnce(c, func() (string, error) {
		var err error
		_, secret, err = s.issueKey(c.Request().Context(), principal(c), a.ID, keyInput{Name: c.FormValue("name"),
			Models: formModels(c, "models"), SpendLimit: limit, SpendPeriod: period,
			Management: c.FormValue("management") == "on", ExpiresAt: expires})
		return "/console/accounts/" + url.PathEscape(a.ID), err
	})
	if err != nil {
		return err
	}
	if repeatedTo != "" {
		return redirectBack(c, repeatedTo, "key.repeated")
	}
	data, err := s.accountView(c, a, secret)
	if err != nil {
		return err
	}
	p := s.newPage(c, "title.account", data)
	p.Subtitle = a.Organisation
	return s.render(c, http.StatusCreated, "account", p)
}

// disableKeyForm stops a key until it is enabled again; like revoking, it
// asks first, since every program using the key is refused at once.
func (s *server) disableKeyForm(c echo.Context) error {
	k, err := s.ownKey(c, c.Param("id"))
	if err != nil {
		return err
	}
	back := "/console/accounts/" + url.PathEscape(k.AccountID)
	if ok, err := s.confirmed(c, confirmStep{Action: "confirm.disablekey", Target: k.Name, Note: "confirm.disablekey.note",
		Warnings: s.ownKeyWarnings(c, k), Facts: [][2]string{{"key.prefix", k.Prefix}, {"account", k.AccountID}},
		Post: "/console/keys/" + url.PathEscape(k.KeyID) + "/disable", Back: back}); !ok {
		return err
	}
	if err := s.setKeyDisabled(c.Request().Context(), k.KeyID, true); err != nil {
		return err
	}
	if principal(c).KeyID == k.KeyID {
		s.endSession(c)
		return redirectBack(c, "/console/signin", "key.disabled.self")
	}
	return redirectBack(c, back, "key.disabled")
}

func (s *server) enableKeyForm(c echo.Context) error {
	k, err := s.ownKey(c, c.Param("id"))
	if err != nil {
		return err
	}
	if k.Disabled {
		if err := s.refuseIfSuspended(c.Request().Context(), principal(c), k.AccountID); err != nil {
			return err
		}
	}
	if err := s.setKeyDisabled(c.Request().Context(), k.KeyID, false); err != nil {
		return err
	}
	return redirectBack(c, "/console/accounts/"+url.PathEscape(k.AccountID), "key.enabled")
}

func (s *server) revokeKeyForm(c echo.Context) error {
	k, err := s.ownKey(c, c.Param("id"))
	if err != nil {
		return err
	}
	back := "/console/accounts/" + url.PathEscape(k.AccountID)
	if ok, err := s.confirmed(c, confirmStep{Action: "confirm.revokekey", Target: k.Name, Danger: true, Note: "confirm.revokekey.note",
		Warnings: s.ownKeyWarnings(c, k), Facts: [][2]string{{"key.prefix", k.Prefix}, {"account", k.AccountID}},
		Post: "/console/keys/" + url.PathEscape(k.KeyID) + "/revoke", Back: back}); !ok {
		return err
	}
	if err := s.revokeKey(c.Request().Context(), k.KeyID); err != nil {
		return err
	}
	if principal(c).KeyID == k.KeyID {
		s.endSession(c)
		return redirectBack(c, "/console/signin", "key.revoked.self")
	}
	return redirectBack(c, "/console/accounts/"+url.PathEscape(k.AccountID), "key.revoked")
}

// ownKeyWarnings are what a customer should know before revoking or
// disabling k when it is the key they are signed in with: the session
// ends, and when no other working management key of the account is left,
// nobody of the account can sign in with a key to manage keys again.
func (s *server) ownKeyWarnings(c echo.Context, k projections.KeyInfo) []string {
	if principal(c).KeyID != k.KeyID {
		return nil
	}
	warnings := []string{"confirm.key.self"}
	for _, other := range s.deps.Models.Keys.ByAccount(k.AccountID) {
		if other.KeyID != k.KeyID && other.Management && !other.Revoked && !other.Disabled {
			return warnings
		}
	}
	return append(warnings, "confirm.key.lastmanager")
}

func (s *server) planForm(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	in := planInput{Plan: domain.Plan(c.FormValue("plan"))}
	if in.RPM, err = formInt(c, "rpm"); err != nil {
		return err
	}
	if in.TPM, err = formInt(c, "tpm"); err != nil {
		return err
	}
	if in.VolumeDiscount, err = formDecimal(c, "volume_discount"); err != nil {
		return err
	}
	ctx := c.Request().Context()
	// A move to a prepaid plan invoices the money returned for allowances
	// that the account holds (docs/invoicing-ledger.md): an invoice cannot
	// be taken back, so the move asks first, naming the amount. The
	// confirmation carries the amount it named: money returned meanwhile
	// (another tab, the API) asks again rather than invoicing an amount
	// nobody confirmed.
	if in.Plan.Valid() && !in.Plan.Postpaid() {
		held, err := s.returnedHeld(ctx, a.ID)
		if err != nil {
			return err
		}
		given := c.FormValue(confirmField) == "yes"
		if held.IsPositive() && (!given || c.FormValue(returnedField) != held.String()) {
			warnings := []string{"plan.returned"}
			if given {
				warnings = append(warnings, "plan.returned.changed")
			}
			back := "/console/accounts/" + url.PathEscape(a.ID)
			return s.askConfirmation(c, confirmStep{Action: "confirm.plan", Target: a.Organisation, Note: "confirm.plan.note",
				Warnings: warnings,
				Facts:    [][2]string{{"account", a.ID}, {"plan", string(in.Plan)}, {"plan.returned.amount", money(held)}},
				Fields: [][2]string{{"plan", string(in.Plan)}, {"rpm", c.FormValue("rpm")}, {"tpm", c.FormValue("tpm")},
					{"volume_discount", c.FormValue("volume_discount")}, {returnedField, held.String()}},
				Post: back + "/plan", Back: back})
		}
	}
	// The form gives the whole plan: only the credit limit is carried over.
	changed, err := s.changePlan(ctx, a.ID, func(domain.PlanChanged) planInput { return in })
	if err != nil {
		return err
	}
	if changed == "" { // the account's plan and terms already: nothing recorded
		return redirectBack(c, "/console/accounts/"+url.PathEscape(a.ID), "plan.unchanged")
	}
	return redirectBack(c, "/console/accounts/"+url.PathEscape(a.ID), "saved")
}

func (s *server) suspendForm(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	// A suspension without its reason is refused before the question.
	reason := strings.TrimSpace(c.FormValue("reason"))
	if err := commands.CheckSuspendReason(reason); err != nil {
		return err
	}
	if ok, err := s.confirmed(c, confirmStep{Action: "confirm.suspend", Target: a.Organisation, Danger: true, Note: "confirm.suspend.note",
		Facts: [][2]string{{"account", a.ID}, {"field.reason", reason}}, Post: "/console/accounts/" + url.PathEscape(a.ID) + "/suspend",
		Back: "/console/accounts/" + url.PathEscape(a.ID)}, "reason"); !ok {
		return err
	}
	return s.accountStatusForm(c, (*commands.Handler).SuspendAccount, "account.suspended")
}
