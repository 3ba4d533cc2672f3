// Package tokens counts tokens offline when an upstream reports no usage (a
// stream broken mid-way, an old OpenAI-compatible host). It uses tiktoken's
// o200k_base vocabulary, shipped inside the tiktoken-go-loader module, so
// nothing is downloaded at run time. Counts from it are marked estimated.
//
// It splits text with o200k_base's pattern and merges byte pairs as
// tiktoken does, with one difference: a piece longer than maxPiece bytes
// (one unbroken run of letters, spaces or punctuation) is merged in chunks
// of at most maxPiece bytes. tiktoken's merge takes time quadratic in the
// length of a piece, so a megabyte-long word took it hours; in chunks the
// whole count is linear in the input. Ordinary text has no such pieces and
// counts exactly as tiktoken counts it; a longer piece counts within about
// one token per chunk.
package tokens

import (
	"math"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// maxPiece bounds the bytes one byte-pair merge sees. Words, numbers and
// indentation are far shorter; o200k_base's longest tokens are 128 bytes.
const maxPiece = 256

// o200kPattern is o200k_base's pre-tokenizer, as tiktoken defines it.
var o200kPattern = strings.Join([]string{
	`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
	`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
	`\p{N}{1,3}`,
	` ?[^\s\p{L}\p{N}]+[\r\n/]*`,
	`\s*[\r\n]+`,
	`\s+(?!\S)`,
	`\s+`,
}, "|")

// vocabulary is o200k_base: its token ranks and its pre-tokenizer.
type vocabulary struct {
	ranks map[string]int
	split *regexp2.Regexp
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
		if err != nil {
			return
		}
		var split *regexp2.Regexp
		split, err = regexp2.Compile(o200kPattern, regexp2.None)
		vocab = &vocabulary{ranks: ranks, split: split}
	})
	return vocab, err
}

// Count returns the number of tokens of text. If the vocabulary cannot load
// (it is compiled in, so only a broken build fails), it falls back to one
// token per four bytes, rounded up.
func Count(text string) int {
	if text == "" {
		return 0
	}
	v, err := load()
	if err != nil {
		return (len(text) + 3) / 4
	}
	n := 0
	// The pattern has no timeout, so matching never fails.
	m, _ := v.split.FindStringMatch(text)
	for m != nil {
		n += v.countPiece(m.String())
		m, _ = v.split.FindNextMatch(m)
	}
	return n
}

// countPiece counts one piece of the pre-tokenizer, in chunks of at most
// maxPiece bytes cut between characters.
func (v *vocabulary) countPiece(p string) int {
	n := 0
	for len(p) > maxPiece {
		cut := maxPiece
		for !utf8.RuneStart(p[cut]) {
			cut--
		}
		n += v.merge(p[:cut])
		p = p[cut:]
	}
	return n + v.merge(p)
}

// noRank marks a pair whose joined bytes are no token.
const noRank = math.MaxInt

// merge counts the tokens of p by tiktoken's byte-pair merge: start from
// single bytes, and join the adjacent pair whose bytes form the
// lowest-ranked token (the leftmost of equals) until no pair forms one.
// Its time is quadratic in len(p), which countPiece bounds.
func (v *vocabulary) merge(p string) int {
	if len(p) <= 1 {
		return len(p)
	}
	if _, ok := v.ranks[p]; ok {
		return 1
	}
	// parts[i] starts a part; its rank is that of it joined with the next
	// part. The last entry only marks the end.
	type part struct{ start, rank int }
	parts := make([]part, len(p)+1)
	rank := func(i int) int {
		if i+2 < len(parts) {
			if r, ok := v.ranks[p[parts[i].start:parts[i+2].start]]; ok {
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

// Warm loads the vocabulary ahead of the first count (it takes a moment).
func Warm() { _, _ = load() }
