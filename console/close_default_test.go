package console

import (
	"testing"
	"time"
)

// At month-end finance opens the invoices page, which shows the current
// month, and the close form offered that month, which has not ended and
// is always refused. It offers the last month that has ended, and the
// month shown once that has ended.
func TestCloseFormOffersAMonthThatHasEnded(t *testing.T) {
	e := newEnv(t, false)
	e.clock.set(time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)) // 10:00 on 1 December in Taipei
	b := e.browser()
	b.signIn(e.finance)
	for path, want := range map[string]string{
		"/console/invoices":               "2026-11",
		"/console/invoices?month=2026-12": "2026-11",
		"/console/invoices?month=2027-03": "2026-11",
		"/console/invoices?month=2026-09": "2026-09",
	} {
		_, page := b.get(path)
		if got := attrOf(t, page, "input", "id", "close-month", "value"); got != want {
			t.Errorf("%s: the close form offers %q, want %q", path, got, want)
		}
		if got := attrOf(t, page, "input", "id", "close-month", "max"); got != "2026-11" {
			t.Errorf("%s: the close form's latest month is %q, want 2026-11", path, got)
		}
	}
}
