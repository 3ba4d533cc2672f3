package twrules

import (
	"sort"

	"github.com/shopspring/decimal"
)

// AllocateCents splits target (whole NTD) into amounts to the cent, one per
// weight and in proportion to it, that add up to target exactly: each share
// is rounded down to the cent and the cents left over go, one each, to the
// shares with the largest remainders (ties: the earlier share). Weights
// must not be negative; when they sum to zero the first share takes all.
func AllocateCents(weights []decimal.Decimal, target int64) []decimal.Decimal {
	return Allocate(weights, decimal.NewFromInt(target), 2)
}

// Allocate is AllocateCents in units of 10^-places: places 0 shares whole
// dollars (the tax of an allowance's items), 2 shares cents.
func Allocate(weights []decimal.Decimal, target decimal.Decimal, places int32) []decimal.Decimal {
	out := make([]decimal.Decimal, len(weights))
	if len(weights) == 0 {
		return out
	}
	sum := decimal.Zero
	for _, w := range weights {
		sum = sum.Add(w)
	}
	cents := target.Shift(places).Floor()
	if !sum.IsPositive() {
		out[0] = target
		for i := 1; i < len(out); i++ {
			out[i] = decimal.Zero
		}
		return out
	}
	floors := make([]int64, len(weights))
	rems := make([]decimal.Decimal, len(weights))
	left := cents.IntPart()
	for i, w := range weights {
		q := w.Mul(cents).DivRound(sum, 12)
		f := q.Floor()
		floors[i], rems[i] = f.IntPart(), q.Sub(f)
		left -= floors[i]
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rems[order[a]].GreaterThan(rems[order[b]]) })
	for k := 0; left > 0; k = (k + 1) % len(order) {
		floors[order[k]]++
		left--
	}
	for i, f := range floors {
		out[i] = decimal.New(f, -places)
	}
	return out
}
