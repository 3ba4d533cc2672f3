package projections

import (
	"math"
	"math/big"

	"github.com/shopspring/decimal"
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
	if c, ok := coefInt64(d); ok && a.big == nil {
		if sum, exp, ok := addScaled(a.coef, a.exp, c, d.Exponent()); ok {
			return Amount{coef: sum, exp: exp}
		}
	}
	return AmountOf(a.Decimal().Add(d))
}

// Sub returns a − d, exactly as decimal.Decimal.Sub would.
func (a Amount) Sub(d decimal.Decimal) Amount {
	if c, ok := coefInt64(d); ok && c != math.MinInt64 && a.big == nil {
		if sum, exp, ok := addScaled(a.coef, a.exp, -c, d.Exponent()); ok {
			return Amount{coef: sum, exp: exp}
		}
	}
	return AmountOf(a.Decimal().Sub(d))
}

// coefInt64 is d's coefficient when it surely fits an int64 (no allocation).
func coefInt64(d decimal.Decimal) (int64, bool) {
	if d.NumDigits() > 18 {
		return 0, false
	}
	return d.CoefficientInt64(), true
}

var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// addScaled adds c1·10^e1 and c2·10^e2 at the smaller exponent, as decimal
// does; ok is false when an int64 cannot hold the result.
func addScaled(c1 int64, e1 int32, c2 int64, e2 int32) (sum int64, exp int32, ok bool) {
	exp = min(e1, e2)
	s1, ok1 := scaleUp(c1, int64(e1)-int64(exp))
	s2, ok2 := scaleUp(c2, int64(e2)-int64(exp))
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	sum = s1 + s2
	if (s1 > 0 && s2 > 0 && sum < 0) || (s1 < 0 && s2 < 0 && sum >= 0) {
		return 0, 0, false
	}
	return sum, exp, true
}

// scaleUp returns c·10^k when an int64 holds it.
func scaleUp(c int64, k int64) (int64, bool) {
	switch {
	case c == 0 || k == 0:
		return c, true
	case k >= int64(len(pow10)):
		return 0, false
	}
	p := pow10[k]
	if c > math.MaxInt64/p || c < math.MinInt64/p {
		return 0, false
	}
	return c * p, true
}
