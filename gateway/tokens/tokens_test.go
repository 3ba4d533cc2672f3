package tokens

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

func TestCountMatchesTiktoken(t *testing.T) {
	// o200k_base: "hello world" is two tokens; the empty string none.
	if n := Count("hello world"); n != 2 {
		t.Fatalf("Count(hello world) = %d, want 2", n)
	}
	if n := Count(""); n != 0 {
		t.Fatalf("Count(\"\") = %d", n)
	}
	long := Count("The quick brown fox jumps over the lazy dog. 台北的天氣很好。")
	if long < 12 || long > 30 {
		t.Fatalf("implausible count %d", long)
	}
}

// reference is tiktoken-go's own o200k_base encoder: the counts Count gave
// before it bounded the merge, and must still give for ordinary text.
func reference(t testing.TB) *tiktoken.Tiktoken {
	t.Helper()
	tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
	enc, err := tiktoken.GetEncoding("o200k_base")
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// ordinary is text as prompts hold it: prose in several scripts, code,
// JSON, numbers, URLs, emoji, indentation and blank lines.
var ordinary = []string{
	"hello world",
	"The quick brown fox jumps over the lazy dog. 台北的天氣很好。",
	"I'm sure they'll say it's fine; we've done it, haven't we? DON'T PANIC.",
	"請問台北今天的天氣如何？我下午要去信義區開會，需要帶傘嗎？",
	"東京は晴れです。서울은 비가 옵니다. Привет, мир! Γειά σου κόσμε. مرحبا بالعالم",
	"func main() {\n\tfmt.Println(\"hi\")\n\tfor i := 0; i < 10; i++ {\n\t\tx += i * 2\n\t}\n}\n",
	`{"model":"openai/gpt-4.1","messages":[{"role":"user","content":"hi"}],"max_tokens":512}`,
	"Invoice AB-12345678 dated 2025-03-14: NT$1,234,567.89 incl. 5% tax.",
	"https://example.com/path/to/page?query=value&other=123#fragment",
	"emoji 😀🎉👍🏽 and ZWJ 👩‍👩‍👧‍👦 sequences",
	"    indented\n\n\n        more\r\n\ttabs\t\tand   spaces   \n",
	"Donaudampfschifffahrtsgesellschaftskapitän pneumonoultramicroscopicsilicovolcanoconiosis",
	"=== heading ===\n--- rule ---\n*** stars ***\n// comment /* block */ ###",
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
	"0x7fffffff 3.14159265358979 1e-9 -42 1_000_000",
	strings.Repeat("A fairly ordinary sentence, repeated to make a longer text. ", 200),
}

func TestCountOrdinaryTextIsExact(t *testing.T) {
	ref := reference(t)
	for _, s := range ordinary {
		if got, want := Count(s), len(ref.EncodeOrdinary(s)); got != want {
			t.Errorf("Count(%.40q) = %d, tiktoken says %d", s, got, want)
		}
	}
}

// TestCountRandomTextIsExact compares with tiktoken on random text built
// from words, digits, punctuation and whitespace of every script above.
func TestCountRandomTextIsExact(t *testing.T) {
	ref := reference(t)
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" +
		" \t\n\r.,;:!?'\"()[]{}<>/\\|-_=+*&^%$#@~`台北天氣東京서울мирκόσμεمرحبا😀é\u0301")
	for i := 0; i < 300; i++ {
		var b strings.Builder
		for n := rng.IntN(400); n > 0; n-- {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
			if rng.IntN(6) == 0 {
				b.WriteByte(' ')
			}
		}
		s := b.String()
		if got, want := Count(s), len(ref.EncodeOrdinary(s)); got != want {
			t.Fatalf("Count(%q) = %d, tiktoken says %d", s, got, want)
		}
	}
}

// unbroken are inputs the pre-tokenizer leaves as one piece however long
// they are: a word, capitals, CJK, spaces, punctuation.
var unbroken = map[string]string{
	"letters":     "a",
	"capitals":    "A",
	"mixed case":  "aB",
	"cjk":         "台",
	"spaces":      " ",
	"punctuation": "=",
	"newlines":    "\n",
}

