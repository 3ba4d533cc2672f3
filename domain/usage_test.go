package domain

import (
	"math"
	"testing"
)

func TestUsageImpossible(t *testing.T) {
	for _, c := range []struct {
		u    Usage
		want string
	}{
		{Usage{Input: 100, Output: 50, Cached: 100, Reasoning: 50, CacheWrite: 0}, ""},
		{Usage{Input: 100, Output: 50, Cached: 40, CacheWrite: 60, CacheWrite1h: 60}, ""},
		{Usage{Input: 1000, Output: 100}, ""}, // both exactly at their bound
		{Usage{Input: -1, Output: 5}, UsageNegative},
		{Usage{Input: 5, Output: 5, Reasoning: -1}, UsageNegative},
		{Usage{Input: 5, Output: 5, CacheWrite1h: math.MinInt64}, UsageNegative},
		{Usage{Input: 100, Output: 5, Cached: 101}, UsagePartsTooLarge},
		{Usage{Input: 100, Output: 5, Cached: 50, CacheWrite: 51}, UsagePartsTooLarge},
		{Usage{Input: 100, Output: 5, CacheWrite: 10, CacheWrite1h: 11}, UsagePartsTooLarge},
		{Usage{Input: 100, Output: 5, Reasoning: 6}, UsagePartsTooLarge},
		{Usage{Input: 1001, Output: 5}, UsageInputTooLarge},
		{Usage{Input: 5, Output: 101}, UsageOutputTooLarge},
		{Usage{Input: 5, Output: math.MaxInt64}, UsageOutputTooLarge},
		{Usage{Refused: UsageUnreadable}, UsageUnreadable}, // refused as it was read
	} {
		if got := c.u.Impossible(1000, 100); got != c.want {
			t.Errorf("%+v: %q, want %q", c.u, got, c.want)
		}
	}
}
