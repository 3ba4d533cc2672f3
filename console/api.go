package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/internal/errtype"
	"github.com/routefree/routefree/internal/jsonkind"
	"github.com/routefree/routefree/internal/onejson"
	"github.com/routefree/routefree/internal/paging"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/projections"
)

// registerAPI mounts the admin JSON API. Customers (API keys) reach the
// account routes for their own account only; another account is 404. Each
// gate is a cell of the README's role table.
func (s *server) registerAPI(e *echo.Echo) {
	g := e.Group("/admin/api", securityHeaders, s.dropUntrustedForwarding)
	anyone := auth.Require(s.auth, true, roleAdmin, roleFinance, roleAuditor)
	admin := auth.Require(s.auth, false, roleAdmin)
	keyManagers := auth.RequireKeyManager(s.auth, roleAdmin)
	finance := auth.Require(s.auth, false, roleFinance)
	invoiceReaders := auth.Require(s.auth, true, roleFinance, roleAuditor)
	// The invoice carrier is the account owner's choice; finance sets it for them.
	carrierSetters := auth.RequireKeyManager(s.auth, roleFinance)
	// An account's details are corrected by finance (what invoices print)
	// or an admin (who opens accounts).
	detailsCorrectors := auth.Require(s.auth, false, roleAdmin, roleFinance)
	audit := auth.Require(s.auth, false, roleAuditor)

	g.GET("/whoami", s.apiWhoami, anyone)
	g.GET("/accounts", s.apiAccounts, anyone)
	g.POST("/accounts", s.apiOpenAccount, admin)
	g.GET("/accounts/:id", s.apiAccount, anyone)
	g.POST("/accounts/:id/plan", s.apiChangePlan, admin)
	g.POST("/accounts/:id/details", s.apiAccountDetails, detailsCorrectors)
	g.POST("/accounts/:id/suspend", s.apiSuspend, admin)
	g.POST("/accounts/:id/resume", s.apiResume, admin)
	g.POST("/accounts/:id/data-requirement", s.apiDataRequirement, admin)
	g.POST("/accounts/:id/credit-limit", s.apiCreditLimit, finance)
	g.GET("/accounts/:id/topups", s.apiTopUps, anyone)
	g.POST("/accounts/:id/topups", s.apiTopUp, finance)
	g.POST("/accounts/:id/adjustments", s.apiAdjust, finance)
	g.GET("/accounts/:id/keys", s.apiKeys, anyone)
	g.POST("/accounts/:id/keys", s.apiIssueKey, keyManagers)
	g.POST("/keys/:id/revoke", s.apiRevokeKey, keyManagers)
	g.GET("/accounts/:id/usage", s.apiUsage, anyone)
	g.GET("/accounts/:id/invoices", s.apiInvoices, invoiceReaders)
	g.POST("/accounts/:id/invoice-carrier", s.apiInvoiceCarrier, carrierSetters)
	g.POST("/prices", s.apiPublishPrices, admin)
	g.GET("/staff/tokens", s.apiStaffTokens, admin)
	g.POST("/staff/tokens", s.apiIssueStaffToken, admin)
	g.POST("/staff/tokens/:id/revoke", s.apiRevokeStaffToken, admin)
	g.GET("/audit/events", s.apiEvents, audit)
	g.GET("/audit/verify", s.apiVerify, audit)
	g.GET("/audit/figures", s.apiFigures, audit)
	g.GET("/audit/export", s.apiExport, audit)
}

// apiError maps the commands' typed errors to statuses, in one place.
func apiError(err error) error {
	var he *echo.HTTPError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &he):
		return he
	case errors.Is(err, commands.ErrInvalid):
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	case errors.Is(err, commands.ErrConflict):
		return echo.NewHTTPError(http.StatusConflict, err.Error())
	case errors.Is(err, commands.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, err.Error())
	case errors.Is(err, domain.ErrKeyScope), errors.Is(err, commands.ErrKeyCap):
		return echo.NewHTTPError(http.StatusForbidden, err.Error())
	case errors.Is(err, commands.ErrKeyRate):
		return echo.NewHTTPError(http.StatusTooManyRequests, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the change is recorded but the read models are behind; reload shortly")
	}
	return err
}

