package projections

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
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

// Plus, Minus, Cmp and ParseAmount agree with decimal.Decimal over random
// coefficients and exponents, both sides of an int64.
func TestAmountArithmeticMatchesDecimal(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		gen := func(label string) decimal.Decimal {
			c := rapid.Int64().Draw(rt, label+" coefficient")
			if rapid.Bool().Draw(rt, label+" small") {
				c %= 1_000_000
			}
			return decimal.New(c, int32(rapid.IntRange(-12, 2).Draw(rt, label+" exponent")))
		}
		x, y := gen("x"), gen("y")
		a, b := AmountOf(x), AmountOf(y)
		if got := a.Plus(b).Decimal(); !got.Equal(x.Add(y)) {
			rt.Fatalf("%s + %s = %s, want %s", x, y, got, x.Add(y))
		}
		if got := a.Minus(b).Decimal(); !got.Equal(x.Sub(y)) {
			rt.Fatalf("%s − %s = %s, want %s", x, y, got, x.Sub(y))
		}
		if got := a.Cmp(b); got != x.Cmp(y) {
			rt.Fatalf("cmp(%s, %s) = %d, want %d", x, y, got, x.Cmp(y))
		}
		if got := a.Sign(); got != x.Sign() {
			rt.Fatalf("sign(%s) = %d", x, got)
		}
		s := x.String()
		p, ok := ParseAmount([]byte(s))
		want, _ := decimal.NewFromString(s)
		if ok && !p.Decimal().Equal(want) {
			rt.Fatalf("ParseAmount(%q) = %s, want %s", s, p.Decimal(), want)
		}
		if !ok && len(strings.TrimLeft(strings.ReplaceAll(s, ".", ""), "-0")) <= 18 && !strings.ContainsAny(s, "eE") {
			rt.Fatalf("ParseAmount(%q) refused a number of at most 18 digits", s)
		}
	})
	for _, bad := range []string{"", "-", ".", "1.2.3", "1e5", "\"1\"", "12a", "1234567890123456789"} {
		if _, ok := ParseAmount([]byte(bad)); ok {
			t.Errorf("ParseAmount(%q) read it", bad)
		}
	}
}
