package admission

import (
	"testing"
	"time"
)

// gcraCost is floor(n·60,000,000/limit) µs, zero for nothing or no limit,
// and capped at maxCostUS, where Lua's doubles stay exact.
func TestLimiterGCRACostKnownAnswers(t *testing.T) {
	for _, c := range []struct{ n, limit, want int64 }{
		{1, 10, 6_000_000},
		{3, 7, 25_714_285},
		{1, 60_000_000, 1},
		{1, 60_000_001, 0},
		{0, 10, 0},
		{-1, 10, 0},
		{1, 0, 0}, // no limit: the window never moves
		{1, -1, 0},
		{0, 0, 0},
		{1 << 42, 234_375, maxCostUS},         // exactly the cap
		{1<<42 - 1, 234_375, maxCostUS - 256}, // just under it
		{20_000_000_000, 1, maxCostUS},        // over the cap
		{400_000_000_000, 1, maxCostUS},       // n·period overflows 64 bits by exactly the limit
		{1 << 62, 3, maxCostUS},               // and by more
		{307_445_734_561, 1, maxCostUS},       // the first n whose n·period needs 65 bits
		{307_445_734_560, 1_000_000, 18_446_744_073_600}, // the last that does not, by a large limit
	} {
		if got := gcraCost(c.n, c.limit); got != c.want {
			t.Errorf("gcraCost(%d, %d) = %d, want %d", c.n, c.limit, got, c.want)
		}
	}
}

// A key whose request limit is lifted is never refused on requests, even
// when the clock stepped back and its old limit's window reaches more than
// a minute ahead.
func TestLimiterLiftedRequestLimitAfterTheClockSteppedBack(t *testing.T) {
	ml := NewMemoryLimiter()
	l := Limits{RPM: 1, TPM: 1000}
	if d := admit(t, ml, "k", l, 10, t0); !d.Allowed {
		t.Fatalf("first request refused: %+v", d)
	}
	// The request window is a minute ahead of t0; 30 s earlier it is 90 s
	// ahead, more than a window.
	back := t0.Add(-30 * time.Second)
	if d := admit(t, ml, "k", Limits{TPM: 1000}, 10, back); !d.Allowed || d.Requests.Limit != 0 {
		t.Fatalf("no request limit, clock 30 s back: %+v", d)
	}
	if d := admit(t, ml, "k", l, 10, back); d.Allowed || d.Reason != ReasonRPM {
		t.Fatalf("with the limit again: %+v, want a refusal on requests", d)
	}
}
