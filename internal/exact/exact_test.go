package exact

import (
	"math"
	"math/big"
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// Mul, Add and ScaleUp give the true result exactly when it fits an int64,
// and report false exactly when it does not.
func TestOverflowIsReportedNeverWrapped(t *testing.T) {
	fits := func(b *big.Int) bool { return b.IsInt64() }
	rapid.Check(t, func(t *rapid.T) {
		edge := rapid.SampledFrom([]int64{0, 1, -1, 10, math.MaxInt64, math.MinInt64, math.MaxInt64 / 10, math.MinInt64 / 10})
		any := rapid.Int64()
		a := rapid.OneOf(edge, any).Draw(t, "a")
		b := rapid.OneOf(edge, any).Draw(t, "b")
		k := rapid.Int64Range(0, 25).Draw(t, "k")

		want := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
		if got, ok := Mul(a, b); ok != fits(want) || ok && got != want.Int64() {
			t.Fatalf("Mul(%d, %d) = %d, %v; want %s", a, b, got, ok, want)
		}
		want = new(big.Int).Add(big.NewInt(a), big.NewInt(b))
		if got, ok := Add(a, b); ok != fits(want) || ok && got != want.Int64() {
			t.Fatalf("Add(%d, %d) = %d, %v; want %s", a, b, got, ok, want)
		}
		want = new(big.Int).Mul(big.NewInt(a), new(big.Int).Exp(big.NewInt(10), big.NewInt(k), nil))
		if got, ok := ScaleUp(a, k); ok != fits(want) || ok && got != want.Int64() {
			t.Fatalf("ScaleUp(%d, %d) = %d, %v; want %s", a, k, got, ok, want)
		}
	})
}

func TestCoef(t *testing.T) {
	if c, ok := Coef(decimal.RequireFromString("-12.345")); !ok || c != -12345 {
		t.Fatalf("Coef = %d, %v", c, ok)
	}
	if _, ok := Coef(decimal.RequireFromString("12345678901234567890")); ok {
		t.Fatal("a 20-digit coefficient reported as fitting")
	}
}
