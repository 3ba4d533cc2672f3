package pdf

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// A contract's 第二條 wrapped its amount in figures across two lines,
// "（含稅，新臺幣105," and "000元）。": CJK text breaks anywhere, but an
// amount (or any run of Latin letters and figures) split at the margin
// reads as two numbers. The break now comes before the run, whatever
// text precedes it.
func TestWrapKeepsFiguresTogether(t *testing.T) {
	r := testRenderer(t)
	const amount = "105,000"
	for k := 0; k < 60; k++ {
		s := long(r, 0, k) + "新臺幣" + amount + "元整"
		var got []string
		draw := func(d doc) error {
			got = d.lines(s, contentW, 10.5)
			return nil
		}
		if err := r.render(&bytes.Buffer{}, "contract", "t", time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), []string{s}, draw); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "") != s {
			t.Fatalf("%d characters before: the lines %q do not make the text", k, got)
		}
		for i := 1; i < len(got); i++ {
			before, _ := utf8.DecodeLastRuneInString(got[i-1])
			after, _ := utf8.DecodeRuneInString(got[i])
			if latinWord(before) && latinWord(after) {
				t.Fatalf("%d characters before: the amount is split across lines %q | %q", k, got[i-1], got[i])
			}
		}
	}
}
