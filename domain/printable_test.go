package domain

import (
	"strings"
	"testing"
	"unicode"
)

// A refusal naming a character the invoices cannot print used to quote it
// as it is, so that a right-to-left override (U+202E) typed into a name
// reordered the rest of the CLI's line, a combining accent fused with the
// bracket before it and a zero-width joiner showed as empty brackets. Such
// characters are named by their code point alone; the others are shown
// between brackets too.
func TestUnprintableNamesWhatShowsNothingByCodePointAlone(t *testing.T) {
	for _, c := range []struct {
		r    rune
		want string
	}{
		{0x1F600, "「\U0001F600」(U+1F600)"},
		{0xAC00, "「가」(U+AC00)"},
		{0x0627, "「ا」(U+0627)"},
		{0xFFFD, "「\uFFFD」(U+FFFD)"},
		{0x202E, "U+202E"},
		{0x2066, "U+2066"},
		{0x200D, "U+200D"},
		{0x200B, "U+200B"},
		{0x0301, "U+0301"},
		{0x00A0, "U+00A0"},
		{0x001B, "U+001B"},
		{0xE000, "U+E000"},
	} {
		err := PrintableName("organisation", "好"+string(c.r)+"司")
		if err == nil {
			t.Fatalf("U+%04X: no refusal", c.r)
		}
		msg := err.Error()
		if !strings.Contains(msg, "organisation contains "+c.want+", which invoices cannot print") {
			t.Errorf("U+%04X: %q; want it named as %q", c.r, msg, c.want)
		}
		if !unicode.IsGraphic(c.r) || unicode.In(c.r, unicode.Mn, unicode.Me, unicode.Zs) {
			if strings.ContainsRune(msg, c.r) {
				t.Errorf("U+%04X is in the message as it is: %q", c.r, msg)
			}
		}
	}
}
