package tokens

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
	"pgregory.net/rapid"
)

// o200kPattern is o200k_base's pre-tokenizer, as tiktoken defines it and as
// tiktoken-go runs it (with regexp2). next must split text exactly as it
// does.
var o200kPattern = strings.Join([]string{
	`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
	`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
	`\p{N}{1,3}`,
	` ?[^\s\p{L}\p{N}]+[\r\n/]*`,
	`\s*[\r\n]+`,
	`\s+(?!\S)`,
	`\s+`,
}, "|")

var o200kRegexp = regexp2.MustCompile(o200kPattern, regexp2.None)

// tb is what the checks need of *testing.T and *rapid.T alike.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// patternPieces are the pieces regexp2 finds. It reads the text as runes,
// so a byte that is no UTF-8 comes back as U+FFFD.
func patternPieces(t tb, s string) []string {
	t.Helper()
	var out []string
	m, err := o200kRegexp.FindStringMatch(s)
	for ; m != nil && err == nil; m, err = o200kRegexp.FindNextMatch(m) {
		out = append(out, m.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// scanPieces are the pieces next finds, substrings of s.
func scanPieces(s string) []string {
	var out []string
	t := classes()
	for i := 0; i < len(s); {
		end := next(s, i, t)
		if end <= i || end > len(s) {
			panic(fmt.Sprintf("next(%q, %d) = %d", s, i, end))
		}
		out = append(out, s[i:end])
		i = end
	}
	return out
}

// sameSplit fails t unless next splits s as the pattern does: the same
// pieces, each a substring of s, together all of s.
func sameSplit(t tb, s string) {
	t.Helper()
	got := scanPieces(s)
	if strings.Join(got, "") != s {
		t.Fatalf("pieces of %q do not make up the text: %q", s, got)
	}
	// Compared as regexp2 returns them: bytes that are no UTF-8 as U+FFFD.
	runes := make([]string, len(got))
	for i, p := range got {
		runes[i] = string([]rune(p))
	}
	if want := patternPieces(t, s); !slices.Equal(runes, want) {
		t.Fatalf("split of %q:\n got %q\nwant %q", s, runes, want)
	}
}

// patternCount is how the count went before next: regexp2's pieces, each
// merged in chunks of at most maxPiece bytes cut between characters.
func patternCount(t tb, s string) int {
	t.Helper()
	v, err := load()
	if err != nil {
		t.Fatal(err)
	}
	m := &merger{ranks: v.ranks}
	n := 0
	for _, p := range patternPieces(t, s) {
		for len(p) > maxPiece {
			cut := maxPiece
			for !utf8.RuneStart(p[cut]) {
				cut--
			}
			n += m.merge(p[:cut])
			p = p[cut:]
		}
		n += m.merge(p)
	}
	return n
}

// edges holds a text for every turn of the pattern: the classes' borders
// (marks after letters and after nothing, titlecase and modifier letters,
// digits of other scripts, CJK, emoji and joiners), contractions in every
// case and with the typographic apostrophe, every kind of space and line
// break, punctuation before line breaks and slashes, bytes that are no
// UTF-8, and pieces longer than maxPiece.
var edges = []string{
	"", "a", "A", " ", "\n", "'", "1", "é", "\u0301",
	"e\u0301", "E\u0301", "\u0301e", "\u0301E", " \u0301", "\u0301\u0301x", "x\u0301\u0301", "A\u0301B", "AB\u0301", "AB\u0301c", "\u0301\u0301",
	"ǅemo", "ǅ", "ǈǋ", " ǅa", "aǅ", "ǅǅa", "ᾈᾉ ᾼ", // titlecase
	"ʰ", "ʰa", "aʰ", "Aʰ", "AʰB", "ABʰ", "ABʰ'S", "ʰʰ", " ʰ", "Aʰʰb", "ĦʰĦ", "々", "ー", "ｰ", // modifier letters
	"ª", "ªA", "Aª", "Aªb", "ABªCD", "ABªC'd", "ºº", "ℵ", "AℵB", "!ℵB", // Lo
	"नमस्ते", "ภาษาไทย", "עִבְרִית", "العربية", "한국어", "각",
	"٠١٢٣٤٥٦٧٨٩", "١٢٣٤", "０１２３４", "१२३४", "Ⅻ", "ⅫⅫⅫⅫ", "½²³¼", "x²", "x²y", "a1b2", "1a", "A1", "12345678", " 1234", "-12", "3.14", "1,000,000", "𝟘𝟙𝟚𝟛",
	"台北的天氣很好。", "請問台北今天的天氣如何？", "東京は晴れです", "「你好」", "《書名》", "a台", "台a", "A台B", "台'S",
	"😀", "a😀", "😀a", "😀😀 😀", "👍🏽", "👩\u200d👩\u200d👧", "\u200d", "a\u200db", "A\u200dB", "\u200c", "❤\ufe0f", "a\ufe0f", "\ufe0fa", "🇹🇼",
	"it's", "it’s", "IT'S", "I'M", "YOU'LL", "we'VE", "they'Re", "he'D", "don't", "DON'T", "'s", "'S", "'LL", "'ll", "'lL", "'re", "'Re", "'rE", "'ve", "'V", "'m", "'d", "'t", "'x",
	"a's", "A'S", "a'", "a''s", "a's's", "a'sa", "a'l", "a'r", "a'v", "a're", "1's", " 's", "!'s", "ǅ's", "ʰ's", "\u0301's", "台's", "é's", "a'ſ", "a'K", "a'\u212a", "a'İ",
	"\r\n", "\n\r", "\r", "\r\r\n\n", "a\r\nb", "a\r\n\r\nb", "  \r\n  x", " \n \n x", "x\n", "x \n", "x\t\n\t", "\n\n\n", "\n  ", "  \n", " \r ", "\r\n\t\tx",
	"\t", "\tx", "\t\tx", "x\ty", "x\t\ty", "\v\f", "\u00a0", "\u00a0x", "x\u00a0y", "\u2028", "x\u2028y", "\u2029\u2029", "\u3000", "台\u3000灣", "\u0085", "x\u0085", "\u1680", "\u2000\u200a", "\u202f", "\u205f", "\u200b", "x\u200by", "\ufeff", "\u180e", "\x1c\x1d\x1e\x1f", "\x00", "\x7f",
	"   ", "   x", "x   ", "x   y", " x", "  x", "   !", " !", "  !", " ! ", "!", "!!", "!\n", "!\n/", "...\r\n//", " //\n", "a/b", "http://x.com/a/b", "?/\n/", "//", "/", " /", "/\n\n/x", "!\r\r/", "-\n-", "\\n",
	"(foo)", " (foo", "'foo", "\"Foo\"", "#include", "x := y + 1", "a.b.c", "A.B", "$HOME", "@user", "foo_bar", "_x", "__init__", "，", "。\n", "a，b",
	"\xff", "a\xffb", "\xff\xfe", " \xff", "\xffa", "a\xff", "\xe4\xb8", "\xe4\xb8a", "台\xe4", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\x80", "a\x80's", "\xef\xbf\xbd", "\xff\n/", " \xff\xff ",
	strings.Repeat("a", 1000), strings.Repeat("A", 600) + "b", strings.Repeat(" ", 700) + "x", strings.Repeat("台", 300), strings.Repeat("=", 513),
	strings.Repeat("\u0301", 300), strings.Repeat("é", 400), strings.Repeat("\xff", 300), strings.Repeat("a\xff", 300), strings.Repeat("\n", 400),
	strings.Repeat("!\xff", 300), strings.Repeat("\xe4\xb8", 200), strings.Repeat("ʰ", 200) + "A", strings.Repeat("1", 10), strings.Repeat(" \t", 200) + "\n",
}

func TestSplitMatchesPatternOnEdges(t *testing.T) {
	for _, s := range edges {
		sameSplit(t, s)
	}
	for _, s := range ordinary {
		sameSplit(t, s)
	}
	// Each text followed by each of the first 150: every border between two.
	for _, a := range edges {
		for _, b := range edges[:150] {
			sameSplit(t, a+b)
		}
	}
}

func TestSplitMatchesPatternOnMixedText(t *testing.T) {
	s := mixed(256 << 10)
	sameSplit(t, s)
}

// TestClassesMatchPattern compares the classes of every character with the
// pattern's character classes as regexp2 reads them (its \s is not .NET's,
// for instance: it is unicode.IsSpace).
func TestClassesMatchPattern(t *testing.T) {
	var all strings.Builder
	n := 0
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if utf8.ValidRune(r) {
			all.WriteRune(r)
			n++
		}
	}
	s := all.String()
	tab := classes()
	got := make([]uint8, 0, n)
	for i := 0; i < len(s); {
		_, c, size := at(s, i, tab)
		got = append(got, c)
		i += size
	}
	for bit, class := range map[uint8]string{
		capital: `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`,
		small:   `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`,
		lead:    `[^\r\n\p{L}\p{N}]`,
		punct:   `[^\s\p{L}\p{N}]`,
		digit:   `\p{N}`,
		white:   `\s`,
		newline: `[\r\n]`,
	} {
		in := make([]bool, n)
		re := regexp2.MustCompile(class+"+", regexp2.None)
		m, err := re.FindStringMatch(s)
		for ; m != nil && err == nil; m, err = re.FindNextMatch(m) {
			for k := m.Index; k < m.Index+m.Length; k++ {
				in[k] = true
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for k, r := range []rune(s) {
			if in[k] != (got[k]&bit != 0) {
				if bad++; bad <= 5 {
					t.Errorf("%U: in %s is %v for the pattern, %v for next", r, class, in[k], !in[k])
				}
			}
		}
	}
}

// TestContractionLettersAreASCII: contraction compares bytes, as only
// ASCII letters lower-case to the letters of contractions.
func TestContractionLettersAreASCII(t *testing.T) {
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		if l := unicode.ToLower(r); strings.ContainsRune("'strevmld", l) {
			t.Errorf("%U lower-cases to %q", r, l)
		}
	}
}

// alphabet holds the classes of characters the pattern tells apart, and
// the letters and apostrophes of contractions, for random text.
var alphabet = [][]string{
	{"a", "b", "z", "é", "ß", "я", "ω"}, // Ll
	{"A", "Z", "É", "Я", "Ω"},           // Lu
	{"ǅ", "ᾈ"},                          // Lt
	{"ʰ", "々", "ー"},                     // Lm
	{"台", "北", "ª", "ℵ", "ก", "ا"},      // Lo
	// Mn, Mc, Me
	{"\u0301", "\u0308", "\u093f", "\u20dd", "\ufe0f"},
	// Nd, Nl, No
	{"0", "7", "٣", "３", "Ⅻ", "½", "²"},
	// spaces
	{" ", " ", "\t", "\v", "\f", "\u00a0", "\u3000", "\u2028", "\u0085", "\u1680"},
	// line breaks, and the slash that may follow them
	{"\r", "\n", "\r\n", "/"},
	// contractions
	{"'", "’", "s", "S", "t", "T", "r", "R", "e", "E", "v", "V", "m", "M", "l", "L", "d", "D", "ſ", "\u212a"},
	// punctuation
	{".", ",", "!", "/", "-", "_", "(", "$", "，", "。", "「"},
	// emoji, joiners, controls
	{"😀", "🏽", "\u200d", "\u200b", "\u200c", "\ufeff", "\x00"},
	// no UTF-8
	{"\xff", "\x80", "\xe4\xb8", "\xed\xa0\x80"},
}

// randomText draws runs of characters of one class or another, up to
// runs of them, so that runs longer than one character are common.
func randomText(t *rapid.T, runs int) string {
	var b strings.Builder
	for range rapid.IntRange(0, runs).Draw(t, "runs") {
		class := rapid.SampledFrom(alphabet).Draw(t, "class")
		for range rapid.IntRange(1, 6).Draw(t, "length") {
			b.WriteString(rapid.SampledFrom(class).Draw(t, "char"))
		}
		if rapid.IntRange(0, 3).Draw(t, "space") == 0 {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func TestSplitMatchesPatternOnRandomText(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sameSplit(t, randomText(t, 30))
	})
}

// TestCountMatchesPatternCount: Count gives the count the pattern's pieces
// gave, for text with long pieces and bytes that are no UTF-8 too.
func TestCountMatchesPatternCount(t *testing.T) {
	texts := append(append([]string{mixed(64 << 10)}, edges...), ordinary...)
	// U+FFFD, three bytes, where a chunk ends.
	for k := maxPiece - 8; k <= maxPiece; k++ {
		for _, u := range []string{"=", "!", "#", "-"} {
			texts = append(texts, strings.Repeat(u, k)+"\xff"+strings.Repeat(u, 300))
		}
	}
	for _, s := range texts {
		if got, want := Count(s), patternCount(t, s); got != want {
			t.Errorf("Count(%.40q) = %d, by the pattern's pieces %d", s, got, want)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		s := randomText(t, 200)
		if got, want := Count(s), patternCount(t, s); got != want {
			t.Fatalf("Count(%q) = %d, by the pattern's pieces %d", s, got, want)
		}
	})
}

func FuzzSplit(f *testing.F) {
	for _, s := range edges {
		f.Add(s)
	}
	f.Add(mixed(4 << 10))
	f.Fuzz(func(t *testing.T, s string) {
		sameSplit(t, s)
		if got, want := Count(s), patternCount(t, s); got != want {
			t.Fatalf("Count(%q) = %d, by the pattern's pieces %d", s, got, want)
		}
	})
}

// TestCountAllocatesNothing: pieces are substrings of the text and merges
// happen in room of the count's own.
func TestCountAllocatesNothing(t *testing.T) {
	Warm()
	s := mixed(1 << 20)
	if a := testing.AllocsPerRun(3, func() { Count(s) }); a != 0 {
		t.Fatalf("a count of 1 MiB made %.0f allocations", a)
	}
}

// checkCounter is a context that counts the looks at it, and is done from
// the look numbered doneAt on.
type checkCounter struct {
	context.Context
	looks, doneAt int
}

func (c *checkCounter) Err() error {
	c.looks++
	if c.doneAt > 0 && c.looks >= c.doneAt {
		return context.Canceled
	}
	return nil
}

func TestCountContext(t *testing.T) {
	Warm()
	texts := map[string]string{
		"mixed": mixed(2 << 20),
		// One piece: the looks go on between its chunks.
		"one word": strings.Repeat("a", 1<<20),
	}
	for name, s := range texts {
		count := Count(s)
		// Done before it starts.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if n, err := CountContext(ctx, s); n != 0 || !errors.Is(err, context.Canceled) {
			t.Errorf("%s: cancelled context: %d, %v", name, n, err)
		}
		// Never done: a look every 64 KiB, and the count Count gives.
		c := &checkCounter{Context: context.Background()}
		n, err := CountContext(c, s)
		if err != nil || n != count {
			t.Errorf("%s: %d, %v; Count says %d", name, n, err, count)
		}
		if want := len(s)/checkEvery + 1; c.looks < want-1 || c.looks > want+1 {
			t.Errorf("%s: %d looks at the context for %d bytes, want about %d", name, c.looks, len(s), want)
		}
		// Done mid-way: it stops at the look that finds it done.
		c = &checkCounter{Context: context.Background(), doneAt: 10}
		if n, err := CountContext(c, s); n != 0 || !errors.Is(err, context.Canceled) || c.looks != 10 {
			t.Errorf("%s: cancelled at the 10th look: %d, %v after %d looks", name, n, err, c.looks)
		}
	}
	// A context that is done reports why.
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	if _, err := CountContext(ctx, "hello"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired context: %v", err)
	}
}
