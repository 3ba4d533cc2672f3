// Package onejson checks that a request body says one thing: a single JSON
// value whose objects name each key once.
//
// encoding/json keeps the last of a key given twice and matches struct
// fields regardless of letter case, so {"amount":"1000","AMOUNT":"999999"}
// decodes as 999999 while a reviewer, a log or a proxy in front may read
// 1000. It also stops after the first value, ignoring what follows.
package onejson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Check reports why b is not exactly one JSON value with no key repeated
// within an object (keys compared as encoding/json matches fields: after
// unescaping, regardless of letter case), or nil. It keeps a stack of the
// open containers rather than recursing, so nesting costs no stack.
func Check(b []byte) error {
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
