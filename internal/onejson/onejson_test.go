package onejson

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, ok := range []string{
		`{}`, `[]`, `1`, `"x"`, `null`, `{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}`,
		` {"a":[1,2,{"b":{}}],"A_":true} ` + "\n", `{"k":"a","kk":"a"}`, `[[[[]]]]`,
		`{"a":{},"b":[],"c":{"d":[]}}`,
		`{"a":"\ud83d\ude00 臺灣 café \\ud800 \"\\\u00e9"}`,
	} {
		if err := Check([]byte(ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{
		`{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"amount":1,"\u0061mount":2}`, `{"x":{"a":1,"b":2,"a":3}}`,
		`[{"a":1,"a":1}]`, `{"k":1,"\u212a":2}`, // the Kelvin sign folds to k, as encoding/json matches it
		`{"a":1} {"a":2}`, `{"a":1} x`, `{"a":1}]`, `{"a":1`, ``, `   `, `{"a":}`,
		// Text the decoder would turn into U+FFFD.
		"{\"a\":\"caf\xe9\"}", "{\"a\xff\":1}", `{"a":"\ud800"}`, `{"a":"x\uDC00"}`, `{"a":"\udc00\ud800"}`,
		`{"a":"\ud800\u0041"}`, `["\ud83d"]`,
	} {
		if err := Check([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	if err := Check([]byte(`{"amount":1,"Amount":2}`)); err == nil || !strings.Contains(err.Error(), `"Amount" is given twice`) {
		t.Errorf("the message names the key: %v", err)
	}
}

// Deep nesting is walked without recursion, and wide objects in linear time.
func TestCheckDeepAndWide(t *testing.T) {
	deep := strings.Repeat(`{"a":[`, 200000) + strings.Repeat(`]}`, 200000)
	if err := Check([]byte(deep)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("{")
	for i := range 100000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k`)
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(`":0`)
	}
	b.WriteString("}")
	if err := Check([]byte(b.String())); err == nil {
		t.Fatal("a wide object with repeated keys accepted")
	}
}
