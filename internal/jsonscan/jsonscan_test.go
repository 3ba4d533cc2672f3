package jsonscan

import (
	"slices"
	"testing"
)

func TestMembers(t *testing.T) {
	var got []string
	ok := Members([]byte(` {"a":1, "b\"c" : {"x":[1,"]"]}, "d":"}"} `), func(m Member) {
		got = append(got, string(m.Key)+"="+string(m.Value))
	})
	if want := []string{`a=1`, `b\"c={"x":[1,"]"]}`, `d="}"`}; !ok || !slices.Equal(got, want) {
		t.Fatalf("Members: %v %q, want true %q", ok, got, want)
	}
	for _, bad := range []string{``, `[]`, `{"a"}`, `{"a":}`, `{"a":1`, `{"a":1,}`, `{"a":1} x`, `{a:1}`} {
		if Members([]byte(bad), func(Member) {}) {
			t.Errorf("Members(%s) = true, want false", bad)
		}
	}
}

func TestElements(t *testing.T) {
	var got []string
	ok := Elements([]byte(` [ 1 , "a,]" ,{"b":[2]}, null ] `), func(v []byte) { got = append(got, string(v)) })
	if want := []string{`1`, `"a,]"`, `{"b":[2]}`, `null`}; !ok || !slices.Equal(got, want) {
		t.Fatalf("Elements: %v %q, want true %q", ok, got, want)
	}
	if n := 0; !Elements([]byte(`[]`), func([]byte) { n++ }) || n != 0 {
		t.Errorf("Elements([]): want true and no element")
	}
	for _, bad := range []string{``, `{}`, `[1`, `[1,]`, `[1 2]`, `[1] x`, `[,1]`} {
		if Elements([]byte(bad), func([]byte) {}) {
			t.Errorf("Elements(%s) = true, want false", bad)
		}
	}
}
