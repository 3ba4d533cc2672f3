package console

import (
	"context"
	"math"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// withinCallersKey checks that a customer acts only on keys within the
// limits of the key they called with (domain.KeyWithin): staff are bounded
// by their role alone, a person signed in by single sign-on acts as the
// account's owner.
func (s *server) withinCallersKey(by auth.Principal, k domain.KeyIssued) error {
	own, bound, err := s.callersLimits(by)
	if err != nil || !bound {
		return err
	}
	return domain.KeyWithin(own, k)
}

// callersLimits is the caller's own key when its limits bound the keys it
// may act on (bound); staff and the account's owner signed in by SSO are
// bound by none. A caller whose key is gone has nothing to act with.
func (s *server) callersLimits(by auth.Principal) (own domain.KeyIssued, bound bool, err error) {
	if by.Staff || by.Subject != "" && by.KeyID == "" {
		return own, false, nil
	}
	for _, k := range s.deps.Models.Keys.ByAccount(by.AccountID) {
		if k.KeyID == by.KeyID {
			return issuedOf(k), true, nil
		}
	}
	return own, false, errNotFound("key")
}

// keysSeenBy lists the keys of account that by sees: a management key with
// limits the keys within them alone, those it may act on, as /api/v1/keys
// and the activity API show it; staff, the owner signed in by SSO and an
// inference key, which reads its account, every key.
func (s *server) keysSeenBy(by auth.Principal, account string) ([]projections.KeyInfo, error) {
	keys := s.deps.Models.Keys.ByAccount(account)
	own, bound, err := s.callersLimits(by)
	if err != nil || !bound || !own.Management {
		return keys, err
	}
	seen := keys[:0:0]
	for _, k := range keys {
		if domain.KeyWithin(own, issuedOf(k)) == nil {
			seen = append(seen, k)
		}
	}
	return seen, nil
}

// onCallersLastDay is the expiry a key form's day gives (at: the end of
// that Taipei day), brought back to the caller's key's own expiry when the
// day is the caller's key's last one: the forms show a key expiring during
// a day as working through it, and a key given that day expires with the
// key that made it rather than being refused for outliving it by hours.
func (s *server) onCallersLastDay(by auth.Principal, at *time.Time) *time.Time {
	if at == nil || by.Staff || by.KeyID == "" {
		return at
	}
	for _, own := range s.deps.Models.Keys.ByAccount(by.AccountID) {
		if own.KeyID != by.KeyID || own.ExpiresAt.IsZero() {
			continue
		}
		if ends := own.ExpiresAt; at.After(ends) && lastDay(at) == lastDay(&ends) {
			return &ends
		}
	}
	return at
}

// issuedOf is a projected key's scope and limits as its event carried them.
func issuedOf(k projections.KeyInfo) domain.KeyIssued {
	out := domain.KeyIssued{KeyID: k.KeyID, AccountID: k.AccountID, Models: k.Models, SpendLimit: k.SpendLimit,
		SpendPeriod: k.SpendPeriod, Management: k.Management}
	if !k.ExpiresAt.IsZero() {
		at := k.ExpiresAt
		out.ExpiresAt = &at
	}
	return out
}

// errSuspendedKeys refuses a customer what would let a suspended account's
// keys do more: their keys call no model while it is suspended, and none
// should be ready to once it is resumed without the customer's say.
var errSuspendedKeys = echo.NewHTTPError(http.StatusForbidden,
	"this account is suspended: until it is resumed, keys cannot be issued, enabled or given a higher spending limit; listing, disabling and deleting keys and lowering their limits still work")

// suspendedFor reports whether a customer's account is suspended, from its
// own stream, so that a suspension another process recorded a moment ago
// counts at once. Staff are not held to it: they suspend and resume
// accounts, and may prepare a suspended account's keys.
func (s *server) suspendedFor(ctx context.Context, by auth.Principal, account string) (bool, error) {
	if by.Staff {
		return false, nil
	}
	h, _ := s.cmds()
	st, err := h.AccountState(ctx, account)
	if err != nil {
		return false, apiError(err)
	}
	return st.Suspended, nil
}

// refuseIfSuspended is errSuspendedKeys when a customer's account is
// suspended.
func (s *server) refuseIfSuspended(ctx context.Context, by auth.Principal, account string) error {
	suspended, err := s.suspendedFor(ctx, by, account)
	if err == nil && suspended {
		err = errSuspendedKeys
	}
	return err
}

// raises reports whether a change gives a key more than it had: no
// spending limit where it had one, a higher one, or a shorter period (the
// same amount, spent more often). A key without a limit gains nothing
// from one.
func raises(before, after domain.KeyIssued) bool {
	if !before.SpendLimit.IsPositive() {
		return false
	}
	return !after.SpendLimit.IsPositive() || after.SpendLimit.GreaterThan(before.SpendLimit) ||
		periodDays(after.SpendPeriod) < periodDays(before.SpendPeriod)
}

// periodDays orders spending periods by length; none is monthly, and a
// limit that never resets is the longest.
func periodDays(p string) int {
	switch p {
	case "daily":
		return 1
	case "weekly":
		return 7
	case projections.PeriodNever:
		return math.MaxInt
	}
	return 31
}
