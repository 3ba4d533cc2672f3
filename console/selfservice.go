package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
	"golang.org/x/text/width"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/projections"
)

// registerSelfService mounts what a customer does for themselves on their
// account page: change a key, choose where invoices go, and whether the
// public rankings show their apps. A customer acts through a management
// key or as the account's owner signed in by single sign-on; an inference
// key reads only.
func (s *server) registerSelfService(g *echo.Group) {
	keyManagers := auth.RequireKeyManager(s.auth, roleAdmin)
	carrierSetters := auth.RequireKeyManager(s.auth, roleFinance)
	owners := auth.RequireKeyManager(s.auth)
	g.POST("/keys/:id", s.changeKeyForm, keyManagers)
	g.POST("/accounts/:id/invoice-carrier", s.carrierForm, carrierSetters)
	g.POST("/accounts/:id/rankings", s.rankingsForm, owners)
}

// keyChange is a key's name and spending limit after a change.
type keyChange struct {
	Name        string
	SpendLimit  decimal.Decimal
	SpendPeriod string
}

// changeKey renames a key and sets its limit, within the caller's own key
// (domain.KeyWithin: a management key cannot give a key, itself included,
// more than it has).
func (s *server) changeKey(ctx context.Context, by auth.Principal, k projections.KeyInfo, ch keyChange) (projections.KeyInfo, error) {
	suspended, err := s.suspendedFor(ctx, by, k.AccountID)
	if err != nil {
		return k, err
	}
	h, settle := s.cmds()
	err = h.ChangeKey(ctx, domain.KeyChanged{KeyID: k.KeyID, Name: ch.Name, SpendLimit: ch.SpendLimit, SpendPeriod: ch.SpendPeriod},
		func(before, after domain.KeyIssued) error {
			// A suspended account's keys may be renamed and held tighter, never loosened.
			if suspended && raises(before, after) {
				return errSuspendedKeys
			}
			return s.withinCallersKey(by, after)
		})
	return s.keyAfter(ctx, k, err, settle)
}

// keyAfter answers a key as a change left it: once the read models hold
// the change, or the change's error.
func (s *server) keyAfter(ctx context.Context, k projections.KeyInfo, err error, settle func(context.Context) error) (projections.KeyInfo, error) {
	if err == nil {
		err = settle(ctx)
	}
	if err != nil {
		return k, apiError(err)
	}
	if nk, ok := s.keyOfAccount(k.AccountID, k.KeyID); ok {
		return nk, nil
	}
	return k, nil
}

// changeKeyExpiry sets, moves or clears (nil) a key's expiry. While the
// account is suspended an expiry may come sooner, never later nor go.
func (s *server) changeKeyExpiry(ctx context.Context, by auth.Principal, k projections.KeyInfo, at *time.Time) (projections.KeyInfo, error) {
	suspended, err := s.suspendedFor(ctx, by, k.AccountID)
	if err != nil {
		return k, err
	}
	h, settle := s.cmds()
	err = h.ChangeKeyExpiry(ctx, k.KeyID, at, func(before, after domain.KeyIssued) error {
		if suspended && expiresLater(before.ExpiresAt, after.ExpiresAt) {
			return errSuspendedKeys
		}
		return s.withinCallersKey(by, after)
	})
	return s.keyAfter(ctx, k, err, settle)
}

// wholeChangeWithin checks a change of a key's name or limit and of its
// expiry (nil: the expiry stays) against the caller's key as one, before
// either is written: each is checked again as it is written, but one
// refused after the other was written would leave the key half changed.
func (s *server) wholeChangeWithin(by auth.Principal, k projections.KeyInfo, ch keyChange, expiry **time.Time) error {
	after := domain.KeyChanged{Name: ch.Name, SpendLimit: ch.SpendLimit, SpendPeriod: ch.SpendPeriod}.Changed(issuedOf(k))
	if expiry != nil {
		after.ExpiresAt = *expiry
	}
	return apiError(s.withinCallersKey(by, after))
}

