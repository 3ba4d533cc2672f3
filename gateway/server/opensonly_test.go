package server

import "testing"

func TestOpensOnly(t *testing.T) {
	for _, c := range []struct {
		chunk string
		want  bool
	}{
		{`{"id":"1","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}`, true},
		{`{"id":"1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`, true},
		{`{"choices":[{"delta":{"role":"assistant","content":null,"tool_calls":[]}}]}`, true},
		{`{"choices":[{"delta":null}]}`, true},
		{` { "choices" : [ { "delta" : { "role" : "assistant" } } , { "delta" : {} } ] } `, true},
		{`{"choices":[{"delta":{"role":"assistant","content":"Hi"}}]}`, false},
		{`{"choices":[{"delta":{"content":"Hi"}}]}`, false},
		{`{"choices":[{"delta":{"role":"assistant","tool_calls":[{"index":0}]}}]}`, false},
		{`{"choices":[{"delta":{"role":"assistant"},"finish_reason":"stop"}]}`, false},
		{`{"choices":[{"delta":{"role":"assistant"}},{"delta":{"content":"x"}}]}`, false},
		{`{"choices":[]}`, false},
		{`{"id":"1"}`, false},
		{`{"choices":[{"delta":"role"}]}`, false},
		{`{"choices":{"delta":{}}}`, false},
		{`{"choices":[{"delta":{"role":"assistant"}}]`, false},
		{`{"choices":[{"delta":{"role":"assistant"}}]} x`, false},
		{`[]`, false},
		{``, false},
	} {
		if got := opensOnly([]byte(c.chunk)); got != c.want {
			t.Errorf("opensOnly(%s) = %v, want %v", c.chunk, got, c.want)
		}
	}
}

func BenchmarkOpensOnly(b *testing.B) {
	c := []byte(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if !opensOnly(c) {
			b.Fatal("an opening chunk read as content")
		}
	}
}
