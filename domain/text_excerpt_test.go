package domain

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A refusal repeats at most MaxQuoted characters of what was typed, cut
// on a character (never inside one), control characters escaped.
func TestExcerptKeepsAShortPrefix(t *testing.T) {
	for _, c := range []struct{ in, excerpt, quoted string }{
		{"1e400", "1e400", `"1e400"`},
		{strings.Repeat("9", 32), strings.Repeat("9", 32), `"` + strings.Repeat("9", 32) + `"`},
		{strings.Repeat("9", 10000), strings.Repeat("9", 32) + "…", `"` + strings.Repeat("9", 32) + `…"`},
		{strings.Repeat("臺", 40), strings.Repeat("臺", 32) + "…", `"` + strings.Repeat("臺", 32) + `…"`},
		{"a\x00b\u202e", "a\x00b\u202e", `"a\x00b\u202e"`},
	} {
		if got := Excerpt(c.in); got != c.excerpt {
			t.Errorf("Excerpt(%.40q…) = %q, want %q", c.in, got, c.excerpt)
		}
		if got := Quote(c.in); got != c.quoted {
			t.Errorf("Quote(%.40q…) = %s, want %s", c.in, got, c.quoted)
		}
	}
	big := strings.Repeat("x", 1<<20)
	if n := utf8.RuneCountInString(Excerpt(big)); n != MaxQuoted+1 {
		t.Errorf("Excerpt of 1 MB is %d characters", n)
	}
}

// A library's message that repeats its input (a decoder's "can't convert
// 999…999 to decimal") keeps its words and a short prefix of each long run.
func TestExcerptWordsCutsLongRuns(t *testing.T) {
	long := strings.Repeat("9", 10000)
	msg := "error decoding string '\"" + long + "\"': can't convert " + long + " to decimal"
	got := ExcerptWords(msg)
	want := "error decoding string '\"" + strings.Repeat("9", 30) + "… can't convert " + strings.Repeat("9", 32) + "… to decimal"
	if got != want {
		t.Fatalf("ExcerptWords = %q\nwant %q", got, want)
	}
	if s := "month must be YYYY-MM"; ExcerptWords(s) != s {
		t.Fatalf("ExcerptWords changed %q", s)
	}
}
