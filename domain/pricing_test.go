package domain

import (
	"math"
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// refDot is dot as decimal computes it, step by step.
func refDot(prices []decimal.Decimal, tokens []int64) decimal.Decimal {
	sum := decimal.Zero
	for i, p := range prices {
		sum = sum.Add(p.Mul(decimal.NewFromInt(tokens[i])))
	}
	return sum
}

// dot's int64 path gives exactly decimal's result, digits and exponent,
// for any prices and token counts: ordinary ones, and ones at the edges of
// int64 (which fall back to decimal).
func TestDotIsDecimalsSum(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 4).Draw(t, "n")
		prices := make([]decimal.Decimal, n)
		tokens := make([]int64, n)
		for i := range n {
			coef := rapid.OneOf(rapid.Int64Range(0, 1_000_000), rapid.Int64Range(math.MinInt64, math.MaxInt64)).Draw(t, "coef")
			prices[i] = decimal.New(coef, int32(rapid.IntRange(-22, 4).Draw(t, "exp")))
			tokens[i] = rapid.OneOf(rapid.Int64Range(0, 10_000_000), rapid.Int64Range(math.MinInt64, math.MaxInt64)).Draw(t, "tokens")
		}
		got, want := dot(prices, tokens), refDot(prices, tokens)
		if !got.Equal(want) || got.Exponent() != want.Exponent() || got.String() != want.String() {
			t.Fatalf("dot %s (exp %d), decimal %s (exp %d)", got, got.Exponent(), want, want.Exponent())
		}
	})
}

// A worked example: 1,200 input tokens of which 200 cached, 300 output of
// which 100 reasoning, at NT$32.5 / 8.125 / 130 / 160 per million.
func TestCostWorkedExample(t *testing.T) {
	p := ModelPrice{Input: decimal.RequireFromString("32.5"), CachedInput: decimal.RequireFromString("8.125"),
		Output: decimal.RequireFromString("130"), Reasoning: decimal.RequireFromString("160")}
	// 1000×32.5 + 200×8.125 + 200×130 + 100×160 = 32,500 + 1,625 + 26,000 + 16,000 = 76,125 → 0.076125
	if got := p.Cost(Usage{Input: 1200, Cached: 200, Output: 300, Reasoning: 100}); got.String() != "0.076125" {
		t.Fatalf("cost %s, want 0.076125", got)
	}
	// At most: 1,200 input and 4,000 output tokens at the higher output price.
	if got := p.MaxCost(1200, 4000); got.String() != "0.679" {
		t.Fatalf("max cost %s, want 0.679", got)
	}
}
