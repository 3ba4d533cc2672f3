package server

import "time"

// rolling is a connection deadline pushed on while bytes keep moving, so
// that only a peer that stalls for its span is cut: a request body's reads
// (readBody) and every write to a client (CutStalledWriters). Moving a deadline is
// cheap but not free, so it moves only once a quarter of the span has
// passed: a stall is cut after three quarters of the span at the least.
type rolling struct {
	span time.Duration // 0: never cut
	at   time.Time     // the deadline set last (zero: none)
}

// next gives the deadline to set before the next read or write, and false
// while the one set still stands.
func (d *rolling) next() (time.Time, bool) {
	if d.span <= 0 {
		return time.Time{}, false
	}
	now := time.Now()
	if d.at.Sub(now) > d.span*3/4 {
		return time.Time{}, false
	}
	d.at = now.Add(d.span)
	return d.at, true
}
