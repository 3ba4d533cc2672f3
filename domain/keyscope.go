package domain

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrKeyScope is the refusal of a key acting beyond its scope.
var ErrKeyScope = errors.New("beyond the key's scope")

// Key scopes. An ordinary (inference) key calls models and manages
// nothing. A management key, like OpenRouter's provisioning keys, issues
// and revokes its account's keys and calls no model. Its own limits bound
// every key it acts on, so a key can never mint one that does more than it
// could itself:
//   - models: a subset of its models (when it has a list);
//   - spending: a limit no larger, over the same period or one that never
//     resets (when it has one; SpendsWithin);
//   - the management scope: only from a management key;
//   - expiry: by its own expiry at the latest (when it has one), so that a
//     key that expires cannot outlive itself through another key or a
//     change of its own.
//
// KeyWithin returns nil when parent may issue (or revoke) child, else an
// ErrKeyScope naming the first limit child exceeds.
func KeyWithin(parent, child KeyIssued) error {
	if !parent.Management {
		return fmt.Errorf("%w: only a management key issues or revokes keys; this one may only call models", ErrKeyScope)
	}
	if len(parent.Models) > 0 {
		if len(child.Models) == 0 {
			return fmt.Errorf("%w: this key may use only %v, so the keys it issues must name their models from that list", ErrKeyScope, parent.Models)
		}
		for _, m := range child.Models {
			if !slices.Contains(parent.Models, m) {
				return fmt.Errorf("%w: this key may not use %s, so neither may the keys it issues", ErrKeyScope, m)
			}
		}
	}
	if parent.SpendLimit.IsPositive() {
		pp, cp := SpendPeriodOf(parent), SpendPeriodOf(child)
		switch {
		case !child.SpendLimit.IsPositive():
			return fmt.Errorf("%w: this key's spending limit is NT$%s %s, so the keys it issues need a spending limit too", ErrKeyScope, parent.SpendLimit, SpendPeriodWords(pp))
		case !SpendsWithin(pp, cp) && pp == SpendNever:
			return fmt.Errorf("%w: this key's spending limit never resets, so the limits of the keys it issues must never reset either (not %s)", ErrKeyScope, cp)
		case !SpendsWithin(pp, cp):
			return fmt.Errorf("%w: this key's spending limit is %s, so the keys it issues must have a %s limit too, or one that never resets (not %s)", ErrKeyScope, pp, pp, cp)
		case child.SpendLimit.GreaterThan(parent.SpendLimit):
			return fmt.Errorf("%w: a spending limit of NT$%s is above this key's own NT$%s %s", ErrKeyScope, child.SpendLimit, parent.SpendLimit, SpendPeriodWords(pp))
		}
	}
	if end := parent.ExpiresAt; end != nil {
		switch at := end.UTC().Format(time.RFC3339); {
		case child.ExpiresAt == nil:
			return fmt.Errorf("%w: this key expires at %s, so the keys it issues or changes, itself included, must expire by then too", ErrKeyScope, at)
		case child.ExpiresAt.After(*end):
			return fmt.Errorf("%w: an expiry of %s is after this key's own, %s", ErrKeyScope, child.ExpiresAt.UTC().Format(time.RFC3339), at)
		}
	}
	return nil
}

// SpendNever is the spending period of a limit that never resets: a total
// for the key's life, OpenRouter's limit with limit_reset null.
const SpendNever = "never"

// SpendsWithin reports whether a limit over the period child counts within
// a limit over the period parent: over the same period, or never resetting,
// which spends at most its limit in any period. Empty periods are monthly
// (SpendPeriodOf).
func SpendsWithin(parent, child string) bool {
	parent, child = SpendPeriodOf(KeyIssued{SpendPeriod: parent}), SpendPeriodOf(KeyIssued{SpendPeriod: child})
	return child == parent || child == SpendNever
}

// SpendPeriodWords is a spending period as a sentence reads it after an
// amount: "NT$10 monthly", "NT$10 total".
func SpendPeriodWords(p string) string {
	if p == SpendNever {
		return "total"
	}
	return p
}

// SpendPeriodOf is a key's spending period: monthly unless it says otherwise
// (keys issued before any other period was offered say none).
func SpendPeriodOf(k KeyIssued) string {
	if k.SpendPeriod == "" {
		return "monthly"
	}
	return k.SpendPeriod
}
