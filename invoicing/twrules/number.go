package twrules

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/routefree/routefree/domain"
)

// InvoiceNumber is a unified-invoice number: 2 uppercase letters (字軌) and
// 8 digits, stored "AB12345678" and printed "AB-12345678".
type InvoiceNumber string

// ErrInvoiceNumber reports a malformed invoice number.
var ErrInvoiceNumber = errors.New("twrules: invoice number must be 2 uppercase letters and 8 digits")

// ParseInvoiceNumber accepts "AB12345678" or the printed "AB-12345678".
func ParseInvoiceNumber(s string) (InvoiceNumber, error) {
	if len(s) == 11 && s[2] == '-' {
		s = s[:2] + s[3:]
	}
	if !validTrack(s[:min(2, len(s))]) || len(s) != 10 || !allDigits(s[2:]) {
		return "", fmt.Errorf("%w: %s", ErrInvoiceNumber, domain.Quote(s))
	}
	return InvoiceNumber(s), nil
}

// Track is the 字軌 letters, "AB".
func (n InvoiceNumber) Track() string { return string(n[:2]) }

// Serial is the 8-digit part, "12345678".
func (n InvoiceNumber) Serial() string { return string(n[2:]) }

// Printed is the form on the proof, "AB-12345678".
func (n InvoiceNumber) Printed() string { return string(n[:2]) + "-" + string(n[2:]) }

// String is the stored form, "AB12345678".
func (n InvoiceNumber) String() string { return string(n) }

// PrintedNumber formats a stored number for print; malformed input is
// returned unchanged.
func PrintedNumber(s string) string {
	n, err := ParseInvoiceNumber(s)
	if err != nil {
		return s
	}
	return n.Printed()
}

// ErrRangeExhausted means every number of an allocated range is used: ask
// the platform for another range (配號) instead of wrapping.
var ErrRangeExhausted = errors.New("twrules: invoice number range exhausted")

// Range is one allocation of numbers for a period: Prefix "AB", From
// 12345600, To 12345649 (both inclusive).
type Range struct {
	Prefix string
	From   int64
	To     int64
}

// Validate checks the prefix and bounds.
func (r Range) Validate() error {
	if !validTrack(r.Prefix) {
		return fmt.Errorf("twrules: range prefix %q: want 2 uppercase letters", r.Prefix)
	}
	if r.From < 0 || r.To > 99999999 || r.From > r.To {
		return fmt.Errorf("twrules: range %d-%d: want 0 ≤ from ≤ to ≤ 99999999", r.From, r.To)
	}
	return nil
}

// Size is how many numbers the range holds.
func (r Range) Size() int64 { return r.To - r.From + 1 }

// Next is the number after issuedCount numbers were used from this range.
func (r Range) Next(issuedCount int64) (string, error) {
	if err := r.Validate(); err != nil {
		return "", err
	}
	if issuedCount < 0 {
		return "", fmt.Errorf("twrules: negative issued count %d", issuedCount)
	}
	if issuedCount >= r.Size() {
		return "", fmt.Errorf("%w: %s%08d-%s%08d (%d used)", ErrRangeExhausted, r.Prefix, r.From, r.Prefix, r.To, issuedCount)
	}
	return r.Prefix + fmt.Sprintf("%08d", r.From+issuedCount), nil
}

// Overlaps reports whether two ranges share a number (same 字軌, crossing
// bounds).
func (r Range) Overlaps(o Range) bool {
	return r.Prefix == o.Prefix && r.From <= o.To && o.From <= r.To
}

func (r Range) String() string { return fmt.Sprintf("%s%08d-%s%08d", r.Prefix, r.From, r.Prefix, r.To) }

// Ranges are a period's ranges in the order they were assigned: numbers are
// taken from the first until it is used up, then from the next, so adding a
// range never moves a number already issued.
type Ranges []Range

// Size is how many numbers the ranges hold together.
func (rs Ranges) Size() int64 {
	var n int64
	for _, r := range rs {
		n += r.Size()
	}
	return n
}

// Next is the number after issuedCount numbers were used from the ranges.
func (rs Ranges) Next(issuedCount int64) (string, error) {
	if issuedCount < 0 {
		return "", fmt.Errorf("twrules: negative issued count %d", issuedCount)
	}
	k := issuedCount
	for _, r := range rs {
		if k < r.Size() {
			return r.Next(k)
		}
		k -= r.Size()
	}
	return "", fmt.Errorf("%w: %d ranges, %d numbers, all used", ErrRangeExhausted, len(rs), rs.Size())
}

// Index is how many numbers the ranges give before number (so Next(Index)
// is number); ok is false when no range holds it.
func (rs Ranges) Index(number string) (k int64, ok bool) {
	for _, r := range rs {
		if r.Contains(number) {
			n, _ := ParseInvoiceNumber(number)
			v, _ := strconv.ParseInt(n.Serial(), 10, 64)
			return k + v - r.From, true
		}
		k += r.Size()
	}
	return 0, false
}

// Runs are the numbers that Next gives for the counts from through to,
// as one run per range they fall in (none when from > to).
func (rs Ranges) Runs(from, to int64) []Range {
	var out []Range
	var k int64 // how many numbers the ranges before r give
	for _, r := range rs {
		lo, hi := max(from-k, 0), min(to-k, r.Size()-1)
		if lo <= hi {
			out = append(out, Range{Prefix: r.Prefix, From: r.From + lo, To: r.From + hi})
		}
		k += r.Size()
	}
	return out
}

// Used is how many numbers of each range issuedCount numbers took.
func (rs Ranges) Used(issuedCount int64) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = min(max(issuedCount, 0), r.Size())
		issuedCount -= out[i]
	}
	return out
}

// Contains reports whether a stored number belongs to the range.
func (r Range) Contains(number string) bool {
	n, err := ParseInvoiceNumber(number)
	if err != nil || n.Track() != r.Prefix {
		return false
	}
	v, _ := strconv.ParseInt(n.Serial(), 10, 64)
	return v >= r.From && v <= r.To
}

func validTrack(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}
