package admission

import (
	"errors"
	"math"

	"github.com/routefree/routefree/internal/exact"

	"github.com/shopspring/decimal"
)

// Amounts inside the ledger are int64 micro-NTD (10^-6 NTD).
const microExp = 6

// maxLuaInt is the largest integer a Lua double holds exactly (2^53).
const maxLuaInt = int64(1) << 53

// MaxHold is the largest hold the ledgers take, whatever the account's
// credit: the shared ledger's scripts compute in doubles, exact to 2^53
// micro-NTD, and keep a quarter of that so that sums stay exact (about
// NT$2.25 billion, above any credit limit).
var MaxHold = fromMicro(maxLuaInt / 4)

// ErrAmountRange reports an amount beyond what the ledger can hold exactly.
var ErrAmountRange = errors.New("admission: amount out of range")

// toMicro converts d to micro-NTD, rounding up (ceil) or down (floor). The
// fast path reads the coefficient directly and does not allocate.
func toMicro(d decimal.Decimal, up bool) (int64, error) {
	if d.NumDigits() > 18 {
		return toMicroSlow(d, up)
	}
	c, s := d.CoefficientInt64(), int(d.Exponent())+microExp
	if s >= 0 {
		if s > 18 {
			if c == 0 {
				return 0, nil
			}
			return 0, ErrAmountRange
		}
		m := exact.Pow10[s]
		if c > math.MaxInt64/m || c < math.MinInt64/m {
			return 0, ErrAmountRange
		}
		return c * m, nil
	}
	if -s > 18 { // |d| < 10^-12 NTD: 0, or ±1 micro by the rounding
		return roundTiny(c, up), nil
	}
	div := exact.Pow10[-s]
	q, r := c/div, c%div
	if r > 0 && up {
		q++
	} else if r < 0 && !up {
		q--
	}
	return q, nil
}

func roundTiny(c int64, up bool) int64 {
	switch {
	case c > 0 && up:
		return 1
	case c < 0 && !up:
		return -1
	}
	return 0
}

func toMicroSlow(d decimal.Decimal, up bool) (int64, error) {
	s := d.Shift(microExp)
	if up {
		s = s.Ceil()
	} else {
		s = s.Floor()
	}
	b := s.BigInt()
	if !b.IsInt64() {
		return 0, ErrAmountRange
	}
	return b.Int64(), nil
}

func fromMicro(m int64) decimal.Decimal { return decimal.New(m, -microExp) }
