package twrules

import (
	"slices"
	"time"
)

// A deadline whose last day is a Saturday, a Sunday, a national holiday or
// another rest day ends on the next working day (行政程序法 §48 IV), and a
// Saturday made a working day (補行上班) is one. The rest days are those of
// the government offices' calendar (政府行政機關辦公日曆表) that the
// Executive Yuan approves each year, published by 行政院人事行政總處
// (DGPA, https://www.dgpa.gov.tw/).
//
// The tables below hold, for each year whose official calendar was read,
// the rest days that fall on a weekday (weekends are rest days anyway) and
// the Saturdays made working days. A year not in them counts weekends only:
// add its calendar here once the DGPA publishes it.
//
//   - 2025 (114年): the calendar as revised by 院授人培字第11430248311號
//     (2025-06-13), which added 9/28 (observed 9/29), 10/25 (observed
//     10/24) and 12/25: 118 rest days, one make-up Saturday (2/8).
//   - 2026 (115年): 院授人培字第11430248312號 (2025-06-13): 120 rest days,
//     no make-up Saturday.
//
// Both as relayed in full by government schools' notices of those letters
// (e.g. cfjh.chc.edu.tw/posts/1027, hnps.chc.edu.tw/posts/987); each
// year's count of rest days checks the lists (TestOfficialCalendars).
var weekdayRestDays = map[int][]string{
	2025: {
		"01-01",                                     // 開國紀念日
		"01-27", "01-28", "01-29", "01-30", "01-31", // 除夕前一日 (調整放假), 除夕, 春節 and observed days
		"02-28",          // 和平紀念日
		"04-03", "04-04", // 兒童節 (observed), 民族掃墓節
		"05-30", // 端午節 (5/31 observed)
		"09-29", // 孔子誕辰紀念日 (9/28 observed)
		"10-06", // 中秋節
		"10-10", // 國慶日
		"10-24", // 臺灣光復暨金門古寧頭大捷紀念日 (10/25 observed)
		"12-25", // 行憲紀念日
	},
	2026: {
		"01-01",                                     // 開國紀念日
		"02-16", "02-17", "02-18", "02-19", "02-20", // 除夕, 春節 and observed days
		"02-27",          // 和平紀念日 (2/28 observed)
		"04-03", "04-06", // 兒童節 (4/4 observed), 民族掃墓節 (4/5 observed)
		"05-01", // 勞動節
		"06-19", // 端午節
		"09-25", // 中秋節
		"09-28", // 孔子誕辰紀念日
		"10-09", // 國慶日 (10/10 observed)
		"10-26", // 臺灣光復暨金門古寧頭大捷紀念日 (10/25 observed)
		"12-25", // 行憲紀念日
	},
}

// makeUpWorkdays are the Saturdays the calendars make working days (補行上班).
var makeUpWorkdays = map[int][]string{
	2025: {"02-08"},
}

// CalendarKnown reports whether year's official calendar is in the tables;
// for another year only weekends are rest days.
func CalendarKnown(year int) bool {
	_, ok := weekdayRestDays[year]
	return ok
}

// WorkingDay reports whether the Taipei day of t is a working day of the
// government offices: not a weekend unless made a working day, and not a
// rest day of the year's calendar.
func WorkingDay(t time.Time) bool {
	d := t.In(Taipei)
	md := d.Format("01-02")
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		return slices.Contains(makeUpWorkdays[d.Year()], md)
	}
	return !slices.Contains(weekdayRestDays[d.Year()], md)
}

// DeadlineDay is the day a deadline falling on day (a Taipei day) ends:
// that day, or the next working day after it (行政程序法 §48 IV).
func DeadlineDay(day time.Time) time.Time {
	d := day.In(Taipei)
	d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, Taipei)
	for !WorkingDay(d) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}
