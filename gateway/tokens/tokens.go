// Package tokens counts tokens offline when an upstream reports no usage (a
// stream broken mid-way, an old OpenAI-compatible host), for count_tokens,
// and for embeddings billed without usage. It uses tiktoken's o200k_base
// vocabulary, shipped inside the tiktoken-go-loader module, so nothing is
// downloaded at run time. Counts from it are marked estimated.
//
// It splits text into pieces as o200k_base's pre-tokenizer pattern does,
// with a scanner (next) that walks the text once, in place, and finds the
// very pieces a backtracking regular-expression engine finds; tests compare
// it with one. It then merges byte pairs as tiktoken does, with one
// difference: a piece longer than maxPiece bytes (one unbroken run of
// letters, spaces or punctuation) is merged in chunks of at most maxPiece
// bytes. tiktoken's merge takes time quadratic in the length of a piece, so
// a megabyte-long word took it hours; in chunks the whole count is linear
// in the input. Ordinary text has no such pieces and counts exactly as
// tiktoken counts it; a longer piece counts within about one token per
// chunk.
//
// Counting UTF-8 text allocates nothing. The regular-expression engine that
// split it before copied the text as runes and allocated for every piece:
// one 32 MiB count_tokens body took about 10 s of CPU and 2.2 GB of
// allocations, up to 300 MB of them live at once. Bytes that are not UTF-8
// (an upstream's output may hold some) count as U+FFFD each, as that
// engine, and so tiktoken-go, reads them.
package tokens

