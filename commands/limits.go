package commands

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// MaxLimit bounds spending limits of keys and credit limits of accounts.
// The shared admission ledger (Redis) keeps amounts as micro-NTD in Lua
// numbers, exact up to 2^53 (about NT$9 billion), and the in-memory one in
// int64: a limit past what they hold could never be checked, and every
// request of the key or account would fail its credit check.
var MaxLimit = decimal.NewFromInt(1_000_000_000)

// MaxPrice bounds every price of a list, NTD per million tokens: about
// fifty times the dearest model offered anywhere. A request's credit hold
// is its price times up to a context's worth of tokens, which a price
// past this bound could take beyond what the admission ledger holds.
var MaxPrice = decimal.NewFromInt(1_000_000)

// MaxPricePlaces bounds a price's decimal places (domain.PricePlaces);
// prices derived from the catalog are rounded to it.
const MaxPricePlaces = domain.PricePlaces

// limitProblem says what is wrong with a limit above MaxLimit or finer
// than a cent ("" when nothing is); what names the limit. Limits are shown
// to the cent everywhere, so NT$0.001 would read as NT$0.00.
func limitProblem(what string, d decimal.Decimal) string {
	if d.GreaterThan(MaxLimit) {
		return what + " is at most NT$1,000,000,000"
	}
	return centsProblem(what, d)
}

// centsProblem says what is wrong with an amount finer than a cent ("" when
// nothing is); what names the amount.
func centsProblem(what string, d decimal.Decimal) string {
	if !d.Equal(d.Truncate(2)) {
		return fmt.Sprintf("%s has at most two decimal places (NT$%s given)", what, domain.Excerpt(d.String()))
	}
	return ""
}

// checkLimit refuses a limit above MaxLimit or finer than a cent.
func checkLimit(what string, d decimal.Decimal) error {
	if p := limitProblem(what, d); p != "" {
		return invalid("%s", p)
	}
	return nil
}

// spendTerms checks a key's spending limit and period, and returns the
// period: monthly when a limit comes without one. never is a limit that
// never resets (domain.SpendNever).
func spendTerms(limit decimal.Decimal, period string) (string, error) {
	switch period {
	case "", "daily", "weekly", "monthly", domain.SpendNever:
	default:
		return "", invalid("spend period must be daily, weekly, monthly or never")
	}
	if limit.IsNegative() {
		return "", invalid("spending limit must not be negative")
	}
	if err := checkLimit("a spending limit", limit); err != nil {
		return "", err
	}
	if limit.IsPositive() && period == "" {
		period = "monthly"
	}
	return period, nil
}

// plainAmount is an amount as a person writes it: digits, an optional
// decimal point and minus sign; no exponent, no plus, no space.
var plainAmount = regexp.MustCompile(`^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

// PlainAmount reads an amount written as a person writes one (1000, 42.5,
// -50). decimal.NewFromString also takes 1e3 and +100, which in a money
// field are a slip of the keyboard rather than NT$1,000 or NT$100.
func PlainAmount(v string) (decimal.Decimal, bool) {
	if !plainAmount.MatchString(v) {
		return decimal.Zero, false
	}
	d, err := decimal.NewFromString(v)
	return d, err == nil
}

// Amount is a money field of a JSON body: a string or a number written as
// PlainAmount reads one ("1000", 42.5, "-50"). The decimal type alone
// would read "1e3" as NT$1,000, where the console's forms and the CLI
// refuse it.
type Amount struct{ decimal.Decimal }

// UnmarshalJSON takes "1000" or 1000; null leaves the amount as it was.
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	d, ok := PlainAmount(s)
	if !ok {
		return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeOf(Amount{})}
	}
	a.Decimal = d
	return nil
}

// JSONKind names what an Amount field takes, for refusals
// (internal/jsonkind).
func (Amount) JSONKind() string {
	return `an amount written plainly, as "1000" or "-42.50" (no exponent, no plus sign, no spaces)`
}
