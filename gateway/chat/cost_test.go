package chat

import (
	"math/big"
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// decimalCost is how a cost was written before appendCost: decimal's Round
// and String.
func decimalCost(d decimal.Decimal) string {
	if d.Exponent() < -CostDigits {
		d = d.Round(CostDigits)
	}
	return d.String()
}

// TestCostJSONIsDecimals: a cost's JSON is exactly what decimal's Round and
// String give, for any coefficient and exponent: halves rounded away from
// zero, trailing zeros dropped, no exponent, no sign on a zero.
func TestCostJSONIsDecimals(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0", "0"}, {"0.000000004", "0"}, {"-0.000000004", "0"}, {"0.000000005", "0.00000001"},
		{"-0.000000005", "-0.00000001"}, {"0.00012", "0.00012"}, {"12.3400", "12.34"},
		{"99999999.999999995", "100000000"}, {"1.5", "1.5"}, {"1500", "1500"},
	} {
		if got := string(appendCost(nil, decimal.RequireFromString(c.in))); got != c.want {
			t.Errorf("%s: %s, want %s", c.in, got, c.want)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		var coef *big.Int
		if rapid.Bool().Draw(t, "big") {
			coef, _ = new(big.Int).SetString(rapid.StringMatching(`-?[1-9][0-9]{18,30}`).Draw(t, "digits"), 10)
		} else {
			coef = big.NewInt(rapid.Int64().Draw(t, "coef") / rapid.SampledFrom([]int64{1, 10, 1e3, 1e6, 1e12}).Draw(t, "scale"))
		}
		d := decimal.NewFromBigInt(coef, int32(rapid.IntRange(-40, 4).Draw(t, "exp")))
		if got, want := string(appendCost(nil, d)), decimalCost(d); got != want {
			t.Fatalf("%s (coefficient %s, exponent %d): %s, want %s", d, coef, d.Exponent(), got, want)
		}
	})
}

func BenchmarkCostJSON(b *testing.B) {
	c := NewCost(decimal.RequireFromString("0.000123456789012"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCostJSONThroughDecimal(b *testing.B) {
	d := decimal.RequireFromString("0.000123456789012")
	b.ReportAllocs()
	for b.Loop() {
		_ = []byte(decimalCost(d))
	}
}