// formExpiryChange reads the key form's last day: moved is false when the
// form leaves it as it showed it (expires_on_was), so that an expiry set
// to the second through the API is not rounded to the end of its day. A
// last day already over is refused.
func formExpiryChange(c echo.Context, now time.Time) (at *time.Time, moved bool, err error) {
	day := strings.TrimSpace(c.FormValue("expires_on")) // parses the form
	if _, given := c.Request().PostForm["expires_on"]; !given || day == strings.TrimSpace(c.FormValue("expires_on_was")) {
		return nil, false, nil
	}
	if at, err = formExpiry(c, "expires_on"); err != nil {
		return nil, false, err
	}
	if at != nil && !at.After(now) {
		// The command's own words, which the console translates.
		return nil, false, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("a key's expiry must be in the future (%s given)", at.Format(time.RFC3339)))
	}
	return at, true, nil
}

// expiresLater reports whether a key's expiry moves later: cleared (nil,
// never) where it had one, or a later instant.
func expiresLater(before, after *time.Time) bool {
	return before != nil && (after == nil || after.After(*before))
}

func (s *server) changeKeyForm(c echo.Context) error {
	k, err := s.ownKey(c, c.Param("id"))
	if err != nil {
		return err
	}
	given, err := formSpendLimit(c)
	if err != nil {
		return err
	}
	limit := decimal.Zero // an empty field: no limit
	if given != nil {
		limit = *given
	}
	expiry, moved, err := formExpiryChange(c, s.deps.now())
	if err != nil {
		return err
	}
	expiry = s.onCallersLastDay(principal(c), expiry)
	ctx := c.Request().Context()
	if moved && expiresLater(expiryOf(k), expiry) {
		if err := s.refuseIfSuspended(ctx, principal(c), k.AccountID); err != nil {
			return err
		}
	}
	ch := keyChange{Name: c.FormValue("name"), SpendLimit: limit, SpendPeriod: c.FormValue("spend_period")}
	if moved {
		if err := s.wholeChangeWithin(principal(c), k, ch, &expiry); err != nil {
			return err
		}
	}
	if k, err = s.changeKey(ctx, principal(c), k, ch); err != nil {
		return err
	}
	if moved {
		if _, err := s.changeKeyExpiry(ctx, principal(c), k, expiry); err != nil {
			return err
		}
	}
	return redirectBack(c, "/console/accounts/"+url.PathEscape(k.AccountID), "key.changed")
}

// carrierForm sets where the account's invoices go: a carrier, a donation
// code, a 統一編號, or none of them (a printed proof). The form is the
// whole setting, so an empty 統一編號 field makes invoices B2C.
func (s *server) carrierForm(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	// Codes typed with a Chinese input method come full-width (０４５９５２５７).
	field := func(name string) string { return strings.TrimSpace(width.Narrow.String(c.FormValue(name))) }
	taxID := field("tax_id")
	set := domain.InvoiceCarrierSet{AccountID: a.ID, Carrier: field("carrier"), DonationCode: field("donation_code"), TaxID: &taxID}
	h, settle := s.cmds()
	ctx := c.Request().Context()
	if err := h.SetInvoiceCarrier(ctx, set); err != nil {
		return apiError(err)
	}
	if err := settle(ctx); err != nil {
		return apiError(err)
	}
	return redirectBack(c, "/console/accounts/"+url.PathEscape(a.ID), "carrier.saved")
}

func (s *server) rankingsForm(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	// The form's checkbox sends "on" or nothing: another value is a form
	// the console did not make, not an opt-out.
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	listed := form.Has("listed")
	if v := form["listed"]; listed && (len(v) != 1 || v[0] != "on") {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("listed: %s is not a choice: tick the box (on) or leave it out", domain.Quote(strings.Join(v, ","))))
	}
	h, settle := s.cmds()
	ctx := c.Request().Context()
	if err := h.SetRankingsListed(ctx, a.ID, listed); err != nil {
		return apiError(err)
	}
	if err := settle(ctx); err != nil {
		return apiError(err)
	}
	return redirectBack(c, "/console/accounts/"+url.PathEscape(a.ID), "rankings.saved")
}

// invoiceTo is where an account's invoices go, as its stream says now.
type invoiceTo struct {
	TaxID, Carrier, DonationCode string
}

