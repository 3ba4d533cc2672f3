package domain

import "github.com/shopspring/decimal"

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
	sum := p.Input.Mul(decimal.NewFromInt(u.Input - cached)).
		Add(p.CachedInput.Mul(decimal.NewFromInt(cached))).
		Add(p.Output.Mul(decimal.NewFromInt(u.Output - reasoning))).
		Add(rp.Mul(decimal.NewFromInt(reasoning)))
	return perMillion(sum)
}

// MaxCost is the most a request can cost: every input token uncached and
// maxOutput tokens at the higher of the output and reasoning prices.
func (p ModelPrice) MaxCost(input, maxOutput int64) decimal.Decimal {
	out := p.Output
	if p.Reasoning.GreaterThan(out) {
		out = p.Reasoning
	}
	return perMillion(p.Input.Mul(decimal.NewFromInt(input)).Add(out.Mul(decimal.NewFromInt(maxOutput))))
}

// perMillion divides by one million exactly: a shift of the decimal point,
// where Div would round to 16 places and cost a long division per request.
func perMillion(d decimal.Decimal) decimal.Decimal { return d.Shift(-6) }

// DerivePrice turns an upstream USD price per million into NTD with an
// exchange rate and a margin (0.2 = 20 %).
func DerivePrice(usd, rate, margin decimal.Decimal) decimal.Decimal {
	return usd.Mul(rate).Mul(decimal.NewFromInt(1).Add(margin))
}
