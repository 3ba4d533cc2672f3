// Package onejson checks that a request body says one thing: a single JSON
// value whose objects name each key once.
//
// encoding/json keeps the last of a key given twice and matches struct
// fields regardless of letter case, so {"amount":"1000","AMOUNT":"999999"}
// decodes as 999999 while a reviewer, a log or a proxy in front may read
// 1000. It also stops after the first value, ignoring what follows, and
// quietly turns text that is not valid UTF-8 (a raw invalid byte, or a \u
// escape of half a UTF-16 surrogate pair) into U+FFFD, so that what is
// stored is not what was sent.
package onejson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Check reports why b is not exactly one JSON value of valid UTF-8 text
// with no key repeated within an object (keys compared as encoding/json
// matches fields: after unescaping, regardless of letter case), or nil. It
// keeps a stack of the open containers rather than recursing, so nesting
// costs no stack.
func Check(b []byte) error {
	if err := checkText(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers are skipped, never converted
	var open []*container
	for {
		t, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
		// Between an object's members the decoder gives a key or '}'.
		if k, ok := t.(string); ok && len(open) > 0 && open[len(open)-1].wantKey {
			if err := open[len(open)-1].add(k); err != nil {
				return err
			}
			continue
		}
		switch t {
		case json.Delim('{'):
			open = append(open, &container{keys: map[string]bool{}, wantKey: true})
			continue
		case json.Delim('['):
			open = append(open, &container{})
			continue
		case json.Delim('}'), json.Delim(']'):
			open = open[:len(open)-1]
		}
		// A value has ended: the body's, or one inside a container.
		if len(open) == 0 {
			break
		}
		open[len(open)-1].wantKey = open[len(open)-1].keys != nil
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("something follows the JSON value")
	}
	return nil
}

// checkText refuses bytes that are not UTF-8 and, inside strings, a \u
// escape of a UTF-16 surrogate that is not one half of a pair in order.
// The JSON grammar is left to the decoder.
func checkText(b []byte) error {
	if !utf8.Valid(b) {
		return errors.New("not valid UTF-8 text")
	}
	inString := false
	for i := 0; i < len(b); i++ {
		switch {
		case !inString:
			inString = b[i] == '"'
		case b[i] == '"':
			inString = false
		case b[i] == '\\' && i+1 < len(b) && b[i+1] == 'u':
			r, ok := hex4(b, i+2)
			if !ok { // not an escape: the decoder says so
				i++
				continue
			}
			if utf16.IsSurrogate(r) {
				lo, ok := rune(0), false
				if i+11 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
					lo, ok = hex4(b, i+8)
				}
				if r >= 0xDC00 || !ok || lo < 0xDC00 || lo > 0xDFFF {
					return fmt.Errorf("not valid UTF-8 text: the escape \\u%04x at byte %d is half of a UTF-16 surrogate pair", r, i)
				}
				i += 6
			}
			i += 5
		case b[i] == '\\':
			i++ // the escaped byte cannot end the string
		}
	}
	return nil
}

// hex4 decodes the four hex digits at b[i:i+4].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[i:i+4]), 16, 16)
	return rune(n), err == nil
}

// container is an open object (its keys so far, folded) or array (nil keys).
type container struct {
	keys    map[string]bool
	wantKey bool // an object between members: a key or '}' comes next
}

func (c *container) add(k string) error {
	f := fold(k)
	if c.keys[f] {
		return fmt.Errorf("key %q is given twice in one object", k)
	}
	c.keys[f] = true
	c.wantKey = false
	return nil
}

// fold maps every letter to one member of its case-folding orbit (the
// smallest), so that keys encoding/json would take for one field compare
// equal.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}
