package invoicing

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A quote with a character the documents' font lacks was refused by the
// renderer's own words (`pdf: the font has no glyph for "\u200d";
// configure a font that covers them`): no field named, the character
// only Go-quoted, and advice meant for the operator. It is refused as an
// allowance's reason is: the field, the character and its code point.
func TestQuoteWithUnprintableCharactersNamesFieldAndCharacter(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 5, 10, 0))
	fields := map[string]func(*QuoteRequest, string){
		"agency":         func(r *QuoteRequest, s string) { r.Agency += s },
		"agency_address": func(r *QuoteRequest, s string) { r.AgencyAddr += s },
		"contact":        func(r *QuoteRequest, s string) { r.Contact += s },
		"remarks":        func(r *QuoteRequest, s string) { r.Remarks += s },
		"item 2: name":   func(r *QuoteRequest, s string) { r.Items[1].Name += s },
		"item 1: spec":   func(r *QuoteRequest, s string) { r.Items[0].Spec += s },
		"item 2: unit":   func(r *QuoteRequest, s string) { r.Items[1].Unit += s },
	}
	// What shows nothing or acts on the text around it is named by its
	// code point alone.
	chars := map[rune]string{0x1F600: "「\U0001F600」(U+1F600)", 0x2000B: "「\U0002000B」(U+2000B)",
		0xAC00: "「가」(U+AC00)", 0x0627: "「ا」(U+0627)", 0xFFFD: "「\uFFFD」(U+FFFD)",
		0x0301: "U+0301", 0x200D: "U+200D", 0x202E: "U+202E", 0x00A0: "U+00A0"}
	for field, set := range fields {
		for c, named := range chars {
			r := quoteRequest()
			set(&r, string(c)+"乙") // inside the text, not trimmed off its end
			_, err := e.svc.CreateQuote(e.ctx, r)
			want := fmt.Sprintf("%s contains %s,", field, named)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
				t.Errorf("%s with U+%04X: %v; want %q", field, c, err, want)
			}
		}
	}
	if n := len(e.svc.Quotes()); n != 0 {
		t.Fatalf("%d quotes issued, want none", n)
	}
}
