package chat

import (
	"encoding/json"
	"testing"
)

// forceIncludeUsage keeps every option a client sent and sets
// include_usage: the bytes read back as the client's object with
// include_usage true.
func TestForceIncludeUsageKeepsTheClientsOptions(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{``, `{"include_usage":true}`},
		{`null`, `{"include_usage":true}`},
		{`{}`, `{"include_usage":true}`},
		{`{"include_usage":true}`, `{"include_usage":true}`},
		{` { "include_usage" : false } `, `{"include_usage":true}`},
		{`{"include_usage":true,"include_obfuscation":false}`, `{"include_obfuscation":false,"include_usage":true}`},
		{`{"include\u005fusage":false}`, `{"include_usage":true}`},
	} {
		got, err := forceIncludeUsage(RawJSON(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%s gave %s: %v", c.in, got, err)
		}
		_ = json.Unmarshal([]byte(c.want), &w)
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			t.Errorf("%s gave %s, want %s", c.in, got, c.want)
		}
	}
	if _, err := forceIncludeUsage(RawJSON(`{"include_usage":`)); err == nil {
		t.Error("a broken object was passed on")
	}
}

// Most streaming clients send stream_options with include_usage alone (the
// SDKs' own option): its rewrite allocates nothing, where decoding it into
// a map took a dozen allocations on every streamed request.
func TestForceIncludeUsageOfTheUsualOptionAllocatesNothing(t *testing.T) {
	so := RawJSON(`{"include_usage": true}`)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := forceIncludeUsage(so); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%.0f allocations", n)
	}
}
