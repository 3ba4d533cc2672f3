package projections

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// sameDecimal reports whether two decimals have the same coefficient and
// exponent, not only the same value.
func sameDecimal(a, b decimal.Decimal) bool {
	return a.Exponent() == b.Exponent() && a.Coefficient().Cmp(b.Coefficient()) == 0
}

// TestAmountMatchesDecimal folds random sums and differences, small, huge and
// at the int64 edge, both as Amounts and as decimals: every step must hold
// the same coefficient and exponent.
func TestAmountMatchesDecimal(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	edge := []decimal.Decimal{
		decimal.Zero, decimal.New(0, -7), decimal.New(math.MaxInt64, 0), decimal.New(math.MinInt64, 0),
		decimal.New(math.MaxInt64, -3), decimal.New(1, 30), decimal.RequireFromString("123456789012345678901234567890.5"),
		decimal.New(999_999_999_999_999_999, -2), decimal.New(-1, -40),
	}
	next := func() decimal.Decimal {
		switch rnd.IntN(4) {
		case 0:
			return edge[rnd.IntN(len(edge))]
		case 1:
			return decimal.New(rnd.Int64()-math.MaxInt64/2, int32(rnd.IntN(25)-12))
		}
		return decimal.New(rnd.Int64N(20_000_000)-10_000_000, int32(-rnd.IntN(8)))
	}
	for run := range 200 {
		var a Amount
		d := decimal.Zero
		for step := range 50 {
			x := next()
			if rnd.IntN(2) == 0 {
				a, d = a.Add(x), d.Add(x)
			} else {
				a, d = a.Sub(x), d.Sub(x)
			}
			if got := a.Decimal(); !sameDecimal(got, d) {
				t.Fatalf("run %d step %d: amount %s (exp %d), decimal %s (exp %d)", run, step, got, got.Exponent(), d, d.Exponent())
			}
			if a.IsZero() != d.IsZero() {
				t.Fatalf("run %d step %d: IsZero %v for %s", run, step, a.IsZero(), d)
			}
			if got := AmountOf(d).Decimal(); !sameDecimal(got, d) {
				t.Fatalf("AmountOf(%s) = %s", d, got)
			}
		}
	}
}
