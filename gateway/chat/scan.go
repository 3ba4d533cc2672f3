package chat

import "unicode/utf8"

// MaxDepth is how deeply a request body may nest JSON objects and arrays,
// the body's own braces included. Tool and response schemas need some depth;
// 64 leaves room for any real one, while a body nested millions deep (which
// would exhaust the stack of a recursive decoder) is refused by a flat scan.
const MaxDepth = 64

// MaxTokenCount bounds every token count a request may carry (max_tokens,
// max_completion_tokens, reasoning.max_tokens). No model comes close; a
// larger number is a mistake or an attack, refused before any arithmetic.
const MaxTokenCount = 100_000_000

// CheckBody scans a request body once, without recursion and without
// allocating, before any decoder sees it: the nesting must stay within
// MaxDepth, and the text must be valid UTF-8, escapes included (a \u escape
// of a lone UTF-16 surrogate stands for no character and has no UTF-8 form).
// It does not check the JSON grammar; the decoder does that next.
func CheckBody(body []byte) error {
	if !utf8.Valid(body) {
		return invalid("", "request body is not valid UTF-8 (byte %d)", firstInvalid(body))
	}
	depth := 0
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if inString {
			switch c {
			case '"':
				inString = false
			case '\\':
				n, err := checkEscape(body, i)
				if err != nil {
					return err
				}
				i += n
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > MaxDepth {
				return invalid("", "request body nests JSON objects and arrays deeper than %d levels", MaxDepth)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// firstInvalid is the offset of the first byte that is not valid UTF-8.
func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// DepthScanner follows the nesting of a body as it arrives, so that a body
// nested too deep is refused at its 65th level without reading the rest.
// CheckBody still checks the whole body once it is read.
type DepthScanner struct {
	depth    int
	inString bool
	escaped  bool // the previous byte was a backslash inside a string
}

// Write scans the next bytes of the body. The state lives in locals while
// it runs: this loop sees every byte of every request.
func (d *DepthScanner) Write(p []byte) error {
	depth, inString, escaped := d.depth, d.inString, d.escaped
	defer func() { d.depth, d.inString, d.escaped = depth, inString, escaped }()
	for i := 0; i < len(p); i++ {
		c := p[i]
		if inString {
			if escaped {
				escaped = false
				continue
			}
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > MaxDepth {
				return invalid("", "request body nests JSON objects and arrays deeper than %d levels", MaxDepth)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// checkEscape looks at the escape starting at body[i] ('\\') and returns how
// many bytes after i it covers. Only \u escapes need care: a high surrogate
// must be followed at once by a low one, and a low one must not stand alone.
func checkEscape(body []byte, i int) (int, error) {
	if i+1 >= len(body) {
		return 0, nil // the decoder reports the unterminated string
	}
	if body[i+1] != 'u' {
		return 1, nil
	}
	r, ok := hex4(body, i+2)
	if !ok {
		return 1, nil // not an escape the decoder accepts: it says so
	}
	switch {
	case r >= 0xDC00 && r <= 0xDFFF:
		return 0, surrogateError(i, r)
	case r >= 0xD800 && r <= 0xDBFF:
		if i+11 < len(body) && body[i+6] == '\\' && body[i+7] == 'u' {
			if lo, ok := hex4(body, i+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				return 11, nil
			}
		}
		return 0, surrogateError(i, r)
	}
	return 5, nil
}

func surrogateError(at int, r rune) error {
	return invalid("", "request body is not valid UTF-8: the escape \\u%04x at byte %d is half of a UTF-16 surrogate pair", r, at)
}

// hex4 decodes the four hex digits at body[i:i+4].
func hex4(body []byte, i int) (rune, bool) {
	if i+4 > len(body) {
		return 0, false
	}
	var r rune
	for _, c := range body[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// tokenCount checks a token count the client sent.
func tokenCount(param string, v *int) error {
	if v == nil {
		return nil
	}
	if *v < 1 || *v > MaxTokenCount {
		return invalid(param, "must be a whole number of tokens from 1 to %d, got %d", MaxTokenCount, *v)
	}
	return nil
}