// keyRefusal answers a key refused to an API client: past the account's
// bound on keys made in an hour, a 429 in the API's error shape, with a
// Retry-After and, in its metadata, when the next key can be made; any
// other refusal as apiError maps it.
func keyRefusal(c echo.Context, err error) error {
	var rate *commands.KeyRateError
	if !errors.As(err, &rate) {
		return apiError(err)
	}
	return keyRateRefusal(c, rate, err.Error())
}

// keyRateRefusal is the 429 of a key refused by rate, saying msg.
func keyRateRefusal(c echo.Context, rate *commands.KeyRateError, msg string) error {
	wait := rate.RetryAfterSeconds()
	c.Response().Header().Set("Retry-After", fmt.Sprint(wait))
	return c.JSON(http.StatusTooManyRequests, map[string]any{"error": map[string]any{
		"code": http.StatusTooManyRequests, "message": msg, "type": errtype.Of(http.StatusTooManyRequests),
		"metadata": map[string]any{"retry_after_seconds": wait, "next_key_at": rate.Next.UTC().Format(time.RFC3339),
			"keys_made": rate.Made, "max_new_keys_per_hour": rate.Max, "account_id": rate.AccountID},
	}})
}

// errCreditIsFinance refuses a credit limit set alongside an admin's
// change: credit limits are finance's alone.
var errCreditIsFinance = echo.NewHTTPError(http.StatusForbidden,
	"credit limits are set by finance (POST /admin/api/accounts/{id}/credit-limit); leave credit_limit out")

func errNotFound(what string) error {
	return echo.NewHTTPError(http.StatusNotFound, what+" not found")
}

func principal(c echo.Context) auth.Principal {
	p, _ := auth.FromContext(c)
	return p
}

// account returns the account of the route if the caller may see it: staff
// see every account, a customer only their own (another's is as unknown as a
// missing one). One that another process (a second serve, the CLI) opened a
// moment ago is found once the projections hold every event committed so
// far, as keys are.
func (s *server) account(c echo.Context, id string) (AccountInfo, error) {
	p := principal(c)
	if !p.Staff && p.AccountID != id {
		return AccountInfo{}, errNotFound("account")
	}
	var a AccountInfo
	var ok bool
	s.findCaughtUp(c, func() bool { a, ok = s.deps.Views.Account(id); return ok })
	if !ok {
		return AccountInfo{}, errNotFound("account")
	}
	return a, nil
}

// decodeJSON reads the request's body into v: one JSON value of at most a
// megabyte, each key given once and known to v.
func decodeJSON(c echo.Context, v any) error {
	b, err := readJSON(c)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonRefusal(err)
	}
	return nil
}

// jsonRefusal is a decoder's refusal of a body in this API's words: the
// field and what it takes, repeating at most a short prefix of what was
// sent (a decoder's own words repeat a 10,000-digit number whole).
func jsonRefusal(err error) error {
	var ute *json.UnmarshalTypeError
	var pe *time.ParseError
	var prices *commands.PricesError
	msg := domain.ExcerptWords(err.Error())
	switch {
	case errors.As(err, &prices):
		msg = prices.Error() // bounded already, its model IDs whole
	case errors.As(err, &ute) && ute.Field != "":
		msg = fmt.Sprintf("%s must be %s, not %s", ute.Field, jsonkind.Of(ute.Type), domain.Excerpt(ute.Value))
	case errors.As(err, &ute) && jsonkind.Of(ute.Type) == "an object":
		msg = "the body must be a JSON object, not " + domain.Excerpt(ute.Value)
	case errors.As(err, &pe):
		msg = fmt.Sprintf("%s is not an RFC 3339 time such as 2027-12-31T23:59:59Z", domain.Quote(pe.Value))
	}
	return echo.NewHTTPError(http.StatusBadRequest, "invalid JSON: "+msg)
}

// readJSON reads the request's body, at most a megabyte (413 beyond), and
// refuses one that does not say one thing (onejson.Check).
func readJSON(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, 1<<20))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit))
	}
	if err == nil {
		err = onejson.Check(b)
	}
	if err != nil {
		return nil, jsonRefusal(err)
	}
	return b, nil
}

