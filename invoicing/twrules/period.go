package twrules

import (
	"fmt"
	"time"

	"github.com/routefree/routefree/domain"
)

// Period is a two-month invoice period (期別): Jan–Feb, Mar–Apr, … Nov–Dec.
// Number ranges are allocated per period, so (period, number) is the unique
// key of an invoice.
type Period struct {
	Year       int        // western year
	StartMonth time.Month // odd: January, March, …, November
}

// PeriodOf is the period of instant t, taken in Taipei: 2026-11-30T17:30Z is
// already 1 December in Taipei and so falls in 2026 11-12.
func PeriodOf(t time.Time) Period {
	tt := t.In(Taipei)
	m := tt.Month()
	if m%2 == 0 {
		m--
	}
	return Period{Year: tt.Year(), StartMonth: m}
}

// ParsePeriod reads the form "2026-11" used by domain.InvoiceIssued.Period.
func ParsePeriod(s string) (Period, error) {
	var y, m int
	if len(s) != 7 || s[4] != '-' {
		return Period{}, fmt.Errorf("twrules: period %s: want YYYY-MM", domain.Quote(s))
	}
	if _, err := fmt.Sscanf(s, "%4d-%2d", &y, &m); err != nil {
		return Period{}, fmt.Errorf("twrules: period %q: %v", s, err)
	}
	// The period code carries the ROC year in three digits: years 1 to 999.
	if y <= rocOffset || y > rocOffset+999 {
		return Period{}, fmt.Errorf("twrules: period %q: the year must be from %d to %d (ROC years 1 to 999)", s, rocOffset+1, rocOffset+999)
	}
	if m < 1 || m > 12 || m%2 == 0 {
		return Period{}, fmt.Errorf("twrules: period %q: month must be odd (01, 03, …, 11)", s)
	}
	return Period{Year: y, StartMonth: time.Month(m)}, nil
}

// String is "2026-11", the form stored in events and stream names.
func (p Period) String() string { return fmt.Sprintf("%04d-%02d", p.Year, int(p.StartMonth)) }

// Label is the printed heading "115年11-12月".
func (p Period) Label() string {
	return fmt.Sprintf("%d年%02d-%02d月", p.Year-rocOffset, int(p.StartMonth), int(p.StartMonth)+1)
}

// Code is the 5-char barcode period: ROC year + even end month, "11512".
func (p Period) Code() string {
	return fmt.Sprintf("%03d%02d", p.Year-rocOffset, int(p.StartMonth)+1)
}

// Start is the first instant of the period in Taipei.
func (p Period) Start() time.Time { return time.Date(p.Year, p.StartMonth, 1, 0, 0, 0, 0, Taipei) }

// End is the first instant after the period (exclusive) in Taipei.
func (p Period) End() time.Time { return p.Start().AddDate(0, 2, 0) }

// Next is the following period.
func (p Period) Next() Period { return PeriodOf(p.End()) }

// Prev is the period before.
func (p Period) Prev() Period { return PeriodOf(p.Start().AddDate(0, -2, 0)) }

// Contains reports whether t falls in the period.
func (p Period) Contains(t time.Time) bool { return PeriodOf(t) == p }

// FilingDeadline is the end of the period's filing day (the instant after
// it, Taipei): the 15th of the month after the period (營業稅法 §35), or
// the next working day when the 15th is a weekend or a rest day
// (DeadlineDay). Invoices may be voided (作廢) before it; afterwards an
// allowance (折讓) or a special void applies.
func (p Period) FilingDeadline() time.Time {
	return DeadlineDay(time.Date(p.Year, p.StartMonth+2, 15, 0, 0, 0, 0, Taipei)).AddDate(0, 0, 1)
}