import (
	"context"
	"math"
	"sync"
	"unicode"
	"unicode/utf8"

	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// maxPiece bounds the bytes one byte-pair merge sees. Words, numbers and
// indentation are far shorter; o200k_base's longest tokens are 128 bytes.
const maxPiece = 256

// checkEvery is how many bytes CountContext counts between two looks at
// its context: about a millisecond of work.
const checkEvery = 64 << 10

// vocabulary is o200k_base's token ranks.
type vocabulary struct {
	ranks map[string]int
}

var (
	once  sync.Once
	vocab *vocabulary
	err   error
)

func load() (*vocabulary, error) {
	once.Do(func() {
		var ranks map[string]int
		ranks, err = tiktoken_loader.NewOfflineLoader().LoadTiktokenBpe("o200k_base.tiktoken")
		vocab = &vocabulary{ranks: ranks}
	})
	return vocab, err
}

// Count returns the number of tokens of text. If the vocabulary cannot load
// (it is compiled in, so only a broken build fails), it falls back to one
// token per four bytes, rounded up.
func Count(text string) int {
	n, _ := CountContext(context.Background(), text)
	return n
}

// CountContext is Count for a caller that may stop waiting: it looks at ctx
// every 64 KiB of text and, once ctx is done, returns 0 and ctx.Err().
func CountContext(ctx context.Context, text string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if text == "" {
		return 0, nil
	}
	v, err := load()
	if err != nil {
		return (len(text) + 3) / 4, nil
	}
	m := merger{ranks: v.ranks}
	t := classes()
	valid := utf8.ValidString(text)
	n, check := 0, checkEvery
	// Each turn merges one chunk: a piece, or its next maxPiece bytes at
	// most, cut between characters.
	for i, end := 0, 0; i < len(text); {
		if i >= check {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			check = i + checkEvery
		}
		if i == end {
			end = next(text, i, t)
			if !valid && !utf8.ValidString(text[i:end]) {
				n += m.countReplaced(text[i:end])
				i = end
				continue
			}
		}
		cut := end
		if cut-i > maxPiece {
			cut = i + maxPiece
			for !utf8.RuneStart(text[cut]) {
				cut--
			}
		}
		n += m.merge(text[i:cut])
		i = cut
	}
	return n, nil
}

// Classes of characters, as o200k_base's pattern names them. A character
// has the bits of every class it belongs to.
const (
	capital = 1 << iota // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
	small               // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
	lead                // [^\r\n\p{L}\p{N}]: may stand before a word
	punct               // [^\s\p{L}\p{N}]
	digit               // \p{N}
	white               // \s, which the pattern's engine takes from unicode.IsSpace
	newline             // [\r\n]
)

// classify returns the classes of r. The general categories it tests are
// disjoint, so their order only saves time: the most frequent come first.
func classify(r rune) uint8 {
	switch {
	case r == '\r' || r == '\n':
		return white | newline
	case unicode.Is(unicode.Ll, r):
		return small
	case unicode.Is(unicode.Lo, r) || unicode.Is(unicode.Lm, r):
		return capital | small
	case unicode.Is(unicode.Lu, r) || unicode.Is(unicode.Lt, r):
		return capital
	case unicode.Is(unicode.M, r):
		// Marks are no letters: both word classes hold them, and so do
		// the classes defined as "not a letter".
		return capital | small | lead | punct
	case unicode.Is(unicode.N, r):
		return digit
	case unicode.IsSpace(r):
		return white | lead
	}
	return lead | punct
}

// classes holds the classes of the Basic Multilingual Plane, where nearly
// all text lies: 64 KiB, filled once.
var classes = sync.OnceValue(func() *[1 << 16]uint8 {
	var t [1 << 16]uint8
	for r := range t {
		t[r] = classify(rune(r))
	}
	return &t
})

// at decodes the character at s[i] and returns its classes (from t in the
// Basic Multilingual Plane) and size. A byte that is no UTF-8 reads as
// U+FFFD, one byte long, as a conversion of the string to runes reads it.
func at(s string, i int, t *[1 << 16]uint8) (r rune, c uint8, size int) {
	if b := s[i]; b < utf8.RuneSelf {
		return rune(b), t[b], 1
	}
	r, size = utf8.DecodeRuneInString(s[i:])
	if r < 1<<16 {
		return r, t[r], size
	}
	return r, classify(r), size
}

// next returns the end of the piece of s that starts at s[i], i < len(s),
// given the table of classes: the match there of o200k_base's pattern
// (o200kPattern in the tests), whose alternatives are, in order,
//
//	(1) [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	(2) [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	(3) \p{N}{1,3}
//	(4) [ ]?[^\s\p{L}\p{N}]+[\r\n/]*
//	(5) \s*[\r\n]+
//	(6) \s+(?!\S)
//	(7) \s+
//
// matched as a backtracking engine matches them: the first alternative
// that matches wins, even where a later one would match more, and each
// quantifier takes as much as it can and gives back only what the rest of
// its alternative needs. Every character starts a match of one of them, so
// the pieces cover the text.
func next(s string, i int, t *[1 << 16]uint8) int {
	r, c, size := at(s, i, t)
	if c&(capital|small|lead) != 0 {
		if end := word(s, i, c, size, t); end > i {
			return end
		}
	}
	switch {
	case c&digit != 0: // (3)
		end := i + size
		for k := 1; k < 3 && end < len(s); k++ {
			_, c, size := at(s, end, t)
			if c&digit == 0 {
				break
			}
			end += size
		}
		return end
	case r == ' ' && i+1 < len(s) && classAt(s, i+1, t)&punct != 0: // (4), led by a space
		return punctuation(s, i+1, t)
	case c&punct != 0: // (4)
		return punctuation(s, i, t)
	}
	return spaces(s, i, t)
}

// classAt returns the classes of the character at s[i].
func classAt(s string, i int, t *[1 << 16]uint8) uint8 {
	_, c, _ := at(s, i, t)
	return c
}

// word matches alternatives (1) and (2) at s[i], whose character has classes c
// and size bytes, and returns the end of the match, or i if neither matches.
// Each may take s[i] as its leading character or not, and tries with it
// first.
func word(s string, i int, c uint8, size int, t *[1 << 16]uint8) int {
	// A character outside both word classes can only lead.
	withLead, bare := c&lead != 0, c&(capital|small) != 0
	if withLead {
		if end := smallAfterCapitals(s, i+size, t); end > i+size {
			return contraction(s, end)
		}
	}
	if bare {
		if end := smallAfterCapitals(s, i, t); end > i {
			return contraction(s, end)
		}
	}
	if withLead {
		if end := capitalsThenSmall(s, i+size, t); end > i+size {
			return contraction(s, end)
		}
	}
	if bare {
		if end := capitalsThenSmall(s, i, t); end > i {
			return contraction(s, end)
		}
	}
	return i
}

// smallAfterCapitals matches [capital]*[small]+ at s[i] and returns its end,
// or i if it does not match. The capitals take all they can; if no small
// character follows them, they give back up to their last character that
// is small too (a mark, a Lm or Lo letter), and the match ends after it.
func smallAfterCapitals(s string, i int, t *[1 << 16]uint8) int {
	given := i // the end if the capitals give back
	j := i
	for j < len(s) {
		_, c, size := at(s, j, t)
		if c&capital == 0 {
			if c&small == 0 {
				return given
			}
			break
		}
		j += size
		if c&small != 0 {
			given = j
		}
	}
	if j == len(s) {
		return given
	}
	return run(s, j, small, t)
}

// capitalsThenSmall matches [capital]+[small]* at s[i] and returns its end,
// or i if it does not match.
func capitalsThenSmall(s string, i int, t *[1 << 16]uint8) int {
	j := run(s, i, capital, t)
	if j == i {
		return i
	}
	return run(s, j, small, t)
}

// run returns the end of the characters of class want from s[i] on.
func run(s string, i int, want uint8, t *[1 << 16]uint8) int {
	for i < len(s) {
		_, c, size := at(s, i, t)
		if c&want == 0 {
			break
		}
		i += size
	}
	return i
}

// contraction extends a word that ends at s[i] by (?i:'s|'t|'re|'ve|'m|'ll|'d)
// if one follows. The engine compares characters lower-cased by
// unicode.ToLower, and only ASCII letters lower-case to these letters, so
// bytes with the lower-case bit set compare the same.
func contraction(s string, i int) int {
	if i+1 >= len(s) || s[i] != '\'' {
		return i
	}
	switch s[i+1] | 0x20 {
	case 's', 't', 'm', 'd':
		return i + 2
	case 'r', 'v':
		if i+2 < len(s) && s[i+2]|0x20 == 'e' {
			return i + 3
		}
	case 'l':
		if i+2 < len(s) && s[i+2]|0x20 == 'l' {
			return i + 3
		}
	}
	return i
}

// punctuation matches [^\s\p{L}\p{N}]+[\r\n/]* at s[i], whose character is
// of class punct.
func punctuation(s string, i int, t *[1 << 16]uint8) int {
	i = run(s, i, punct, t)
	for i < len(s) && (s[i] == '\r' || s[i] == '\n' || s[i] == '/') {
		i++
	}
	return i
}

// spaces matches alternatives (5), (6) and (7) at s[i], a space of any kind.
func spaces(s string, i int, t *[1 << 16]uint8) int {
	end, last, afterNewline := i, i, -1
	for end < len(s) {
		r, c, size := at(s, end, t)
		if c&white == 0 {
			break
		}
		last = end
		end += size
		if r == '\r' || r == '\n' {
			afterNewline = end
		}
	}
	switch {
	case afterNewline >= 0: // (5): up to the last line break
		return afterNewline
	case end == len(s) || last == i: // (6) to the end of the text, or (7)
		return end
	}
	return last // (6): the last space leads what follows
}

// noRank marks a pair whose joined bytes are no token.
const noRank = math.MaxInt

// part starts a part of a piece being merged; rank is that of the part
// joined with the next one.
type part struct{ start, rank int }

// merger merges pieces of at most maxPiece bytes in room of its own, so a
// count allocates nothing.
type merger struct {
	ranks map[string]int
	parts [maxPiece + 1]part
}

// merge counts the tokens of p by tiktoken's byte-pair merge: start from
// single bytes, and join the adjacent pair whose bytes form the
// lowest-ranked token (the leftmost of equals) until no pair forms one.
// Its time is quadratic in len(p), which is at most maxPiece.
func (m *merger) merge(p string) int {
	if len(p) <= 1 {
		return len(p)
	}
	if _, ok := m.ranks[p]; ok {
		return 1
	}
	// The last entry only marks the end.
	parts := m.parts[:len(p)+1]
	rank := func(i int) int {
		if i+2 < len(parts) {
			if r, ok := m.ranks[p[parts[i].start:parts[i+2].start]]; ok {
				return r
			}
		}
		return noRank
	}
	for i := range parts {
		parts[i] = part{start: i, rank: noRank}
	}
	for i := range parts {
		parts[i].rank = rank(i)
	}
	for {
		low := -1
		for i := 0; i < len(parts)-1; i++ {
			if parts[i].rank < noRank && (low < 0 || parts[i].rank < parts[low].rank) {
				low = i
			}
		}
		if low < 0 {
			return len(parts) - 1
		}
		parts = append(parts[:low+1], parts[low+2:]...)
		parts[low].rank = rank(low)
		if low > 0 {
			parts[low-1].rank = rank(low - 1)
		}
	}
}

// countReplaced counts a piece that holds bytes that are no UTF-8 as
// tiktoken-go sees it: each such byte replaced by U+FFFD, merged in chunks
// of at most maxPiece bytes cut between characters. It is the one path
// that allocates, for each chunk.
func (m *merger) countReplaced(p string) int {
	var buf [maxPiece]byte
	chunk, n := buf[:0], 0
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRuneInString(p[i:])
		c := p[i : i+size]
		if r == utf8.RuneError && size == 1 {
			c = string(utf8.RuneError)
		}
		if len(chunk)+len(c) > maxPiece {
			n += m.merge(string(chunk))
			chunk = chunk[:0]
		}
		chunk = append(chunk, c...)
		i += size
	}
	return n + m.merge(string(chunk))
}

// Warm loads the vocabulary ahead of the first count (it takes a moment).
func Warm() {
	_, _ = load()
	classes()
}
