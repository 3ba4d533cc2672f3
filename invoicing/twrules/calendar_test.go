package twrules

import (
	"fmt"
	"testing"
	"time"
)

// A period's filing day is the 15th of the month after it, moved to the
// next working day when the 15th is a weekend or a rest day (行政程序法
// §48 IV): Sunday 15 November 2026 moves to Monday the 16th, so the
// September–October 2026 invoices may be voided through the 16th.
func TestFilingDeadlineMovesPastWeekendsAndRestDays(t *testing.T) {
	for _, c := range []struct {
		period  string
		lastDay string // the filing day, the last day of the void window
	}{
		{"2026-11", "2027-01-15"}, // Friday
		{"2026-09", "2026-11-16"}, // Sunday 15 Nov → Monday
		{"2026-01", "2026-03-16"}, // Sunday 15 Mar → Monday
		{"2025-09", "2025-11-17"}, // Saturday 15 Nov → Monday
		{"2025-01", "2025-03-17"}, // Saturday 15 Mar → Monday
		{"2026-03", "2026-05-15"}, // Friday
		{"2027-03", "2027-05-17"}, // Saturday 15 May 2027 → Monday (weekends only in 2027)
	} {
		p, err := ParsePeriod(c.period)
		if err != nil {
			t.Fatal(err)
		}
		d := p.FilingDeadline()
		if got := d.In(Taipei).AddDate(0, 0, -1).Format(time.DateOnly); got != c.lastDay || d.In(Taipei).Hour() != 0 {
			t.Errorf("period %s: filing deadline %v, want the end of %s", c.period, d.In(Taipei), c.lastDay)
		}
	}
}

// Rest days come from the year's official calendar: the Lunar New Year
// days of 2026 are not working days, so a deadline on Saturday 14
// February 2026 runs to Monday 23 February; 2025's make-up Saturday
// (8 February) is a working day.
func TestDeadlineDaySkipsTheCalendarsRestDays(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.ParseInLocation(time.DateOnly, s, Taipei)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, c := range []struct{ on, ends string }{
		{"2026-02-14", "2026-02-23"}, // 春節: 2/16–2/20 rest days
		{"2026-10-09", "2026-10-12"}, // 國慶日 observed on Friday
		{"2025-12-25", "2025-12-26"}, // 行憲紀念日
		{"2025-02-08", "2025-02-08"}, // 補行上班
		{"2025-02-09", "2025-02-10"}, // the Sunday after it
		{"2026-07-15", "2026-07-15"}, // a plain Wednesday
	} {
		if got := DeadlineDay(day(c.on)).Format(time.DateOnly); got != c.ends {
			t.Errorf("a deadline on %s ends on %s, want %s", c.on, got, c.ends)
		}
	}
	// The day is Taipei's, whatever the instant's zone.
	if got := DeadlineDay(time.Date(2026, 2, 13, 16, 30, 0, 0, time.UTC)).Format(time.DateOnly); got != "2026-02-23" {
		t.Errorf("a deadline at 2026-02-14 00:30 Taipei ends on %s", got)
	}
	if !CalendarKnown(2026) || CalendarKnown(2027) {
		t.Error("the known calendars are 2025 and 2026")
	}
}

// Each table agrees with its calendar's count of rest days (weekends less
// make-up Saturdays, plus weekday rest days): 118 in 2025 as revised, 120
// in 2026. A weekday rest day listed on a weekend, or a make-up day that is
// not a Saturday, would be a typing error.
func TestOfficialCalendars(t *testing.T) {
	want := map[int]int{2025: 118, 2026: 120}
	if len(want) != len(weekdayRestDays) {
		t.Fatalf("calendars %d, counts %d", len(weekdayRestDays), len(want))
	}
	for year, total := range want {
		rest := 0
		for d := time.Date(year, 1, 1, 0, 0, 0, 0, Taipei); d.Year() == year; d = d.AddDate(0, 0, 1) {
			if !WorkingDay(d) {
				rest++
			}
		}
		if rest != total {
			t.Errorf("%d: %d rest days, the calendar has %d", year, rest, total)
		}
		for _, md := range weekdayRestDays[year] {
			d, err := time.ParseInLocation(time.DateOnly, fmt.Sprintf("%d-%s", year, md), Taipei)
			if err != nil || d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
				t.Errorf("%d-%s listed as a weekday rest day: %v %v", year, md, d.Weekday(), err)
			}
		}
		for _, md := range makeUpWorkdays[year] {
			if d, _ := time.ParseInLocation(time.DateOnly, fmt.Sprintf("%d-%s", year, md), Taipei); d.Weekday() != time.Saturday {
				t.Errorf("%d-%s listed as a make-up Saturday: %v", year, md, d.Weekday())
			}
		}
	}
}
