package domain

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// printableBits has one bit per BMP character (U+0000–U+FFFF), set when the
// invoice font embedded in invoicing/pdf draws it. A test there keeps the
// table equal to the font (ROUTEFREE_WRITE_GLYPHS=1 rewrites it).
//
//go:embed printable.bits
var printableBits []byte

// Printable reports whether the embedded invoice font draws r. Characters
// beyond the BMP (e.g. CNS 11643 Ext-B 罕用字) are never printable.
func Printable(r rune) bool {
	if r < 0x20 || r > 0xFFFF || int(r)/8 >= len(printableBits) {
		return false
	}
	return printableBits[r/8]&(1<<(r%8)) != 0
}

// UnprintableError names the characters of a name that the invoices
// cannot print.
type UnprintableError struct {
	Field string
	Runes []rune
}

func (e *UnprintableError) Error() string {
	parts := make([]string, len(e.Runes))
	for i, r := range e.Runes {
		parts[i] = NameRune(r)
	}
	return fmt.Sprintf("%s contains %s, which invoices cannot print: write the name with common characters (for example as registered in Big5)",
		e.Field, strings.Join(parts, ", "))
}

// NameRune names a character in a message: 「字」(U+5B57), or its code point
// alone (U+202E) when it shows nothing or would act on the text around it
// as written: a control, a bidirectional or other format character, a
// combining mark, a space.
func NameRune(r rune) string {
	if !unicode.IsGraphic(r) || unicode.In(r, unicode.Mn, unicode.Me, unicode.Zs) {
		return fmt.Sprintf("U+%04X", r)
	}
	return fmt.Sprintf("「%c」(U+%04X)", r, r)
}

// MaxBuyerName is the longest buyer name an e-invoice carries, in
// characters (MIG 4.1's buyer Name).
const MaxBuyerName = 60

// BuyerNameProblem says why an organisation's name cannot be an
// e-invoice's buyer name ("" when it can): too long to file, or holding
// characters the invoice font cannot print.
func BuyerNameProblem(field, name string) string {
	if n := utf8.RuneCountInString(name); n > MaxBuyerName {
		return fmt.Sprintf("%s is %d characters; an e-invoice's buyer name holds at most %d", field, n, MaxBuyerName)
	}
	if err := PrintableName(field, name); err != nil {
		return err.Error()
	}
	return ""
}

// PrintableName checks that every character of a name that invoices print
// (an organisation) is in the invoice font, so that no invoice is issued
// whose proof cannot be printed.
func PrintableName(field, name string) error {
	var bad []rune
	seen := map[rune]bool{}
	for _, r := range name {
		if !Printable(r) && !seen[r] {
			seen[r] = true
			bad = append(bad, r)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &UnprintableError{Field: field, Runes: bad}
}
