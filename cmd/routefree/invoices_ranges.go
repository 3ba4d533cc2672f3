package main

import (
	"context"
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
	if st.Passed > 0 {
		fmt.Fprintf(w, "period %s: %d passed over unused (reported blank with the numbers left: invoices export --message E0402)\n", st.Period, st.Passed)
	}
	for _, r := range st.Withdrawn {
		fmt.Fprintf(w, "period %s: %s  withdrawn %s by %s: %s (numbers nothing, reported blank nowhere)\n", st.Period, r.Range,
			r.At.In(twrules.Taipei).Format("2006-01-02 15:04"), r.Actor, r.Reason)
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

// addRange adds a range and says whether it did: the same range again
// changes nothing. A range of a period that has ended is added with a
// warning, as the console's confirmation step warns of it; one more than a
// period away is refused unless far says it is meant.
func addRange(ctx context.Context, svc *invoicing.Service, period, prefix string, from, to int64, far bool, stdout, stderr io.Writer) error {
	var opts []invoicing.RangeOption
	if far {
		opts = append(opts, invoicing.FarPeriodMeant)
	}
	added, err := svc.AddRange(ctx, period, prefix, from, to, opts...)
	if err != nil {
		return err
	}
	r := twrules.Range{Prefix: prefix, From: from, To: to}
	if !added {
		fmt.Fprintf(stdout, "%s was already a range of period %s: nothing changed\n", r, period)
		return nil
	}
	fmt.Fprintf(stdout, "added %s to period %s\n", r, period)
	if svc.PeriodEnded(period) {
		fmt.Fprintf(stderr, "routefree: warning: period %s has ended: no invoice issued now takes numbers from %s (invoices take the numbers of the period they are issued in); its unused numbers are reported as blank (E0402); if it was typed for the wrong period, withdraw it: routefree invoices range --withdraw --period %s --prefix %s --from %d --to %d --reason …\n", period, r, period, prefix, from, to)
	}
	return nil
}

// withdrawRange withdraws a range and says whether it did: one withdrawn
// already changes nothing.
func withdrawRange(ctx context.Context, svc *invoicing.Service, period, prefix string, from, to int64, reason string, stdout, stderr io.Writer) error {
	// An E0402 Turnkey has sent already is the platform's: the withdrawal
	// cannot take it back.
	sent := false
	for _, d := range svc.Documents() {
		sent = sent || d.Message == invoicing.MessageE0402 && d.Period == period && d.Number == prefix && d.Status == invoicing.FilingUploaded
	}
	done, err := svc.WithdrawRange(ctx, period, prefix, from, to, reason)
	if err != nil {
		return err
	}
	r := twrules.Range{Prefix: prefix, From: from, To: to}
	if !done {
		fmt.Fprintf(stdout, "%s was already withdrawn from period %s: nothing changed\n", r, period)
		return nil
	}
	fmt.Fprintf(stdout, "withdrew %s from period %s: it numbers nothing and is reported blank nowhere\n", r, period)
	if sent {
		fmt.Fprintf(stderr, "routefree: warning: Turnkey had already sent the E0402 of 字軌 %s for period %s: the platform holds that report; ask the tax office how to correct it\n", prefix, period)
	}
	return nil
}
