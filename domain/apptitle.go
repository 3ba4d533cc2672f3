package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxAppTitle bounds an app's title (X-OpenRouter-Title, X-Title), in
// bytes.
const MaxAppTitle = 100

// AppTitle is an app's title as requests record it and /rankings ranks
// it: the text as it reads, cut between characters to at most max bytes.
// Left out are bytes that are not UTF-8, control and format characters
// (zero-width spaces and joiners, direction marks and controls, a
// byte-order mark, a soft hyphen), the other characters drawn as nothing
// (the Hangul fillers) and variation selectors that vary nothing; each
// run of spaces of any kind is one plain space, none at either end. A
// zero-width joiner between two emoji stays: it draws them as one
// (👩‍💻, a woman technologist, not a woman and a computer).
// Titles that read alike are then one text: one app is not ranked as two,
// nor a look-alike listed beside it.
// A title with nothing to change is returned without allocating, as the
// gateway reads one on every request.
func AppTitle(s string, max int) string {
	if !readsAsWritten(s) {
		s = asItReads(s)
	}
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return strings.TrimRight(s[:max], " \u200d")
}

// Invisible reports a character drawn as nothing, which AppTitle leaves
// out: a byte that is not UTF-8 (as RuneError), a control or format
// character (zero-width spaces and joiners, direction marks and controls,
// a byte-order mark, a soft hyphen) or another default-ignorable one (the
// Hangul fillers).
func Invisible(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) ||
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// readsAsWritten reports whether AppTitle keeps s as it is: no character
// left out, no space but single plain ones between words.
func readsAsWritten(s string) bool {
	space := true // a space at the start is one to drop
	prev := rune(-1)
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || (c == ' ' && space) {
				return false
			}
			space, prev = c == ' ', rune(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if Invisible(r) && !joinsEmoji(prev, r, s[i+n:]) || unicode.IsSpace(r) || strayVariation(prev, r) {
			return false
		}
		space, prev = false, r
		i += n
	}
	return !space || s == ""
}

// asItReads is s with what shows nothing left out and its spaces made
// single plain ones between words.
func asItReads(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	prev := rune(-1)      // the last character kept
	for i, r := range s { // a byte that is not UTF-8 comes as RuneError
		switch {
		case r == zwj && !space && joinsEmoji(prev, r, s[i+len(string(zwj)):]):
			b.WriteRune(r)
			prev = r
		case Invisible(r):
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case strayVariation(prev, r) || space && strayVariation(' ', r):
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
			prev = r
		}
	}
	return b.String()
}

// strayVariation reports a variation selector that changes nothing it
// follows: at the start, or after an ASCII character other than the
// digits, # and * (the only ones with an emoji form, as keycaps).
func strayVariation(prev, r rune) bool {
	if !(r >= 0xFE00 && r <= 0xFE0F || r >= 0xE0100 && r <= 0xE01EF) {
		return false
	}
	return prev < utf8.RuneSelf && !('0' <= prev && prev <= '9' || prev == '#' || prev == '*')
}

// zwj is the zero-width joiner, which joins emoji into one.
const zwj = '\u200d'

// joinsEmoji reports a zero-width joiner between two emoji: after an
// emoji (a symbol, a skin tone or the emoji form's selector) and before
// a symbol. Elsewhere it draws nothing and joins nothing.
func joinsEmoji(prev, r rune, rest string) bool {
	if r != zwj || !(unicode.Is(unicode.So, prev) || prev == 0xFE0F || prev >= 0x1F3FB && prev <= 0x1F3FF) {
		return false
	}
	next, _ := utf8.DecodeRuneInString(rest)
	return next != utf8.RuneError && unicode.Is(unicode.So, next)
}
