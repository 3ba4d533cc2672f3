package admission

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// AccountView is what the balances projection knows of an account (and of
// the request's key), consistent as of AppliedVersion. Read it as one
// snapshot: a balance from one moment with a version from another would
// count a cost twice or not at all.
type AccountView struct {
	Balance        decimal.Decimal // top-ups + adjustments − usage costs, as of AppliedVersion
	CreditLimit    decimal.Decimal // postpaid: may go down to −CreditLimit; prepaid: 0
	AppliedVersion int64           // last usage-stream version applied; -1 = none
	KeySpent       decimal.Decimal // the key's spend in its current period, as of AppliedVersion
	KeyLimit       decimal.Decimal // the key's spending limit; zero = none
}

// Causes of a refused hold.
const (
	CauseCredits       = "credits"
	CauseKeySpendLimit = "key_spend_limit"
)

// HoldResult is the ledger's answer. For OK and Cause "credits" the figures
// are the account's: Held = active holds + settled costs the view has not
// applied yet, Available = Balance + CreditLimit − Held (before this hold).
// For Cause "key_spend_limit" they are the key's: Balance = KeyLimit −
// KeySpent, Held = the key's holds + unapplied costs, Available = Balance −
// Held. Required is the amount asked for. The ledger counts in whole
// micro-NTD (holds rounded up); a refusal's Available is exact.
type HoldResult struct {
	OK                                 bool
	Cause                              string
	Balance, Held, Available, Required decimal.Decimal
}

// Ledger holds credit for requests in flight and remembers settled costs
// until the balances projection has applied them.
type Ledger interface {
	// Hold reserves amount for requestID if the account (and the key's
	// spending limit) can cover it.
	Hold(ctx context.Context, account, key, requestID string, view AccountView, amount decimal.Decimal) (HoldResult, error)
	// Settle releases the hold and records the actual cost as "settled at
	// usage version usageVersion" until every view has applied it. A cost
	// is recorded even when the hold has expired. Call it once per request.
	Settle(ctx context.Context, account, key, requestID string, cost decimal.Decimal, usageVersion int64) error
	// Release frees the hold with no cost (request failed). Releasing an
	// unknown or expired hold is not an error.
	Release(ctx context.Context, account, key, requestID string) error
	// Held returns the account's total active holds and their count.
	Held(ctx context.Context, account string) (decimal.Decimal, int, error)
	// Renew moves an active hold's expiry HoldTTL from now, for a request
	// still running; false if the hold is gone (settled, released or
	// expired), which it does not bring back.
	Renew(ctx context.Context, account, requestID string) (bool, error)
	// HoldTTL is how long a hold lasts unless renewed.
	HoldTTL() time.Duration
}

// LedgerOptions tune a ledger; the zero value gives the defaults.
type LedgerOptions struct {
	// HoldTTL: a hold not settled or released by then expires, so a crashed
	// instance does not lock credit for ever. Default 15 minutes.
	HoldTTL time.Duration
	// SettledGrace: a settled cost is forgotten only once a view has applied
	// it AND it is older than this. It bounds how far behind its projection
	// a view used for admission may be. Default 2 minutes.
	SettledGrace time.Duration
	// Clock, for tests; default time.Now. The Redis ledger never reads
	// it: its holds are timed on Redis's own clock, shared by every
	// instance whatever their clocks say.
	Clock func() time.Time
	// OthersRunning: other instances ran on the Redis ledger's prefix when
	// this one started (the store's record of its serves says so; Redis
	// cannot). An instance that finds no epoch then waits RestoreWindow
	// before its first hold, as one that lost its epoch does, for the
	// running ones to put back what an emptied Redis lost; without it, a
	// prefix that looks new is taken as new.
	OthersRunning bool
	// Log receives the Redis ledger's errors: Redis evicting keys while
	// it serves. Default slog.Default().
	Log *slog.Logger
}

