package jsonkind

import (
	"reflect"
	"strings"
	"testing"
)

func TestOf(t *testing.T) {
	var n *int64
	for _, c := range []struct {
		v    any
		want string
	}{
		{int64(0), "an integer"},
		{n, "an integer"},
		{1.5, "a number"},
		{"", "a string"},
		{true, "true or false"},
		{[]string{}, "an array"},
		{struct{}{}, "an object"},
		{map[string]int{}, "an object"},
		{make(chan int), "a JSON value"},
	} {
		if got := Of(reflect.TypeOf(c.v)); got != c.want {
			t.Errorf("Of(%T) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestGot: both decoders' reports name the value alone, never the text
// that follows it in the body.
func TestGot(t *testing.T) {
	for _, c := range []struct{ v, want string }{
		{`"5,{\"type\":\"function\",\"function\":..."`, "5"}, // segmentio: the rest of the input, quoted
		{`"\"hot\""`, "a string"},
		{`"true}},{\"secret\":1}]"`, "true"},
		{`"[\"x\"]}}]"`, "an array"},
		{`"{\"a\":\"b\"}}"`, "an object"},
		{`"null"`, "null"},
		{`"-1.5e3]"`, "-1.5e3"},
		{`"` + strings.Repeat("9", 100) + `"`, strings.Repeat("9", 32) + "…"},
		{`"` + strings.Repeat("9", 32) + `}"`, strings.Repeat("9", 32)}, // at the bound: whole
		{`"1024,\"prompt\"]"`, "1024"},                                  // every digit, 0 too
		{`"x-secret prompt"`, "a JSON value"},                           // no number: none of the text
		{"number", "a number"},                                          // encoding/json: a description
		{"number 1.5", "1.5"},
		{"string", "a string"},
		{"bool", "true or false"},
		{"array", "an array"},
		{"object", "an object"},
		{"", "a JSON value"},
	} {
		if got := Got(c.v); got != c.want {
			t.Errorf("Got(%q) = %q, want %q", c.v, got, c.want)
		}
	}
}
