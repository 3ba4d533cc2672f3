package projections

import (
	"context"
	"sync"
	"time"
	_ "time/tzdata" // calendar boundaries are Taipei's on any server

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// Taipei is the zone of every calendar boundary: billing months, spending
// periods, usage days.
var Taipei = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Taipei")
	if err != nil {
		panic(err) // time/tzdata is embedded
	}
	return loc
}()

// Spending periods of a key.
const (
	PeriodDaily   = "daily"
	PeriodWeekly  = "weekly"
	PeriodMonthly = "monthly"
	// PeriodNever is a limit that never resets: its one period is the
	// key's life.
	PeriodNever = domain.SpendNever
)

// spendPeriod is a key's period as stored: monthly when unset, and the
// package's own string for the known names, so that a read model does not
// keep every event's copy of the same few bytes.
func spendPeriod(p string) string {
	switch p {
	case "", PeriodMonthly:
		return PeriodMonthly
	case PeriodDaily:
		return PeriodDaily
	case PeriodWeekly:
		return PeriodWeekly
	case PeriodNever:
		return PeriodNever
	}
	return p
}

// MonthOf is the Taipei month of an instant, as YYYY-MM.
func MonthOf(t time.Time) string { return t.In(Taipei).Format("2006-01") }

// DayOf is the Taipei day of an instant, as YYYY-MM-DD.
func DayOf(t time.Time) string { return t.In(Taipei).Format("2006-01-02") }

// lifeStart is the start of the one period of a limit that never resets:
// the Unix epoch, which a spending bucket keeps as its own zero, so that
// every request of the key's life is counted in one bucket.
var lifeStart = time.Unix(0, 0).In(Taipei)

// PeriodStart is the start of the spending period holding t: Taipei midnight,
// Monday midnight (weekly), the first of the month (monthly, the default) or,
// for a limit that never resets, the Unix epoch (lifeStart).
func PeriodStart(period string, t time.Time) time.Time {
	if period == PeriodNever {
		return lifeStart
	}
	l := t.In(Taipei)
	y, m, d := l.Date()
	switch period {
	case PeriodDaily:
		return time.Date(y, m, d, 0, 0, 0, 0, Taipei)
	case PeriodWeekly:
		back := (int(l.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, d-back, 0, 0, 0, 0, Taipei)
	}
	return time.Date(y, m, 1, 0, 0, 0, 0, Taipei)
}

// PeriodEnd is when t's period ends and the next begins: when a spending
// limit of that period resets (the next Taipei midnight, Monday or first of
// the month). A limit that never resets has no end: the zero time.
func PeriodEnd(period string, t time.Time) time.Time {
	if period == PeriodNever {
		return time.Time{}
	}
	start := PeriodStart(period, t)
	switch period {
	case PeriodDaily:
		return start.AddDate(0, 0, 1)
	case PeriodWeekly:
		return start.AddDate(0, 0, 7)
	}
	return start.AddDate(0, 1, 0)
}

// memCheckpoint is the position of an in-memory model: where a restarted
// router resumes, and what a redelivered batch skips.
type memCheckpoint struct {
	mu  sync.Mutex
	pos eventstore.Position
}

// Checkpoint implements Projection for in-memory models.
func (c *memCheckpoint) Checkpoint(context.Context) (eventstore.Position, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos, nil
}

// fresh is the part of a batch not yet applied.
func (c *memCheckpoint) fresh(batch []Event) []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return after(batch, c.pos)
}

func (c *memCheckpoint) done(batch []Event) {
	if len(batch) == 0 {
		return
	}
	c.mu.Lock()
	c.pos = batch[len(batch)-1].Position
	c.mu.Unlock()
}
