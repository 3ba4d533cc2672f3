package chat

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

const userMsg = `"messages":[{"role":"user","content":"hi"}]`

// nested returns {"model":"m",messages,"x":<v nested depth deep>}: the
// object itself is one level, so the whole body nests depth+1 deep.
func nested(depth int, open, close string) string {
	return `{"model":"m",` + userMsg + `,"x":` + strings.Repeat(open, depth) + "1" + strings.Repeat(close, depth) + `}`
}

func TestCheckBodyBoundsTheNesting(t *testing.T) {
	for _, oc := range [][2]string{{"[", "]"}, {`{"a":`, "}"}} {
		if _, err := Parse([]byte(nested(MaxDepth-1, oc[0], oc[1]))); err != nil {
			t.Fatalf("%s: depth %d refused: %v", oc[0], MaxDepth, err)
		}
		_, err := Parse([]byte(nested(MaxDepth, oc[0], oc[1])))
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Message, "64 levels") {
			t.Fatalf("%s: depth %d: %v", oc[0], MaxDepth+1, err)
		}
	}
	// Brackets inside strings, escaped quotes included, are not nesting.
	deepText := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat(`[{\"`, 1000) + `"}]}`
	if _, err := Parse([]byte(deepText)); err != nil {
		t.Fatalf("brackets in a string: %v", err)
	}
	// Wide is fine: a million siblings at depth 2.
	wide := `{"model":"m",` + userMsg + `,"x":[` + strings.Repeat("1,", 1_000_000) + `1]}`
	if _, err := Parse([]byte(wide)); err != nil {
		t.Fatalf("wide: %v", err)
	}
}

func TestCheckBodyRefusesInvalidUTF8(t *testing.T) {
	ok := []string{`"é"`, `"臺灣"`, `"\ud83d\ude00"`, `"\u00e9\n\"\\"`, `"\uD83D\uDE00"`, "\"\U0001F600\""}
	bad := []string{"\"\xff\"", "\"\xe4\xb8\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", `"\ud800"`, `"\udfff"`, `"\ud800x"`, `"\ud800\u0041"`, `"\ud800\ud800"`}
	for _, s := range ok {
		if err := CheckBody([]byte(`{"c":` + s + `}`)); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	for _, s := range bad {
		err := CheckBody([]byte(`{"c":` + s + `}`))
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Message, "UTF-8") {
			t.Errorf("%q: %v", s, err)
		}
	}
}

// The scan itself takes no stack: 3,000,000 levels (6 MB) are refused at
// level 65, and the text after it is never looked at.
func TestCheckBodyOnAMillionsDeepBody(t *testing.T) {
	body := []byte(`{"x":` + strings.Repeat("[", 3_000_000) + strings.Repeat("]", 3_000_000) + `}`)
	if _, err := Parse(body); err == nil || !strings.Contains(err.Error(), "deeper") {
		t.Fatalf("err %v", err)
	}
}

// depthOf measures nesting with encoding/json's token reader, which keeps
// its own stack: an independent reference for the fuzz targets. ok is false
// when the body is not a single JSON value.
func depthOf(body []byte) (depth int, ok bool) {
	d := json.NewDecoder(strings.NewReader(string(body)))
	cur := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return depth, true
		}
		if err != nil {
			return 0, false
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			cur++
			depth = max(depth, cur)
		case json.Delim(']'), json.Delim('}'):
			cur--
		}
	}
}

// checkParsed is what every accepted body must satisfy.
func checkParsed(t *testing.T, body []byte, r *Request, err error) {
	t.Helper()
	if err != nil {
		var ve *ValidationError
		if !errors.As(err, &ve) || r != nil {
			t.Fatalf("error %T %v, request %v", err, err, r)
		}
		return
	}
	if !utf8.Valid(body) {
		t.Fatalf("accepted invalid UTF-8: %q", body)
	}
	if d, ok := depthOf(body); ok && d > MaxDepth {
		t.Fatalf("accepted depth %d", d)
	}
	for _, m := range r.Messages {
		if !utf8.ValidString(m.Content.String()) {
			t.Fatalf("content decoded to invalid UTF-8: %q", body)
		}
	}
}

// FuzzNesting builds bodies from a depth, a bracket pattern and a content
// string, so that the mutator reaches depths (up to 200,000) and byte
// sequences it would never type: the parser must refuse too deep or
// invalid text with a ValidationError, accept the rest, and never crash.
func FuzzNesting(f *testing.F) {
	f.Add(uint32(3), []byte("[{"), []byte("hi"))
	f.Add(uint32(MaxDepth-1), []byte("["), []byte("ok"))
	f.Add(uint32(MaxDepth), []byte("{"), []byte("ok"))
	f.Add(uint32(200_000), []byte("["), []byte("x"))
	f.Add(uint32(100_000), []byte("[{[{"), []byte(`\ud83d\ude00`))
	f.Add(uint32(1), []byte("["), []byte("caf\xe9"))
	f.Add(uint32(1), []byte("["), []byte(`\ud800`))
	f.Add(uint32(1), []byte("["), []byte(`\udc00\ud800`))
	f.Add(uint32(2), []byte("{"), []byte("\xed\xa0\x80"))
	f.Add(uint32(0), []byte(""), []byte(`]]]]}}}}"`))
	f.Fuzz(func(t *testing.T, depth uint32, pattern, text []byte) {
		depth %= 200_001
		if len(pattern) == 0 {
			pattern = []byte("[")
		}
		var b strings.Builder
		b.WriteString(`{"model":"m","messages":[{"role":"user","content":"`)
		b.Write(text)
		b.WriteString(`"}],"x":`)
		var closes []byte
		for i := 0; i < int(depth); i++ {
			if pattern[i%len(pattern)] == '{' {
				b.WriteString(`{"k":`)
				closes = append(closes, '}')
			} else {
				b.WriteByte('[')
				closes = append(closes, ']')
			}
		}
		b.WriteString("0")
		for i := len(closes) - 1; i >= 0; i-- {
			b.WriteByte(closes[i])
		}
		b.WriteByte('}')
		body := []byte(b.String())
		r, err := Parse(body)
		checkParsed(t, body, r, err)
		if err == nil && int(depth)+1 > MaxDepth {
			t.Fatalf("depth %d accepted", depth+1)
		}
		if err == nil && !utf8.Valid(text) {
			t.Fatalf("invalid text %q accepted", text)
		}
		// With plain text, a body too deep is refused for its depth: the
		// scan answers before the decoder could say anything else.
		plain := utf8.Valid(text) && !strings.ContainsAny(string(text), "\"\\")
		if plain && int(depth)+1 > MaxDepth && (err == nil || !strings.Contains(err.Error(), "levels")) {
			t.Fatalf("depth %d: %v", depth+1, err)
		}
	})
}

// The scanner that follows a body as it arrives agrees with CheckBody on
// depth, whatever the chunking.
func TestDepthScannerInPieces(t *testing.T) {
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{nested(MaxDepth-1, "[", "]"), true},
		{nested(MaxDepth, "[", "]"), false},
		{nested(MaxDepth, `{"a":`, "}"), false},
		{`{"s":"` + strings.Repeat(`[\"\\`, 500) + `"}`, true},
	} {
		for _, piece := range []int{1, 2, 3, 7, 1 << 20} {
			var d DepthScanner
			var err error
			for b := []byte(c.body); len(b) > 0 && err == nil; {
				n := min(piece, len(b))
				err = d.Write(b[:n])
				b = b[n:]
			}
			if (err == nil) != c.ok {
				t.Fatalf("%.40s… in pieces of %d: %v", c.body, piece, err)
			}
		}
	}
}