// AccountJSON is an account as the API shows it.
type AccountJSON struct {
	AccountInfo
	CreditLimit    decimal.Decimal `json:"credit_limit"`
	VolumeDiscount decimal.Decimal `json:"volume_discount"`
	Suspended      bool            `json:"suspended"`
	Balance        decimal.Decimal `json:"balance"`
	Available      decimal.Decimal `json:"available"`
	MonthSpend     decimal.Decimal `json:"month_spend"`
}

func (s *server) accountJSON(a AccountInfo) AccountJSON {
	out := AccountJSON{AccountInfo: a}
	if v, ok := s.deps.Models.Balances.View(a.ID, "", s.deps.now()); ok {
		out.Plan, out.CreditLimit, out.VolumeDiscount, out.Suspended = v.Plan, v.CreditLimit, v.VolumeDiscount, v.Suspended
		out.Balance, out.Available, out.MonthSpend = v.Balance, v.Available(), v.MonthSpend
	}
	return out
}

func (s *server) apiWhoami(c echo.Context) error {
	p := principal(c)
	return c.JSON(http.StatusOK, map[string]any{"staff": p.Staff, "role": p.Role, "token_id": p.TokenID, "account_id": p.AccountID, "key_id": p.KeyID,
		"management": p.Management, "subject": p.Subject})
}

func (s *server) apiAccounts(c echo.Context) error {
	p := principal(c)
	if !p.Staff { // a customer's own account, found without copying every other
		out := []AccountJSON{}
		if a, ok := s.deps.Views.Account(p.AccountID); ok {
			out = append(out, s.accountJSON(a))
		}
		return c.JSON(http.StatusOK, map[string]any{"data": out})
	}
	r, err := paging.Parse(c.QueryParams(), accountsPage)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	page, total := s.deps.Views.AccountsPage(r)
	resp := paging.Fields(total, r)
	out := make([]AccountJSON, 0, len(page))
	for _, a := range page {
		out = append(out, s.accountJSON(a))
	}
	resp["data"] = out
	return c.JSON(http.StatusOK, resp)
}

// accountsPage is the most accounts one GET /admin/api/accounts returns:
// accounts come in the order they were opened, so a page read by offset
// stays put while accounts are opened.
const accountsPage = 1000

func (s *server) apiAccount(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": s.accountJSON(a)})
}

// accountInput is a new account as a client gives it: no actor, which only
// the signed-in credential names (a body carrying one is refused as an
// unknown field).
type accountInput struct {
	AccountID    string          `json:"account_id"`
	Organisation string          `json:"organisation"`
	TaxID        string          `json:"tax_id"`
	Address      string          `json:"address"`
	Contact      string          `json:"contact"`
	Plan         domain.Plan     `json:"plan"`
	CreditLimit  commands.Amount `json:"credit_limit"`
}

func (s *server) apiOpenAccount(c echo.Context) error {
	var in accountInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if !in.CreditLimit.IsZero() {
		return errCreditIsFinance
	}
	h, settle := s.cmds()
	id, err := h.OpenAccount(c.Request().Context(), domain.AccountOpened{AccountID: in.AccountID, Organisation: in.Organisation,
		TaxID: in.TaxID, Address: in.Address, Contact: in.Contact, Plan: in.Plan})
	if err == nil {
		err = settle(c.Request().Context())
	}
	if err != nil {
		return apiError(err)
	}
	a, _ := s.deps.Views.Account(id)
	return c.JSON(http.StatusCreated, map[string]any{"data": s.accountJSON(a)})
}

// planInput is a plan change: custom RPM/TPM and volume discount apply to
// Enterprise; the credit limit is finance's and carried over.
type planInput struct {
	Plan           domain.Plan      `json:"plan"`
	RPM            int64            `json:"rpm"`
	TPM            int64            `json:"tpm"`
	VolumeDiscount decimal.Decimal  `json:"volume_discount"`
	CreditLimit    *decimal.Decimal `json:"credit_limit,omitempty"`
}

