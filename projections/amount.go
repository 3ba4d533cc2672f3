package projections

import (
	"math"
	"math/big"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/internal/exact"
)

// Amount is an exact decimal kept compactly for read models that hold
// hundreds of thousands of them: a decimal.Decimal keeps its coefficient in
// a separately allocated big.Int (about 56 bytes a value in all), an Amount
// keeps it inline when it fits an int64. Its coefficient and exponent are
// exactly those decimal.Decimal's own arithmetic gives, so Decimal returns
// the very value a decimal.Decimal sum would hold. The zero Amount is zero.
type Amount struct {
	coef int64
	exp  int32
	big  *big.Int // the coefficient when it does not fit an int64; never modified
}

// AmountOf converts a decimal exactly.
func AmountOf(d decimal.Decimal) Amount {
	if d.NumDigits() <= 18 { // fits an int64: no copy of the coefficient needed
		return Amount{coef: d.CoefficientInt64(), exp: d.Exponent()}
	}
	c := d.Coefficient() // a copy, so the Amount may keep it
	if c.IsInt64() {
		return Amount{coef: c.Int64(), exp: d.Exponent()}
	}
	return Amount{exp: d.Exponent(), big: c}
}

// Decimal returns the amount as a decimal.
func (a Amount) Decimal() decimal.Decimal {
	switch {
	case a.big != nil:
		return decimal.NewFromBigInt(a.big, a.exp)
	case a.coef == 0 && a.exp == 0:
		return decimal.Zero
	}
	return decimal.New(a.coef, a.exp)
}

// IsZero reports whether the amount is zero.
func (a Amount) IsZero() bool { return a.big == nil && a.coef == 0 }

// Add returns a + d, exactly as decimal.Decimal.Add would.
func (a Amount) Add(d decimal.Decimal) Amount {
	if c, ok := exact.Coef(d); ok && a.big == nil {
		if sum, exp, ok := exact.AddScaled(a.coef, a.exp, c, d.Exponent()); ok {
			return Amount{coef: sum, exp: exp}
		}
	}
	return AmountOf(a.Decimal().Add(d))
}

// Sub returns a − d, exactly as decimal.Decimal.Sub would.
func (a Amount) Sub(d decimal.Decimal) Amount {
	if c, ok := exact.Coef(d); ok && c != math.MinInt64 && a.big == nil {
		if sum, exp, ok := exact.AddScaled(a.coef, a.exp, -c, d.Exponent()); ok {
			return Amount{coef: sum, exp: exp}
		}
	}
	return AmountOf(a.Decimal().Sub(d))
}

// Plus returns a + b, exactly as decimal.Decimal.Add would.
func (a Amount) Plus(b Amount) Amount {
	if a.big == nil && b.big == nil {
		if sum, exp, ok := exact.AddScaled(a.coef, a.exp, b.coef, b.exp); ok {
			return Amount{coef: sum, exp: exp}
		}
	}
	return AmountOf(a.Decimal().Add(b.Decimal()))
}

// Minus returns a − b, exactly as decimal.Decimal.Sub would.
func (a Amount) Minus(b Amount) Amount {
	if a.big == nil && b.big == nil && b.coef != math.MinInt64 {
		if sum, exp, ok := exact.AddScaled(a.coef, a.exp, -b.coef, b.exp); ok {
			return Amount{coef: sum, exp: exp}
		}
	}
	return AmountOf(a.Decimal().Sub(b.Decimal()))
}

// Sign is -1, 0 or +1 as the amount is negative, zero or positive.
func (a Amount) Sign() int {
	switch {
	case a.big != nil:
		return a.big.Sign()
	case a.coef < 0:
		return -1
	case a.coef > 0:
		return 1
	}
	return 0
}

// Cmp compares a and b: -1, 0 or +1 as a is less than, equal to or more
// than b.
func (a Amount) Cmp(b Amount) int { return a.Minus(b).Sign() }

// ParseAmount reads a decimal number as JSON and decimal.Decimal write it
// ("12.5", "-0.0003", "7"), without allocating while its digits fit an
// int64; ok is false for anything else (an exponent, more digits), which
// decimal.NewFromString then reads.
func ParseAmount(s []byte) (a Amount, ok bool) {
	i, neg := 0, false
	if len(s) > 0 && s[0] == '-' {
		i, neg = 1, true
	}
	var coef int64
	var exp int32
	digits, dot := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if digits++; digits > 18 {
				return Amount{}, false
			}
			coef = coef*10 + int64(c-'0')
			if dot {
				exp--
			}
		case c == '.' && !dot:
			dot = true
		default:
			return Amount{}, false
		}
	}
	if digits == 0 {
		return Amount{}, false
	}
	if neg {
		coef = -coef
	}
	if coef == 0 {
		exp = 0
	}
	return Amount{coef: coef, exp: exp}, true
}
