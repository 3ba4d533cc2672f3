package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
)

// Corrections: resuming a suspended account (admin) and adjusting a balance
// up or down (finance), each with a reason; the signed-in staff token is
// recorded as the actor.

// staffTokens lists the staff tokens from the console's read model, for
// the last-admin check of a revocation.
func (s *server) staffTokens(context.Context) ([]commands.StaffToken, error) {
	var out []commands.StaffToken
	for _, t := range s.deps.Views.StaffTokens() {
		out = append(out, commands.StaffToken{TokenID: t.ID, Role: t.Role, Name: t.Name, IssuedAt: t.IssuedAt, IssuedBy: t.IssuedBy,
			Revoked: t.Revoked, RevokedAt: t.RevokedAt, RevokedBy: t.RevokedBy})
	}
	return out, nil
}

func (s *server) apiResume(c echo.Context) error {
	return s.apiAccountStatus(c, (*commands.Handler).ResumeAccount)
}

// apiAccountStatus suspends or resumes an account with the reason given.
func (s *server) apiAccountStatus(c echo.Context, change func(*commands.Handler, context.Context, string, string) error) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	h, settle := s.cmds()
	ctx := c.Request().Context()
	if err := change(h, ctx, a.ID, in.Reason); err != nil {
		return apiError(err)
	}
	if err := settle(ctx); err != nil {
		return apiError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"data": s.accountJSON(a)})
}

func (s *server) apiAdjust(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var in struct {
		Amount      commands.Amount `json:"amount"`
		Reason      string          `json:"reason"`
		Description string          `json:"description"`
		Reverses    string          `json:"reverses"` // the ID of the adjustment this one reverses
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	reverses, err := adjustmentID(in.Reverses)
	if err != nil {
		return err
	}
	// A client's Idempotency-Key makes a retry after a lost answer record
	// nothing more, as for quotes. Keys are the caller's own: another staff
	// token's "1" is another adjustment.
	once := ""
	if k := strings.TrimSpace(c.Request().Header.Get("Idempotency-Key")); k != "" {
		if len(k) > 200 {
			return echo.NewHTTPError(http.StatusBadRequest, "Idempotency-Key is at most 200 characters")
		}
		p, _ := auth.FromContext(c)
		once = "api-adjust\x00" + p.TokenID + "\x00" + p.Subject + "\x00" + k
	}
	h, settle := s.cmds()
	ctx := c.Request().Context()
	id, _, err := h.AdjustOnceRecorded(ctx, domain.CreditsAdjusted{AccountID: a.ID, Amount: in.Amount.Decimal, Reason: in.Reason,
		Description: in.Description, Reverses: reverses}, once)
	if err != nil {
		var reused *commands.OnceConflict
		if errors.As(err, &reused) {
			return echo.NewHTTPError(http.StatusConflict, fmt.Sprintf("Idempotency-Key %s already recorded another adjustment of this account: NT$%s (%s); send this one under a key of its own",
				domain.Quote(strings.TrimSpace(c.Request().Header.Get("Idempotency-Key"))), reused.Recorded.Amount, domain.Quote(reused.Recorded.Reason)))
		}
		return apiError(err)
	}
	if err := settle(ctx); err != nil {
		return apiError(err)
	}
	answer := map[string]any{"data": s.accountJSON(a), "adjustment_id": id.String()}
	if in.Amount.IsPositive() {
		// The adjustment is recorded: a failure to read the invoices is
		// logged, never answered as an error that a client would retry.
		if o, err := s.creditOffset(ctx, a.ID, decimal.Zero); err != nil {
			s.deps.Logger.Error("console: reading invoiced usage an adjustment offsets", "account", a.ID, "err", err)
		} else if advice := o.Advice(); advice != "" {
			answer["credit_offset"] = creditOffsetJSON{CreditOffset: o, Message: advice}
		}
	}
	return c.JSON(http.StatusCreated, answer)
}

// creditOffsetJSON is credit given that offsets invoiced usage still owed,
// as the admin API answers an adjustment that makes or leaves it.
type creditOffsetJSON struct {
	invoicing.CreditOffset
	Message string `json:"message"`
}

// creditOffsetter is what finance's adjustments need of invoicing
// (*invoicing.Service): credit given does not forgive billed usage, so an
// adjustment on an account whose invoices are still owed says which
// allowance does.
type creditOffsetter interface {
	CreditOffset(ctx context.Context, acct string, more decimal.Decimal) (invoicing.CreditOffset, error)
}

// creditOffset is the account's credit given that offsets invoiced usage
// still owed, with more credit given; none without invoicing.
func (s *server) creditOffset(ctx context.Context, acct string, more decimal.Decimal) (invoicing.CreditOffset, error) {
	if f, ok := s.deps.Invoices.(creditOffsetter); ok && f != nil {
		return f.CreditOffset(ctx, acct, more)
	}
	return invoicing.CreditOffset{}, nil
}

func (s *server) resumeForm(c echo.Context) error {
	return s.accountStatusForm(c, (*commands.Handler).ResumeAccount, "account.resumed")
}

// accountStatusForm suspends or resumes an account from its page.
func (s *server) accountStatusForm(c echo.Context, change func(*commands.Handler, context.Context, string, string) error, done string) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	h, settle := s.cmds()
	ctx := c.Request().Context()
	if err := change(h, ctx, a.ID, c.FormValue("reason")); err != nil {
		return err
	}
	if err := settle(ctx); err != nil {
		return err
	}
	return redirectBack(c, "/console/accounts/"+url.PathEscape(a.ID), done)
}