// changePlan records the plan change that decide makes of the account's
// terms as they stand. The credit limit is finance's and carried over (a
// prepaid plan has none). Should the account change meanwhile (finance's
// credit limit from another instance or the CLI), decide runs again on the
// newer terms, so that neither change is lost.
// changePlan records the plan decide gives, and returns the ID of the
// plan change recorded.
func (s *server) changePlan(ctx context.Context, id string, decide func(now domain.PlanChanged) planInput) (string, error) {
	h, cp := s.capturing()
	_, err := h.UpdatePlan(ctx, id, func(pc *domain.PlanChanged) error {
		in := decide(*pc)
		pc.Plan, pc.RPM, pc.TPM, pc.VolumeDiscount = in.Plan, in.RPM, in.TPM, in.VolumeDiscount
		if err := pc.CheckCustomTerms(); err != nil {
			return fmt.Errorf("%w: %w", commands.ErrInvalid, err)
		}
		if in.CreditLimit != nil {
			pc.CreditLimit = *in.CreditLimit
		}
		if !in.Plan.Postpaid() {
			pc.CreditLimit = decimal.Zero // prepaid plans have none
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if err := waitFor(ctx, s.deps.Runner, cp); err != nil {
		return "", err
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.lastID, nil
}

// planChange fills what an API plan change leaves out from the account's
// terms now: its plan, and its custom RPM, TPM and discount while it stays
// on Enterprise (another plan has none).
func planChange(now domain.PlanChanged, plan domain.Plan, rpm, tpm *int64, discount *decimal.Decimal) planInput {
	in := planInput{Plan: plan}
	if in.Plan == "" {
		in.Plan = now.Plan
	}
	if in.Plan == domain.PlanEnterprise && now.Plan == domain.PlanEnterprise {
		in.RPM, in.TPM, in.VolumeDiscount = now.RPM, now.TPM, now.VolumeDiscount
	}
	if rpm != nil {
		in.RPM = *rpm
	}
	if tpm != nil {
		in.TPM = *tpm
	}
	if discount != nil {
		in.VolumeDiscount = *discount
	}
	return in
}

func (s *server) apiChangePlan(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var body struct {
		Plan           domain.Plan      `json:"plan"`
		RPM            *int64           `json:"rpm"`
		TPM            *int64           `json:"tpm"`
		VolumeDiscount *commands.Amount `json:"volume_discount"`
		CreditLimit    *commands.Amount `json:"credit_limit,omitempty"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.CreditLimit != nil {
		return errCreditIsFinance
	}
	var discount *decimal.Decimal
	if body.VolumeDiscount != nil {
		discount = &body.VolumeDiscount.Decimal
	}
	ctx := c.Request().Context()
	changed, err := s.changePlan(ctx, a.ID, func(now domain.PlanChanged) planInput {
		return planChange(now, body.Plan, body.RPM, body.TPM, discount)
	})
	if err != nil {
		return apiError(err)
	}
	a, _ = s.deps.Views.Account(a.ID)
	answer := map[string]any{"data": s.accountJSON(a)}
	// The move is recorded: a failure to read the invoices is logged,
	// never answered as an error that a client would retry.
	if r, ok, err := s.returnedInvoiced(ctx, a.ID, changed); err != nil {
		s.deps.Logger.Error("console: reading the money returned a plan change invoiced", "account", a.ID, "err", err)
	} else if ok {
		answer["returned_invoiced"] = returnedJSON{ReturnedTopUp: r, Message: fmt.Sprintf(
			"NT$%s returned to %s for allowances on invoices it had paid is now prepaid credit, invoiced as a top-up paid now "+
				"(API 預付儲值, reference %s; serve issues the invoice, else run: routefree invoices topups)", r.Amount, a.ID, r.Reference)}
	}
	return c.JSON(http.StatusOK, answer)
}

// returnedJSON is money returned for allowances that a move to a prepaid
// plan invoiced as a top-up, as the admin API answers the move.
type returnedJSON struct {
	invoicing.ReturnedTopUp
	Message string `json:"message"`
}

// returnedInvoicer is what a plan change needs of invoicing
// (*invoicing.Service): a move to a prepaid plan invoices the money
// returned for allowances that the account holds (docs/invoicing-ledger.md),
// which the console says before the move and the API after it.
type returnedInvoicer interface {
	ReturnedHeld(ctx context.Context, acct string) (decimal.Decimal, error)
	ReturnedInvoiced(ctx context.Context, acct, eventID string) (invoicing.ReturnedTopUp, bool, error)
}

// returnedHeld is the money returned that a move of acct to a prepaid plan
// would invoice; none without invoicing.
func (s *server) returnedHeld(ctx context.Context, acct string) (decimal.Decimal, error) {
	if r, ok := s.deps.Invoices.(returnedInvoicer); ok && r != nil {
		return r.ReturnedHeld(ctx, acct)
	}
	return decimal.Zero, nil
}

// returnedInvoiced is the money returned that the event eventID of acct
// invoiced; ok is false for none, or without invoicing.
func (s *server) returnedInvoiced(ctx context.Context, acct, eventID string) (invoicing.ReturnedTopUp, bool, error) {
	if r, ok := s.deps.Invoices.(returnedInvoicer); ok && r != nil && eventID != "" {
		return r.ReturnedInvoiced(ctx, acct, eventID)
	}
	return invoicing.ReturnedTopUp{}, false, nil
}

func (s *server) apiSuspend(c echo.Context) error {
	return s.apiAccountStatus(c, (*commands.Handler).SuspendAccount)
}

func (s *server) apiCreditLimit(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var in struct {
		CreditLimit *commands.Amount `json:"credit_limit"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	// Left out, it would read as 0: one stray call would take a postpaid
	// account's credit away.
	if in.CreditLimit == nil {
		return echo.NewHTTPError(http.StatusBadRequest, `credit_limit is required: an amount in NTD, 0 for no credit ({"credit_limit":"50000"})`)
	}
	h, settle := s.cmds()
	ctx := c.Request().Context()
	if err := h.SetCreditLimit(ctx, a.ID, in.CreditLimit.Decimal); err != nil {
		return apiError(err)
	}
	if err := settle(ctx); err != nil {
		return apiError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"data": s.accountJSON(a)})
}

func (s *server) apiTopUps(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	topUps, err := accountTopUps(c.Request().Context(), s.deps.Store, a.ID)
	if err != nil {
		return err
	}
	if !principal(c).Staff {
		topUps = forCustomer(topUps)
	}
	return c.JSON(http.StatusOK, map[string]any{"data": topUps})
}

// topUpInput is a payment received: by bank transfer (its transfer
// reference) or card (the processor's charge reference).
type topUpInput struct {
	Amount    decimal.Decimal `json:"amount"`
	Method    string          `json:"method"`
	Reference string          `json:"reference"`
}

func (s *server) topUp(ctx context.Context, account string, in topUpInput) (bool, error) {
	if err := topUpMethod(in.Method); err != nil {
		return false, err
	}
	h, settle := s.cmds()
	dup, err := h.TopUp(ctx, domain.CreditsToppedUp{AccountID: account, Amount: in.Amount, Method: in.Method, Reference: in.Reference})
	if err != nil {
		return false, err
	}
	return dup, settle(ctx)
}

// checkTopUp answers what topUp would, recording nothing.
func (s *server) checkTopUp(ctx context.Context, account string, in topUpInput) (bool, error) {
	if err := topUpMethod(in.Method); err != nil {
		return false, err
	}
	h, _ := s.cmds()
	return h.CheckTopUp(ctx, domain.CreditsToppedUp{AccountID: account, Amount: in.Amount, Method: in.Method, Reference: in.Reference})
}

// topUpMethod refuses the methods staff cannot record by hand (an
// adjustment is recorded as one).
func topUpMethod(m string) error {
	if m != domain.MethodBankTransfer && m != domain.MethodCard {
		return fmt.Errorf("%w: method must be %s or %s", commands.ErrInvalid, domain.MethodBankTransfer, domain.MethodCard)
	}
	return nil
}

func (s *server) apiTopUp(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var in struct {
		topUpInput
		Amount commands.Amount `json:"amount"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	in.topUpInput.Amount = in.Amount.Decimal
	dup, err := s.topUp(c.Request().Context(), a.ID, in.topUpInput)
	if err != nil {
		return apiError(err)
	}
	status := http.StatusCreated
	if dup {
		status = http.StatusOK
	}
	return c.JSON(status, map[string]any{"duplicate": dup, "data": s.accountJSON(a)})
}

// KeyJSON is a key as every read shows it: never the secret nor its hash.
type KeyJSON struct {
	KeyID      string          `json:"key_id"`
	Name       string          `json:"name,omitempty"`
	Prefix     string          `json:"prefix"`
	Models     []string        `json:"models,omitempty"`
	SpendLimit decimal.Decimal `json:"spend_limit"`
	// SpendPeriod is the period the limit is spent in, or would be if one
	// were set (the console's form starts from it); Period, which the API
	// shows, is null without a limit.
	SpendPeriod string  `json:"-"`
	Period      *string `json:"spend_period"`
	RPM         int64   `json:"rpm"`
	TPM         int64   `json:"tpm"`
	Revoked     bool    `json:"revoked"`
	Disabled    bool    `json:"disabled"`
	Management  bool    `json:"management,omitempty"`
	// ExpiresAt is when the key stops working (null: never); Expired, that
	// it has.
	ExpiresAt *time.Time `json:"expires_at"`
	Expired   bool       `json:"expired"`
	// Spent is what the key spent in its limit's current period and Left
	// what the limit still lets it spend (negative when a limit was
	// lowered below what was spent), as GET /api/v1/key and a 402 at the
	// limit give them; both are absent without a limit.
	Spent *decimal.Decimal `json:"spend_this_period,omitempty"`
	Left  *decimal.Decimal `json:"spend_limit_remaining,omitempty"`
}

// LeftShown is what the console shows of Left: never less than nothing.
func (k KeyJSON) LeftShown() decimal.Decimal {
	if k.Left == nil {
		return decimal.Zero
	}
	return decimal.Max(*k.Left, decimal.Zero)
}

// keyJSON is a key as the console and its API show it at now.
func keyJSON(k projections.KeyInfo, now time.Time) KeyJSON {
	j := KeyJSON{KeyID: k.KeyID, Name: k.Name, Prefix: k.Prefix, Models: k.Models, SpendLimit: k.SpendLimit,
		SpendPeriod: k.SpendPeriod, RPM: k.RPM, TPM: k.TPM, Revoked: k.Revoked, Disabled: k.Disabled, Management: k.Management}
	if !k.ExpiresAt.IsZero() {
		at := k.ExpiresAt.UTC()
		j.ExpiresAt, j.Expired = &at, k.Expired(now)
	}
	if k.SpendLimit.IsPositive() {
		period := k.SpendPeriod
		j.Period = &period
	}
	return j
}

// keyWithSpend is keyJSON with what a limited key spent in its period and
// what its limit leaves, from the balances the gateway admits by.
func (s *server) keyWithSpend(k projections.KeyInfo) KeyJSON {
	now := s.deps.now()
	j := keyJSON(k, now)
	if k.SpendLimit.IsPositive() {
		v, _ := s.deps.Models.Balances.View(k.AccountID, k.KeyID, now)
		spent, left := v.KeySpend, k.SpendLimit.Sub(v.KeySpend)
		j.Spent, j.Left = &spent, &left
	}
	return j
}

func (s *server) apiKeys(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	keys, err := s.keysSeenBy(principal(c), a.ID)
	if err != nil {
		return err
	}
	out := []KeyJSON{}
	for _, k := range keys {
		out = append(out, s.keyWithSpend(k))
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// keyInput is a new key: a name, the models it may call (none: all), a
// spending limit per period (left out or null: none; 0 is refused), and
// whether it is a management key.
type keyInput struct {
	Name        string           `json:"name"`
	Models      []string         `json:"models"`
	SpendLimit  *decimal.Decimal `json:"spend_limit"`
	SpendPeriod string           `json:"spend_period"`
	Management  bool             `json:"management"`
	ExpiresAt   *time.Time       `json:"expires_at"` // nil: never
}

// issueKey issues a key for by (staff, or a customer's management key,
// which bounds it).
func (s *server) issueKey(ctx context.Context, by auth.Principal, account string, in keyInput) (id, secret string, err error) {
	return s.issueKeyAs(ctx, by, account, in, "")
}

// issueKeyAs is issueKey with the key's ID fixed beforehand (commands.
// IssueKeyAs; "" for a new one): a second issue of it is ErrConflict.
// Once the key is issued, id and secret are set, even when err says the
// read models have not caught up.
func (s *server) issueKeyAs(ctx context.Context, by auth.Principal, account string, in keyInput, keyID string) (id, secret string, err error) {
	if err := s.refuseIfSuspended(ctx, by, account); err != nil {
		return "", "", err
	}
	var models []string
	for _, m := range in.Models {
		m = strings.TrimSpace(m)
		if m == "" {
			continue
		}
		if _, ok := s.deps.Catalog.Get(m); !ok {
			return "", "", fmt.Errorf("%w: unknown model %s", commands.ErrInvalid, domain.Quote(m))
		}
		models = append(models, m)
	}
	limit, err := commands.GivenSpendLimit(in.SpendLimit)
	if err != nil {
		return "", "", err
	}
	k := domain.KeyIssued{AccountID: account, Name: strings.TrimSpace(in.Name), Models: models,
		SpendLimit: limit, SpendPeriod: in.SpendPeriod, Management: in.Management, ExpiresAt: in.ExpiresAt}
	if err := s.withinCallersKey(by, k); err != nil {
		return "", "", err
	}
	h, settle := s.cmds()
	if keyID == "" {
		keyID = commands.NewKeyID()
	}
	if secret, err = h.IssueKeyAs(ctx, keyID, k); err != nil {
		return "", "", err
	}
	return keyID, secret, settle(ctx)
}

func (s *server) apiIssueKey(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var in struct {
		keyInput
		SpendLimit *commands.Amount `json:"spend_limit"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.SpendLimit != nil {
		in.keyInput.SpendLimit = &in.SpendLimit.Decimal
	}
	id, secret, err := s.issueKey(c.Request().Context(), principal(c), a.ID, in.keyInput)
	if err != nil {
		return keyRefusal(c, err)
	}
	name := strings.TrimSpace(in.Name)
	if k, ok := s.keyOfAccount(a.ID, id); ok {
		name = k.Name // as issued: trimmed, or the default for none
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]any{"data": map[string]any{
		"key_id": id, "key": secret, "name": name, "note": "the key is shown once: store it now"}})
}

// ownKey finds a key the caller may act on (staff: any; customers: theirs).
func (s *server) ownKey(c echo.Context, keyID string) (projections.KeyInfo, error) {
	var k projections.KeyInfo
	var err error
	s.findCaughtUp(c, func() bool { k, err = s.findOwnKey(c, keyID); return !errors.Is(err, errKeyNotFound) })
	if errors.Is(err, errKeyNotFound) {
		return k, errNotFound("key")
	}
	return k, err
}

var errKeyNotFound = errors.New("key not found")

// findCaughtUp runs find, and once more if it found nothing, after the
// projections hold every event committed so far: a key or an account that
// another process (the CLI beside the gateway, a second serve) made a
// moment ago is not a 404.
func (s *server) findCaughtUp(c echo.Context, find func() bool) {
	if !find() && caughtUp(c.Request().Context(), s.deps.Runner) == nil {
		find()
	}
}

// findOwnKey finds the key by its ID: staff's when its account is opened,
// a customer's when it is of their account.
func (s *server) findOwnKey(c echo.Context, keyID string) (projections.KeyInfo, error) {
	p := principal(c)
	k, ok := s.deps.Models.Keys.Get(keyID)
	if p.Staff {
		ok = ok && s.deps.Views.accounts.IsOpened(k.AccountID)
	} else {
		ok = ok && k.AccountID == p.AccountID
	}
	if !ok {
		return projections.KeyInfo{}, errKeyNotFound
	}
	return k, apiError(s.withinCallersKey(p, issuedOf(k)))
}

func (s *server) revokeKey(ctx context.Context, keyID string) error {
	h, settle := s.cmds()
	if err := h.RevokeKey(ctx, keyID); err != nil {
		return err
	}
	return settle(ctx)
}

// setKeyDisabled disables a key or enables it again, and waits until the
// key directory says so.
func (s *server) setKeyDisabled(ctx context.Context, keyID string, disabled bool) error {
	h, settle := s.cmds()
	if err := h.SetKeyDisabled(ctx, keyID, disabled); err != nil {
		return err
	}
	return settle(ctx)
}

func (s *server) apiRevokeKey(c echo.Context) error {
	k, err := s.ownKey(c, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.revokeKey(c.Request().Context(), k.KeyID); err != nil {
		return apiError(err)
	}
	k.Revoked = true
	return c.JSON(http.StatusOK, map[string]any{"data": s.keyWithSpend(k)})
}

func (s *server) apiInvoices(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, inv := range s.countedInvoices(a.ID) {
		out = append(out, map[string]any{"number": inv.Number, "month": inv.Month, "kind": inv.Kind, "total": inv.Total,
			"net": inv.Net(), "status": inv.Status, "issued_at": inv.IssuedAt, "pdf": invoicePDF(principal(c), inv.Ref())})
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// invoicePDF links to invoicing/httpapi's PDF routes: staff through the
// admin API, customers through theirs.
func invoicePDF(p auth.Principal, number string) string {
	if p.Staff {
		return "/admin/api/invoices/" + number + "/pdf"
	}
	return "/api/v1/invoices/" + number + "/pdf"
}

func (s *server) apiPublishPrices(c echo.Context) error {
	var in struct {
		FromCatalog bool                 `json:"from_catalog"`
		Prices      commands.GivenPrices `json:"prices"` // every model with an input and an output price
		EffectiveAt time.Time            `json:"effective_at"`
		Replace     bool                 `json:"replace"` // default: amend the list in force
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.FromCatalog {
		if len(in.Prices) > 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "give prices or from_catalog, not both")
		}
		in.Prices = s.deps.Catalog.NTDPrices()
	}
	if err := commands.CheckModels(in.Prices, func(m string) bool { _, ok := s.deps.Catalog.Get(m); return ok }); err != nil {
		return apiError(err)
	}
	h, settle := s.cmds()
	ctx := c.Request().Context()
	p, err := h.PublishPriceList(ctx, commands.PriceList{Prices: in.Prices, EffectiveAt: in.EffectiveAt, Replace: in.Replace})
	if err == nil {
		err = settle(ctx)
	}
	if err != nil {
		return apiError(err)
	}
	if p.Unchanged {
		// As a 字軌 range added again: nothing recorded, and said so.
		return c.JSON(http.StatusOK, map[string]any{"version": p.Version, "effective_at": p.EffectiveAt, "unchanged": true,
			"models": p.Models, "message": fmt.Sprintf("nothing changed: every price is already that of price list v%d in force then; nothing was published", p.Version)})
	}
	return c.JSON(http.StatusCreated, map[string]any{"version": p.Version, "effective_at": p.EffectiveAt, "replace": in.Replace,
		"models": p.Models, "changed": p.Changed, "removed": p.Removed, "carried": carriedJSON(p.Carried)})
}

// carriedJSON lists the scheduled lists a publication reached: each
// published again as version, at its effective time, in place of carries.
func carriedJSON(cs []commands.Carried) []map[string]any {
	out := []map[string]any{}
	for _, c := range cs {
		out = append(out, map[string]any{"version": c.Version, "carries": c.Carries, "effective_at": c.EffectiveAt})
	}
	return out
}

func (s *server) apiStaffTokens(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"data": s.deps.Views.StaffTokens()})
}

func (s *server) apiIssueStaffToken(c echo.Context) error {
	var in struct {
		Role string `json:"role"`
		Name string `json:"name"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	h, settle := s.cmds()
	ctx := c.Request().Context()
	id, secret, err := h.IssueStaffToken(ctx, in.Role, in.Name)
	if err == nil {
		err = settle(ctx)
	}
	if err != nil {
		return apiError(err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]any{"data": map[string]any{"token_id": id, "token": secret, "role": in.Role, "name": in.Name}})
}

func (s *server) apiRevokeStaffToken(c echo.Context) error {
	h, settle := s.cmds()
	ctx := c.Request().Context()
	err := h.RevokeStaffToken(ctx, c.Param("id"))
	if err == nil {
		err = settle(ctx)
	}
	if err != nil {
		return apiError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"revoked": c.Param("id")})
}
