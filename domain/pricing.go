package domain

import (
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/internal/exact"
)

// ModelPrice is a model's NTD price per million tokens.
type ModelPrice struct {
	Input       decimal.Decimal `json:"input"`
	Output      decimal.Decimal `json:"output"`
	CachedInput decimal.Decimal `json:"cached_input"`
	Reasoning   decimal.Decimal `json:"reasoning"` // zero: reasoning tokens bill at Output
	// CacheWrite is the price of prompt tokens written to the provider's
	// prompt cache (Anthropic charges more for them than for input); nil:
	// they bill at Input, as in every list before the price existed, whose
	// events are left as they were.
	CacheWrite *decimal.Decimal `json:"cache_write,omitempty"`
	// CacheWrite1h is the price of cache writes kept for an hour
	// (Anthropic charges 2 × input for them, 1.25 × for the five-minute
	// ones); nil: they bill at the cache-write price, as before the price
	// existed.
	CacheWrite1h *decimal.Decimal `json:"cache_write_1h,omitempty"`
}

// CacheWritePrice is the price cache writes bill at.
func (p ModelPrice) CacheWritePrice() decimal.Decimal {
	if p.CacheWrite == nil {
		return p.Input
	}
	return *p.CacheWrite
}

// CacheWrite1hPrice is the price one-hour cache writes bill at.
func (p ModelPrice) CacheWrite1hPrice() decimal.Decimal {
	if p.CacheWrite1h == nil {
		return p.CacheWritePrice()
	}
	return *p.CacheWrite1h
}

// Cost is the exact NTD cost of a usage at this price, unrounded. Cached
// and cache-written tokens are part of Input and bill at CachedInput and
// CacheWrite (CacheWrite1h for those written for an hour); reasoning
// tokens are part of Output and bill at Reasoning (or Output when unset).
func (p ModelPrice) Cost(u Usage) decimal.Decimal {
	cached := min(max(u.Cached, 0), max(u.Input, 0))
	written := min(max(u.CacheWrite, 0), max(u.Input, 0)-cached)
	hour := min(max(u.CacheWrite1h, 0), written)
	reasoning := min(max(u.Reasoning, 0), max(u.Output, 0))
	rp := p.Reasoning
	if rp.IsZero() {
		rp = p.Output
	}
	return perMillion(dot([]decimal.Decimal{p.Input, p.CachedInput, p.CacheWritePrice(), p.CacheWrite1hPrice(), p.Output, rp},
		[]int64{u.Input - cached - written, cached, written - hour, hour, u.Output - reasoning, reasoning}))
}

// MaxCost is the most a request can cost: every input token at the highest
// of the input and cache-write prices (any of them may be written to the
// cache, for five minutes or an hour) and maxOutput tokens at the higher
// of the output and reasoning prices.
func (p ModelPrice) MaxCost(input, maxOutput int64) decimal.Decimal {
	in := decimal.Max(p.Input, p.CacheWritePrice(), p.CacheWrite1hPrice())
	out := p.Output
	if p.Reasoning.GreaterThan(out) {
		out = p.Reasoning
	}
	return perMillion(dot([]decimal.Decimal{in, out}, []int64{input, maxOutput}))
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
		c, ok := exact.Coef(p)
		if ok {
			c, ok = exact.ScaleUp(c, int64(p.Exponent())-int64(exp))
		}
		if ok {
			c, ok = exact.Mul(c, tokens[i])
		}
		if ok {
			sum, ok = exact.Add(sum, c)
		}
		if !ok {
			return 0, false
		}
	}
	return sum, true
}

// perMillion divides by one million exactly: a shift of the decimal point,
// where Div would round to 16 places and cost a long division per request.
func perMillion(d decimal.Decimal) decimal.Decimal { return d.Shift(-6) }

// PricePlaces bounds a price's decimal places: every request's cost has
// its price's places and six more, and so do the balances and usage events
// it adds to.
const PricePlaces = 12

// DerivePrice turns an upstream USD price per million into NTD with an
// exchange rate and a margin (0.2 = 20 %), rounded half up to PricePlaces:
// the exact product has the places of all three, which a bank's
// four-decimal rate and margin take past what a price list accepts.
func DerivePrice(usd, rate, margin decimal.Decimal) decimal.Decimal {
	d := usd.Mul(rate).Mul(decimal.NewFromInt(1).Add(margin))
	if d.Exponent() < -PricePlaces {
		// Only then: Round sets the exponent to -PricePlaces, and a price at
		// that exponent no longer prices requests in an int64 (dot).
		d = d.Round(PricePlaces)
	}
	return d
}