func (o LedgerOptions) withDefaults() LedgerOptions {
	if o.HoldTTL <= 0 {
		o.HoldTTL = 15 * time.Minute
	}
	if o.SettledGrace <= 0 {
		o.SettledGrace = 2 * time.Minute
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

// idleTTL: an account untouched this long has no live hold and no settled
// cost any view could still need, so its whole state may go.
func (o LedgerOptions) idleTTL() time.Duration {
	return max(o.HoldTTL, o.SettledGrace) + time.Minute
}

// Errors.
var (
	ErrDuplicateHold = errors.New("admission: a hold with this request id already exists")
	ErrBadInput      = errors.New("admission: invalid ledger input")
)

// holdInput is a Hold's arguments in micro-NTD, rounded so that admission
// is never optimistic.
type holdInput struct {
	base     int64 // floor(Balance) + floor(CreditLimit)
	amount   int64 // ceil
	applied  int64
	keySpent int64 // ceil
	keyLimit int64 // floor; -1 = none
}

func newHoldInput(key string, v AccountView, amount decimal.Decimal) (holdInput, error) {
	var in holdInput
	var err error
	if amount.Sign() < 0 || strings.IndexByte(key, '|') >= 0 {
		return in, ErrBadInput
	}
	if in.amount, err = toMicro(amount, true); err != nil {
		return in, err
	}
	bal, err := toMicro(v.Balance, false)
	if err != nil {
		return in, err
	}
	cl, err := toMicro(v.CreditLimit, false)
	if err != nil {
		return in, err
	}
	in.base = bal + max(cl, 0)
	in.applied = max(v.AppliedVersion, -1)
	in.keyLimit = -1
	if v.KeyLimit.Sign() > 0 {
		if in.keyLimit, err = toMicro(v.KeyLimit, false); err != nil {
			return in, err
		}
		if in.keySpent, err = toMicro(v.KeySpent, true); err != nil {
			return in, err
		}
	}
	return in, nil
}

// inLuaRange: Redis scripts compute in doubles, exact to 2^53.
func (in holdInput) inLuaRange() bool {
	for _, v := range [...]int64{in.base, in.amount, in.keySpent, in.keyLimit} {
		if v > maxLuaInt/4 || v < -maxLuaInt/4 {
			return false
		}
	}
	return true
}

// Hold outcomes shared with the Lua script.
const (
	holdOK = iota
	holdCredits
	holdKey
)

// decide applies the admission rule given the account's current holds and
// unapplied settled costs (total and the key's share). It returns the
// outcome and the Held and Available figures for the result.
func (in holdInput) decide(held, keyHeld, settled, keySettled int64) (out int, h, avail int64) {
	h, avail = held+settled, in.base-held-settled
	if in.amount > avail {
		return holdCredits, h, avail
	}
	if in.keyLimit >= 0 {
		kh := keyHeld + keySettled
		kavail := in.keyLimit - in.keySpent - kh
		if in.amount > kavail {
			return holdKey, kh, kavail
		}
	}
	return holdOK, h, avail
}

func holdResult(out int, v AccountView, amount decimal.Decimal, h, avail int64) HoldResult {
	r := HoldResult{OK: out == holdOK, Balance: v.Balance, Held: fromMicro(h), Available: fromMicro(avail), Required: amount}
	// A refusal's figures reach the client beside the exact balance: its
	// Available is exact too (the ledger decided on whole micro-NTD), so
	// that the figures add up to the last digit.
	switch out {
	case holdCredits:
		r.Cause = CauseCredits
		r.Available = v.Balance.Add(decimal.Max(v.CreditLimit, decimal.Zero)).Sub(r.Held)
	case holdKey:
		r.Cause, r.Balance = CauseKeySpendLimit, v.KeyLimit.Sub(v.KeySpent)
		r.Available = r.Balance.Sub(r.Held)
	}
	return r
}