// accountInvoiceTo reads the account's stream: the 統一編號 it was opened
// with, then each carrier setting and correction of its details in turn.
func accountInvoiceTo(ctx context.Context, store eventstore.Store, account string) (invoiceTo, error) {
	var out invoiceTo
	const page = 1000
	for from := uint64(0); ; from += page {
		evs, err := store.ReadStream(ctx, domain.AccountStream(account), from, page)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		for i := range evs {
			e := &evs[i]
			if e.Type != domain.TypeAccountOpened && e.Type != domain.TypeInvoiceCarrierSet && e.Type != domain.TypeDetailsChanged {
				continue
			}
			body, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
			if err != nil {
				return out, err
			}
			switch b := body.(type) {
			case *domain.AccountOpened:
				out.TaxID = b.TaxID
			case *domain.AccountDetailsChanged:
				out.TaxID = b.TaxID
			case *domain.InvoiceCarrierSet:
				out.Carrier, out.DonationCode = b.Carrier, b.DonationCode
				if b.TaxID != nil {
					out.TaxID = *b.TaxID
				}
			}
		}
		if len(evs) < page {
			return out, nil
		}
	}
}

// Low balance: the account page warns when the credit left falls below
// lowBalanceShare of the last top-up (prepaid) or of the credit limit
// (postpaid), and never below Deps.LowBalance (NT$100 unless set), so that
// a customer hears of it before requests are refused.
var (
	lowBalanceShare   = decimal.RequireFromString("0.10")
	defaultLowBalance = decimal.NewFromInt(100)
)

// lowBalance is the account page's warning: the threshold and whether the
// credit left is below it. A suspended account's credit is not usable
// (every request is 403 account_suspended, whatever the credit), so it is
// never low: topping up would not let a request through.
type lowBalance struct {
	Remaining, Threshold, Floor decimal.Decimal
	Low, Suspended              bool
}

func (s *server) lowBalanceOf(a AccountJSON, topUps []TopUp) lowBalance {
	floor := s.deps.LowBalance
	if !floor.IsPositive() {
		floor = defaultLowBalance
	}
	base := a.CreditLimit
	if !a.Plan.Postpaid() {
		base = decimal.Zero
		for _, t := range topUps { // newest first
			if t.Method != domain.MethodAdjustment && t.Amount.IsPositive() {
				base = t.Amount
				break
			}
		}
	}
	th := decimal.Max(floor, base.Mul(lowBalanceShare).Round(2))
	return lowBalance{Remaining: a.Available, Threshold: th, Floor: floor, Suspended: a.Suspended,
		Low: !a.Suspended && a.Available.LessThan(th)}
}

// selfServiceView adds to the account page what its owner manages there.
func (s *server) selfServiceView(c echo.Context, a AccountInfo, data map[string]any) error {
	p := principal(c)
	to, err := accountInvoiceTo(c.Request().Context(), s.deps.Store, a.ID)
	if err != nil {
		return err
	}
	type allowanceRow struct {
		Number, Invoice, PDF string
		Amount               int64
		Voided               bool
	}
	var allowances []allowanceRow
	for _, inv := range s.deps.Models.Invoices.List("", a.ID) {
		for _, al := range inv.Allowances {
			allowances = append(allowances, allowanceRow{Number: al.Number, Invoice: inv.Number, Amount: al.Sales + al.Tax,
				Voided: al.Voided, PDF: allowancePDF(p, al.Number)})
		}
	}
	acct, _ := data["Account"].(AccountJSON)
	topUps, _ := data["AllTopUps"].([]TopUp)
	owner := !p.Staff && p.Management
	data["InvoiceTo"] = to
	data["Allowances"] = allowances
	data["LowBalance"] = s.lowBalanceOf(acct, topUps)
	data["CanCarrier"] = owner || p.Role == auth.Finance
	data["CanRankings"] = owner
	data["Listed"] = s.deps.Views.RankingsListed(a.ID)
	data["Periods"] = []string{projections.PeriodMonthly, projections.PeriodWeekly, projections.PeriodDaily, projections.PeriodNever}
	return nil
}

func allowancePDF(p auth.Principal, number string) string {
	if p.Staff {
		return "/admin/api/allowances/" + url.PathEscape(number) + "/pdf"
	}
	return "/api/v1/allowances/" + url.PathEscape(number) + "/pdf"
}
