package twrules

import (
	"fmt"
	"time"
	_ "time/tzdata" // Asia/Taipei must resolve on hosts without a zoneinfo database
)

// Taipei is the zone of every Taiwanese calendar rule (no DST since 1979).
var Taipei = mustLoad("Asia/Taipei")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // cannot happen: tzdata is embedded
	}
	return loc
}

// rocOffset turns a western year into a 民國 year.
const rocOffset = 1911

// ROCYear is the 民國 year of t in Taipei (2026 → 115).
func ROCYear(t time.Time) int { return t.In(Taipei).Year() - rocOffset }

// ROCDate7 is the 7-digit yyyMMdd date used in the QR code: 2026-11-05 → "1151105".
func ROCDate7(t time.Time) string {
	tt := t.In(Taipei)
	return fmt.Sprintf("%03d%02d%02d", tt.Year()-rocOffset, int(tt.Month()), tt.Day())
}

// ROCDateLabel is the formal date printed on quotes and contracts:
// "中華民國115年11月5日".
func ROCDateLabel(t time.Time) string {
	tt := t.In(Taipei)
	return fmt.Sprintf("中華民國%d年%d月%d日", tt.Year()-rocOffset, int(tt.Month()), tt.Day())
}

// ROCDateShort is the compact form "115/11/05".
func ROCDateShort(t time.Time) string {
	tt := t.In(Taipei)
	return fmt.Sprintf("%d/%02d/%02d", tt.Year()-rocOffset, int(tt.Month()), tt.Day())
}
