package main

import (
	"fmt"
	"io"
	"time"

	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
)

// printRanges lists a period's ranges in the order numbers are taken from
// them, with the numbers used and left.
func printRanges(w io.Writer, st invoicing.RangeStatus) {
	for _, r := range st.Ranges {
		fmt.Fprintf(w, "period %s: %s  used %d  left %d\n", st.Period, r.Range, r.Used, r.Left)
	}
	fmt.Fprintf(w, "period %s: %d ranges, %d numbers, %d used, %d left\n", st.Period, len(st.Ranges), st.Size, st.Used, st.Left)
	if st.Skipped > 0 {
		fmt.Fprintf(w, "period %s: %d skipped (used outside this history: routefree invoices skip)\n", st.Period, st.Skipped)
	}
	if st.Low {
		fmt.Fprintf(w, "warning: period %s is running low on invoice numbers: add a range (routefree invoices range --period %s --prefix … --from … --to …)\n", st.Period, st.Period)
	}
}

// warnLowRanges warns on stderr when the current period runs low on
// numbers, after any invoicing command.
func warnLowRanges(w io.Writer, svc *invoicing.Service, now time.Time) {
	p := twrules.PeriodOf(now).String()
	if st := svc.RangeStatus(p); st.Low {
		fmt.Fprintf(w, "routefree: warning: period %s has %d of %d invoice numbers left: add a range (routefree invoices range --period %s --prefix … --from … --to …)\n",
			p, st.Left, st.Size, p)
	}
}
