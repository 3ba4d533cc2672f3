package domain

import (
	"math"

	"github.com/shopspring/decimal"
)

// ModelPrice is a model's NTD price per million tokens.
type ModelPrice struct {
	Input       decimal.Decimal `json:"input"`
	Output      decimal.Decimal `json:"output"`
	CachedInput decimal.Decimal `json:"cached_input"`
	Reasoning   decimal.Decimal `json:"reasoning"` // zero: reasoning tokens bill at Output
}

// Cost is the exact NTD cost of a usage at this price, unrounded.
// Cached tokens are part of Input and bill at CachedInput; reasoning tokens are
// part of Output and bill at Reasoning (or Output when unset).
func (p ModelPrice) Cost(u Usage) decimal.Decimal {
	cached := min(max(u.Cached, 0), max(u.Input, 0))
	reasoning := min(max(u.Reasoning, 0), max(u.Output, 0))
	rp := p.Reasoning
	if rp.IsZero() {
		rp = p.Output
	}
	return perMillion(dot([]decimal.Decimal{p.Input, p.CachedInput, p.Output, rp},
		[]int64{u.Input - cached, cached, u.Output - reasoning, reasoning}))
}

// MaxCost is the most a request can cost: every input token uncached and
// maxOutput tokens at the higher of the output and reasoning prices.
func (p ModelPrice) MaxCost(input, maxOutput int64) decimal.Decimal {
	out := p.Output
	if p.Reasoning.GreaterThan(out) {
		out = p.Reasoning
	}
	return perMillion(dot([]decimal.Decimal{p.Input, out}, []int64{input, maxOutput}))
}

// dot is Σ prices[i] × tokens[i], exactly, at the smallest exponent of the
// prices (and 0), as decimal's own Mul and Add would leave it. Prices are
// short decimals and token counts small, so the sum nearly always fits an
// int64: it is then computed there, with one allocation for the result
// instead of a big.Int for every product and partial sum (the gateway
// prices each request several times). Otherwise decimal computes it.
func dot(prices []decimal.Decimal, tokens []int64) decimal.Decimal {
	exp := int32(0)
	for _, p := range prices {
		exp = min(exp, p.Exponent())
	}
	if sum, ok := dot64(prices, tokens, exp); ok {
		return decimal.New(sum, exp)
	}
	sum := decimal.Zero
	for i, p := range prices {
		sum = sum.Add(p.Mul(decimal.NewFromInt(tokens[i])))
	}
	return sum
}

// dot64 is dot's coefficient at exponent exp, when every step fits an int64.
func dot64(prices []decimal.Decimal, tokens []int64, exp int32) (int64, bool) {
	var sum int64
	for i, p := range prices {
		shift := p.Exponent() - exp
		if p.NumDigits() > 18 || shift > 18 {
			return 0, false
		}
		c, ok := mul64(p.CoefficientInt64(), pow10[shift])
		if ok {
			c, ok = mul64(c, tokens[i])
		}
		if !ok {
			return 0, false
		}
		if sum, ok = add64(sum, c); !ok {
			return 0, false
		}
	}
	return sum, true
}

var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// mul64 is a × b, and false when it overflows.
func mul64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return c, true
}

// add64 is a + b, and false when it overflows.
func add64(a, b int64) (int64, bool) {
	c := a + b
	if (b > 0 && c < a) || (b < 0 && c > a) {
		return 0, false
	}
	return c, true
}

// perMillion divides by one million exactly: a shift of the decimal point,
// where Div would round to 16 places and cost a long division per request.
func perMillion(d decimal.Decimal) decimal.Decimal { return d.Shift(-6) }

// DerivePrice turns an upstream USD price per million into NTD with an
// exchange rate and a margin (0.2 = 20 %).
func DerivePrice(usd, rate, margin decimal.Decimal) decimal.Decimal {
	return usd.Mul(rate).Mul(decimal.NewFromInt(1).Add(margin))
}
