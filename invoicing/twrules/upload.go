package twrules

import "time"

// Upload windows (rules in force since 2025-01-01, 北區國稅局 as reported
// by UDN 2025-11-14): a document is uploaded to the platform within 7 days
// (B2B) or 2 days (B2C) counted from the day after it was issued; voids,
// allowances and other changes follow the same windows.
const (
	UploadDaysB2B = 7
	UploadDaysB2C = 2
)

// UploadDeadline is the instant from which a document issued at `at` is
// late: midnight (Asia/Taipei) after the last day of its window. The days
// are calendar days counted from the Taipei day after issue, so a B2C
// invoice of 30 November may be uploaded until the end of 2 December.
func UploadDeadline(b2b bool, at time.Time) time.Time {
	days := UploadDaysB2C
	if b2b {
		days = UploadDaysB2B
	}
	t := at.In(Taipei)
	return time.Date(t.Year(), t.Month(), t.Day()+days+1, 0, 0, 0, 0, Taipei)
}

// LastUploadDay is the last Taipei day of the upload window (YYYY-MM-DD).
func LastUploadDay(deadline time.Time) string {
	return deadline.In(Taipei).AddDate(0, 0, -1).Format("2006-01-02")
}

// BlankDays is how many days after a period ends its numbers never used
// may be reported as blank (E0402): within ten days of the next period's
// start.
const BlankDays = 10

// BlankDeadline is the instant p's blank numbers are late: midnight
// (Asia/Taipei) after the tenth day of the next period.
func BlankDeadline(p Period) time.Time { return p.End().AddDate(0, 0, BlankDays) }
