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

// Prompt tokens written to the provider's prompt cache bill at the
// cache-write price (Anthropic charges 1.25 × its input price for them):
// Claude Sonnet's NT$97.5 input, NT$9.75 cached and NT$121.875 written
// per million, NT$487.5 output. A list without a cache-write price (every
// list before it existed) bills them at the input price, as it always did.
func TestCacheWriteWorkedExample(t *testing.T) {
	p := ModelPrice{Input: decimal.RequireFromString("97.5"), CachedInput: decimal.RequireFromString("9.75"),
		CacheWrite: ptr(decimal.RequireFromString("121.875")), Output: decimal.RequireFromString("487.5")}
	u := Usage{Input: 10_000, Cached: 2_000, CacheWrite: 6_000, Output: 500}
	// 2,000×97.5 + 2,000×9.75 + 6,000×121.875 + 500×487.5
	// = 195,000 + 19,500 + 731,250 + 243,750 = 1,189,500 → 1.1895
	if got := p.Cost(u); got.String() != "1.1895" {
		t.Fatalf("cost %s, want 1.1895", got)
	}
	// The hold covers every input token written to the cache:
	// 10,000×121.875 + 4,000×487.5 = 1,218,750 + 1,950,000 → 3.16875.
	if got := p.MaxCost(10_000, 4_000); got.String() != "3.16875" {
		t.Fatalf("max cost %s, want 3.16875", got)
	}
	// Without a cache-write price: 8,000×97.5 + 2,000×9.75 + 500×487.5 = 1.04325.
	p.CacheWrite = nil
	if got := p.Cost(u); got.String() != "1.04325" {
		t.Fatalf("cost without a cache-write price %s, want 1.04325", got)
	}
	// More cached and written than the input is capped at the input:
	// 60×9.75 + 40×121.875 = 585 + 4,875 → 0.00546.
	p.CacheWrite = ptr(decimal.RequireFromString("121.875"))
	if got := p.Cost(Usage{Input: 100, Cached: 60, CacheWrite: 90}); got.String() != "0.00546" {
		t.Fatalf("cost %s, want 0.00546", got)
	}
}

func ptr[T any](v T) *T { return &v }

// Anthropic charges 2 × its input price for prompt tokens written to its
// cache for an hour (cache_control ttl "1h"), 1.25 × for five minutes.
// The one-hour writes are part of the cache writes and bill at their own
// price: Claude Sonnet's NT$97.5 input, NT$9.75 cached, NT$121.875 for a
// five-minute write and NT$195 for a one-hour write per million, NT$487.5
// output. A list without a one-hour price (every list before it existed)
// bills them at the cache-write price, as it always did.
func TestCacheWrite1hWorkedExample(t *testing.T) {
	p := ModelPrice{Input: decimal.RequireFromString("97.5"), CachedInput: decimal.RequireFromString("9.75"),
		CacheWrite: ptr(decimal.RequireFromString("121.875")), CacheWrite1h: ptr(decimal.RequireFromString("195")),
		Output: decimal.RequireFromString("487.5")}
	u := Usage{Input: 10_000, Cached: 2_000, CacheWrite: 6_000, CacheWrite1h: 4_000, Output: 500}
	// 2,000×97.5 + 2,000×9.75 + 2,000×121.875 + 4,000×195 + 500×487.5
	// = 195,000 + 19,500 + 243,750 + 780,000 + 243,750 = 1,482,000 → 1.482
	if got := p.Cost(u); got.String() != "1.482" {
		t.Fatalf("cost %s, want 1.482", got)
	}
	// The hold covers every input token written to the cache for an hour:
	// 10,000×195 + 4,000×487.5 = 1,950,000 + 1,950,000 → 3.9.
	if got := p.MaxCost(10_000, 4_000); got.String() != "3.9" {
		t.Fatalf("max cost %s, want 3.9", got)
	}
	// Without a one-hour price: 6,000 written at 121.875 → 1.1895, the
	// cost such a usage had before the price existed.
	p.CacheWrite1h = nil
	if got := p.Cost(u); got.String() != "1.1895" {
		t.Fatalf("cost without a one-hour price %s, want 1.1895", got)
	}
	if got := p.MaxCost(10_000, 4_000); got.String() != "3.16875" {
		t.Fatalf("max cost without a one-hour price %s, want 3.16875", got)
	}
	// Without any cache-write price, one-hour writes bill at input as well:
	// 8,000×97.5 + 2,000×9.75 + 500×487.5 = 1.04325.
	p.CacheWrite = nil
	if got := p.Cost(u); got.String() != "1.04325" {
		t.Fatalf("cost without cache-write prices %s, want 1.04325", got)
	}
	// More written for an hour than written at all is capped at the
	// writes, themselves capped at the uncached input:
	// 60×9.75 + 40×195 = 585 + 7,800 → 0.008385.
	p.CacheWrite, p.CacheWrite1h = ptr(decimal.RequireFromString("121.875")), ptr(decimal.RequireFromString("195"))
	if got := p.Cost(Usage{Input: 100, Cached: 60, CacheWrite: 90, CacheWrite1h: 200}); got.String() != "0.008385" {
		t.Fatalf("cost %s, want 0.008385", got)
	}
}

// A derived price keeps its exact value within PricePlaces and is
// rounded half up past them.
func TestDerivePriceRoundsPastPricePlaces(t *testing.T) {
	d := func(s string) decimal.Decimal { return decimal.RequireFromString(s) }
	if got := DerivePrice(d("2"), d("32.5"), d("0.05")); got.String() != "68.25" || got.Exponent() < -3 {
		t.Fatalf("2 USD: %s (exponent %d)", got, got.Exponent())
	}
	if got := DerivePrice(d("0.000123"), d("32.1234"), d("0.0525")); got.String() != "0.004158615056" {
		t.Fatalf("0.000123 USD: %s, want 0.004158615056", got)
	}
}
