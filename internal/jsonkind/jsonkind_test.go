package jsonkind

import (
	"reflect"
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
