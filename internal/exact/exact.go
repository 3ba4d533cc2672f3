// Package exact does the int64 arithmetic behind exact decimals: a
// shopspring decimal's coefficient when it fits an int64, and sums and
// products that report overflow rather than wrap. Callers use it to compute
// without allocating a big.Int per step, and fall back to decimal when a
// step reports false.
package exact

import (
	"math"

	"github.com/shopspring/decimal"
)

// Pow10[k] is 10^k, for every k an int64 holds.
var Pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// Coef is d's coefficient when it surely fits an int64 (no allocation).
func Coef(d decimal.Decimal) (int64, bool) {
	if d.NumDigits() > 18 {
		return 0, false
	}
	return d.CoefficientInt64(), true
}

// ScaleUp returns c·10^k (k ≥ 0) when an int64 holds it.
func ScaleUp(c int64, k int64) (int64, bool) {
	switch {
	case c == 0 || k == 0:
		return c, true
	case k >= int64(len(Pow10)):
		return 0, false
	}
	p := Pow10[k]
	if c > math.MaxInt64/p || c < math.MinInt64/p {
		return 0, false
	}
	return c * p, true
}

// Mul returns a·b when an int64 holds it.
func Mul(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return c, true
}

// Add returns a + b when an int64 holds it.
func Add(a, b int64) (int64, bool) {
	c := a + b
	if (b > 0 && c < a) || (b < 0 && c > a) {
		return 0, false
	}
	return c, true
}

// AddScaled adds c1·10^e1 and c2·10^e2 at the smaller exponent, as decimal
// does; ok is false when an int64 cannot hold the result.
func AddScaled(c1 int64, e1 int32, c2 int64, e2 int32) (sum int64, exp int32, ok bool) {
	exp = min(e1, e2)
	s1, ok1 := ScaleUp(c1, int64(e1)-int64(exp))
	s2, ok2 := ScaleUp(c2, int64(e2)-int64(exp))
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	sum, ok = Add(s1, s2)
	return sum, exp, ok
}
