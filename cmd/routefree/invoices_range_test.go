package main

import (
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/twrules"
)

// `invoices range` given a range the period has already printed the
// period's ranges as after an addition: it says the range was already
// there and nothing was changed.
func TestCLIRangeAddedAgainSaysNothingChanged(t *testing.T) {
	store := []string{"--data-dir", storeDir(t)}
	period := twrules.PeriodOf(time.Now()).String()
	add := append([]string{"invoices", "range", "--period", period, "--prefix", "AB", "--from", "12345000", "--to", "12345099"}, store...)
	if out := mustCLI(t, add...); !strings.Contains(out, "added AB12345000-AB12345099 to period "+period) {
		t.Fatalf("a new range:\n%s", out)
	}
	out := mustCLI(t, add...)
	if !strings.Contains(out, "AB12345000-AB12345099 was already a range of period "+period+": nothing changed") || strings.Contains(out, "added") {
		t.Fatalf("the same range again:\n%s", out)
	}
	if !strings.Contains(out, "1 ranges, 100 numbers") {
		t.Fatalf("the period's ranges after the same range again:\n%s", out)
	}
}

// A range for a period that has ended was taken without a word, though no
// invoice issued now takes its numbers: it is still added (the numbers a
// restore finds used there, or its blanks to report), with a warning on
// stderr naming the period, as the console's confirmation step warns. The
// current and the next period's ranges draw no such warning.
func TestCLIRangeOfAnEndedPeriodWarns(t *testing.T) {
	store := []string{"--data-dir", storeDir(t)}
	now := twrules.PeriodOf(time.Now())
	last := twrules.PeriodOf(now.Start().AddDate(0, -1, 0))
	rangeOf := func(p twrules.Period, prefix string) (string, string) {
		t.Helper()
		code, out, errs := cli(t, append([]string{"invoices", "range", "--period", p.String(), "--prefix", prefix, "--from", "12345000", "--to", "12345099"}, store...)...)
		if code != 0 {
			t.Fatalf("range of %s: exit %d\n%s", p, code, errs)
		}
		return out, errs
	}
	out, errs := rangeOf(last, "AB")
	if !strings.Contains(errs, "warning: period "+last.String()+" has ended") || !strings.Contains(out, "added AB12345000-AB12345099 to period "+last.String()) {
		t.Fatalf("range of the ended period %s:\nstdout %s\nstderr %s", last, out, errs)
	}
	for _, p := range []twrules.Period{now, now.Next()} {
		if _, errs := rangeOf(p, "CD"); strings.Contains(errs, "has ended") {
			t.Fatalf("range of period %s warns it has ended:\n%s", p, errs)
		}
	}
}
