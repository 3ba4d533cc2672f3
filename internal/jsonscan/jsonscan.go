// Package jsonscan walks JSON bytes without decoding them: a minimal
// scanner over an object's top-level members and an array's elements. The
// relays rewrite "id" and "model" and lift "usage" out of each chunk
// without decoding the rest, which keeps a pass-through chunk
// allocation-free.
package jsonscan

import "bytes"

// Space returns the index of the first non-space byte at or after i.
func Space(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// String returns the index just past the string starting at b[i]=='"', or -1.
// It looks for the next quote with bytes.IndexByte (vectorized: a long
// content string is most of an answer's bytes) and counts the backslashes
// before it: an odd number escapes it.
func String(b []byte, i int) int {
	for i++; i < len(b); {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return -1
		}
		q := i + j
		n := 0
		for k := q - 1; k >= i && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
	return -1
}

// Value returns the index just past the value starting at i, or -1.
// It checks nesting but not every detail of literals: the upstream's JSON
// is trusted to be well formed, and a chunk that is not is still bounded.
func Value(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return String(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				j := String(b, i)
				if j < 0 {
					return -1
				}
				i = j - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	start := i
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if i == start {
				return -1
			}
			return i
		}
		i++
	}
	return -1
}

// Member is one top-level "key": value of an object.
type Member struct {
	Key, Value []byte // key without quotes (escapes kept), raw value
}

// Members calls fn for each top-level member of the object in b and
// reports whether b was a well-formed object at the top level.
func Members(b []byte, fn func(m Member)) bool {
	i := Space(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = Space(b, i+1)
	if i < len(b) && b[i] == '}' {
		return Space(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		k := String(b, i)
		if k < 0 {
			return false
		}
		key := b[i+1 : k-1]
		i = Space(b, k)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = Space(b, i+1)
		j := Value(b, i)
		if j < 0 {
			return false
		}
		fn(Member{Key: key, Value: b[i:j]})
		i = Space(b, j)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			return Space(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return false
		}
		i = Space(b, i+1)
	}
}

// Elements calls fn for each element of the array in b and reports
// whether b was a well-formed array at the top level.
func Elements(b []byte, fn func(v []byte)) bool {
	i := Space(b, 0)
	if i >= len(b) || b[i] != '[' {
		return false
	}
	i = Space(b, i+1)
	if i < len(b) && b[i] == ']' {
		return Space(b, i+1) == len(b)
	}
	for {
		j := Value(b, i)
		if j < 0 {
			return false
		}
		fn(b[i:j])
		i = Space(b, j)
		if i >= len(b) {
			return false
		}
		if b[i] == ']' {
			return Space(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return false
		}
		i = Space(b, i+1)
	}
}
