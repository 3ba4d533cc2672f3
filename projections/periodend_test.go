package projections

import (
	"testing"
	"time"
)

// A spending limit resets at the next Taipei midnight, Monday or first of
// the month, whatever the instant's UTC date: across month and year ends
// and the UTC day that straddles two Taipei days.
func TestPeriodEndIsTheNextTaipeiReset(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct{ period, now, want string }{
		{PeriodDaily, "2026-12-06T15:59:59Z", "2026-12-06T16:00:00Z"},   // 23:59:59 Taipei
		{PeriodDaily, "2026-12-06T16:00:00Z", "2026-12-07T16:00:00Z"},   // midnight Taipei starts the next day
		{PeriodDaily, "2026-12-31T16:30:00Z", "2027-01-01T16:00:00Z"},   // 1 January, Taipei
		{PeriodWeekly, "2026-12-06T15:59:00Z", "2026-12-06T16:00:00Z"},  // Sunday 23:59 Taipei
		{PeriodWeekly, "2026-12-06T16:00:00Z", "2026-12-13T16:00:00Z"},  // Monday 00:00 Taipei
		{PeriodMonthly, "2026-11-30T16:30:00Z", "2026-12-31T16:00:00Z"}, // 1 December, Taipei
		{PeriodMonthly, "2026-01-31T15:59:00Z", "2026-01-31T16:00:00Z"}, // 31 January 23:59 Taipei
		{PeriodMonthly, "2028-02-15T00:00:00Z", "2028-02-29T16:00:00Z"}, // a leap February
		{"", "2026-12-20T00:00:00Z", "2026-12-31T16:00:00Z"},            // no period: monthly
	} {
		got := PeriodEnd(c.period, at(c.now))
		if !got.Equal(at(c.want)) {
			t.Errorf("%s limit at %s: resets at %s, want %s", c.period, c.now, got.UTC().Format(time.RFC3339), c.want)
		}
		if start := PeriodStart(c.period, at(c.now)); !got.After(at(c.now)) || !start.Before(got) {
			t.Errorf("%s at %s: period %s to %s", c.period, c.now, start, got)
		}
	}
}
