package domain

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// IsBidiControl reports the embeddings, overrides and isolates of Unicode's
// bidirectional algorithm (U+202A–U+202E, U+2066–U+2069): in a stored text
// shown to others (a key's name, an app's title) they make it read as
// another.
func IsBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// MaxQuoted is how many characters of a refused input its refusal
// repeats: enough to recognise what was typed, while a 10,000-digit
// number or a megabyte of text is not echoed back whole.
const MaxQuoted = 32

// Excerpt is s cut to its first MaxQuoted characters, with "…" when cut:
// what a refusal shows of an input of any length.
func Excerpt(s string) string {
	n := 0
	for i := range s {
		if n == MaxQuoted {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// Quote is Excerpt(s) as %q writes it, control characters escaped.
func Quote(s string) string { return strconv.Quote(Excerpt(s)) }

// ExcerptWords cuts each run of non-space characters longer than
// MaxQuoted in msg to its Excerpt: for the messages of libraries that
// repeat their input whole (a JSON decoder's, a parser's).
func ExcerptWords(msg string) string {
	var b strings.Builder
	for len(msg) > 0 {
		i := strings.IndexFunc(msg, unicode.IsSpace)
		if i < 0 {
			i = len(msg)
		}
		b.WriteString(Excerpt(msg[:i]))
		rest := msg[i:]
		j := strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsSpace(r) })
		if j < 0 {
			j = len(rest)
		}
		b.WriteString(rest[:j])
		msg = rest[j:]
	}
	return b.String()
}

// PlainSpaceOrHyphen is r, or the plain space or hyphen it reads as: a
// space of any width (a no-break space copied from a bank statement's
// PDF), a Unicode hyphen, dash or minus sign.
func PlainSpaceOrHyphen(r rune) rune {
	switch {
	case unicode.Is(unicode.Zs, r):
		return ' '
	case r >= '\u2010' && r <= '\u2013', r == '\u2212', r == '\ufe63':
		return '-'
	}
	return r
}

// OnceKey is a key typed by hand to make a command once (a ticket number
// given to --once) as it is read: trimmed, in narrow width and composed
// form, with plain spaces and hyphens for those that read as them, so that
// ＴＫ－４２ typed with a Chinese input method, a space pasted before it,
// TK‐42 copied with a Unicode hyphen, or an accent typed as a combining
// mark is the key typed before. A key of ASCII letters, digits and punctuation is itself. A
// character that shows nothing (domain.Invisible) would make a key that
// reads as one used before and is another: it is returned, invisible, to
// be refused.
func OnceKey(key string) (string, rune) {
	key = strings.TrimSpace(strings.Map(PlainSpaceOrHyphen, norm.NFC.String(width.Narrow.String(key))))
	for _, r := range key {
		if Invisible(r) || IsBidiControl(r) {
			return key, r
		}
	}
	return key, 0
}