// TestCountLongPieceIsNearExact: a piece longer than the merge takes at
// once is counted in chunks, within a token per chunk of tiktoken's count.
func TestCountLongPieceIsNearExact(t *testing.T) {
	ref := reference(t)
	for name, unit := range unbroken {
		s := strings.Repeat(unit, 3000/len(unit))
		got, want := Count(s), len(ref.EncodeOrdinary(s))
		if slack := len(s)/maxPiece + 1; got < want-slack || got > want+slack {
			t.Errorf("%s: Count = %d, tiktoken says %d (allowed ±%d)", name, got, want, slack)
		}
	}
}

// TestCountLongPieceIsFast: counting takes time linear in the input. A
// megabyte with no break took tiktoken's merge more than ten minutes.
func TestCountLongPieceIsFast(t *testing.T) {
	for name, unit := range unbroken {
		s := strings.Repeat(unit, (1<<20)/len(unit))
		done := make(chan int, 1)
		go func() { done <- Count(s) }()
		select {
		case n := <-done:
			if n < len(s)/maxPiece {
				t.Errorf("%s: %d tokens for %d bytes", name, n, len(s))
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: counting a 1 MiB piece took more than 20 s", name)
		}
	}
}

// BenchmarkCountSingleWord shows the time per byte staying flat from 10 KB
// to 1 MB of one unbroken word (MB/s is the same at every size).
func BenchmarkCountSingleWord(b *testing.B) {
	Warm()
	for _, size := range []int{10 << 10, 100 << 10, 1 << 20} {
		s := strings.Repeat("a", size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				Count(s)
			}
		})
	}
}

// BenchmarkCountProse is the usual case: ordinary text.
func BenchmarkCountProse(b *testing.B) {
	Warm()
	s := strings.Repeat(strings.Join(ordinary[:12], " "), 20)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Count(s)
	}
}

// mixed is size bytes (cut between characters) of the text count_tokens and
// billing see: English and Traditional Chinese prose, code, JSON, numbers,
// and runs of whitespace, CRLF and blank lines, in a seeded random order.
func mixed(size int) string {
	parts := append(append([]string(nil), ordinary...),
		"臺灣的發票規定：每兩個月為一期，字軌與號碼由財政部配發。營業稅率為百分之五。\n",
		"\tif err != nil {\r\n\t\treturn fmt.Errorf(\"count: %w\", err)\r\n\t}\r\n",
		"| 模型 | 輸入 | 輸出 |\n|---|---|---|\n| gpt-4.1 | NT$64.00 | NT$256.00 |\n",
		"3.14159 2718281828 1,000,000 ０１２３ ٠١٢٣ 12:34:56\n",
		"            \n\n\n\t\t  \u00a0\u3000  ",
		"They'RE sure it's ours; WE'LL see—isn’t it?\n",
	)
	rng := rand.New(rand.NewPCG(7, 11))
	var b strings.Builder
	b.Grow(size + 4096)
	for b.Len() < size {
		b.WriteString(parts[rng.IntN(len(parts))])
		b.WriteString([]string{" ", "\n", "\n\n", "\r\n", "\t", ""}[rng.IntN(6)])
	}
	s := b.String()[:size]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// BenchmarkCount counts mixed text of the sizes count_tokens takes (its
// body is at most 32 MiB); run it with -benchmem.
func BenchmarkCount(b *testing.B) {
	Warm()
	for _, size := range []int{1 << 20, 8 << 20} {
		s := mixed(size)
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				Count(s)
			}
		})
	}
}

// TestCountMemoryIsBounded: counting reads the text where it lies. Copying
// it as runes (four bytes a character) or allocating for every piece made a
// count of a 32 MiB body need more than 128 MiB at once, of a gateway
// that must stay within 200 MB; even one copy of the text is over this bound.
func TestCountMemoryIsBounded(t *testing.T) {
	Warm()
	s := mixed(8 << 20)
	want := Count(s[:1<<20]) // the first count of a size may warm caches
	if want == 0 {
		t.Fatal("no tokens in a MiB of text")
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n := Count(s)
	runtime.ReadMemStats(&after)
	if n < len(s)/8 {
		t.Fatalf("%d tokens for %d bytes", n, len(s))
	}
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(len(s)/16); got > limit {
		t.Fatalf("counting %d MiB allocated %d bytes in all, want at most %d (1/16 of the text)", len(s)>>20, got, limit)
	}
}