func (s *server) adjustForm(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	amount, err := formDecimal(c, "amount")
	if err != nil {
		return err
	}
	h, settle := s.cmds()
	ctx := c.Request().Context()
	reverses, err := adjustmentID(c.FormValue("reverses"))
	if err != nil {
		return err
	}
	adj := domain.CreditsAdjusted{AccountID: a.ID, Amount: amount, Reason: strings.TrimSpace(c.FormValue("reason")),
		Description: strings.TrimSpace(c.FormValue("description")), Reverses: reverses}
	back := "/console/accounts/" + url.PathEscape(a.ID)
	// The form's one-time token makes the adjustment's event ID: the same
	// form sent twice (a double click, a resend) records it once.
	once := c.FormValue("once")
	if c.FormValue(confirmField) != "yes" {
		if err := h.CheckAdjust(ctx, adj); err != nil {
			return err
		}
		facts := [][2]string{{"account", a.ID}, {"field.amount", money(amount)}, {"field.reason", adj.Reason}}
		if adj.Description != "" {
			facts = append(facts, [2]string{"field.description", adj.Description})
		}
		if reverses != uuid.Nil {
			facts = append(facts, [2]string{"adjust.reverses", reverses.String()})
		}
		var warnings []string
		if amount.IsPositive() {
			o, err := s.creditOffset(ctx, a.ID, amount)
			if err != nil {
				return err
			}
			if o.ToAllow >= 1 {
				warnings = append(warnings, "adjust.offset")
				facts = append(facts, [2]string{"adjust.offset.allow", offsetFact(o)})
			}
		}
		_, err := s.confirmed(c, confirmStep{Action: "confirm.adjust", Target: a.Organisation, Note: "confirm.adjust.note",
			Danger: amount.IsNegative(), Warnings: warnings,
			Facts:  facts,
			Fields: [][2]string{{"amount", amount.String()}, {"reason", adj.Reason}, {"description", adj.Description}, {"reverses", c.FormValue("reverses")}, {"once", once}},
			Post:   back + "/adjustments", Back: back})
		return err
	}
	if err := h.AdjustOnce(ctx, adj, once); err != nil {
		return err
	}
	if err := settle(ctx); err != nil {
		return err
	}
	return redirectBack(c, back, "adjust.ok")
}

// offsetFact names the allowance that forgives invoiced usage a credit
// would offset: its amount and the invoices that still bill it.
func offsetFact(o invoicing.CreditOffset) string {
	on := "—"
	if len(o.Invoices) > 0 {
		on = strings.Join(o.Invoices, ", ")
	}
	return fmt.Sprintf("%s · %s", ntd(o.ToAllow), on)
}

// adjustmentID reads the ID of the adjustment a reversal names ("" for
// none: the adjustment reverses nothing).
func adjustmentID(v string) (uuid.UUID, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(v)
	if err != nil || id == uuid.Nil {
		return uuid.Nil, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("reverses %s is not an adjustment's ID", domain.Quote(v)))
	}
	return id, nil
}
