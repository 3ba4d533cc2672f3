package jsonkind

import (
	"strconv"
	"strings"
)

// maxNumber bounds a number repeated in a message: the client sent it, but
// a message need not carry a megabyte of digits back.
const maxNumber = 32

// Got names the value a decoder found where another kind was due, from the
// Value of its UnmarshalTypeError. encoding/json describes the value
// ("string", "number 1.5"); segmentio's decoder quotes the input from that
// value on, so the text after it (the rest of a tools array, a prompt) is in
// there too. Either way a number is given as written and any other value by
// its kind alone: "a string", "an array", "an object", true, false, null.
func Got(v string) string {
	if u, err := strconv.Unquote(v); err == nil {
		v = u
	}
	v = strings.TrimLeft(v, " \t\r\n")
	if n, ok := strings.CutPrefix(v, "number "); ok { // encoding/json's
		v = n
	}
	switch {
	case v == "":
		return "a JSON value"
	case v[0] == '"', v == "string":
		return "a string"
	case v[0] == '[', v == "array":
		return "an array"
	case v[0] == '{', v == "object":
		return "an object"
	case v == "number":
		return "a number"
	case v == "bool":
		return "true or false"
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if strings.HasPrefix(v, lit) {
			return lit
		}
	}
	if end := strings.IndexFunc(v, notNumber); end >= 0 {
		v = v[:end]
	}
	if v == "" {
		return "a JSON value"
	}
	if len(v) > maxNumber {
		return v[:maxNumber] + "…"
	}
	return v
}

func notNumber(r rune) bool {
	return !(r >= '0' && r <= '9' || r == '-' || r == '+' || r == '.' || r == 'e' || r == 'E')
}
