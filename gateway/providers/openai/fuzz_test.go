package openai

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

func FuzzOpenAIStream(f *testing.F) {
	f.Add(sixteenChunks())
	f.Add([]byte("data: {\"id\":\"a\\\"b\",\"choices\":[{\"delta\":{\"content\":\"\\\"finish_reason\\\":\\\"x\\\"\"},\"finish_reason\":null}],\"usage\":{\"prompt_tokens\":1,\"prompt_cache_hit_tokens\":1}}\n\ndata: {\"error\":{\"message\":\"m\"}}\n\n"))
	f.Add([]byte("data: {\"model\":\"x\",\"choices\": [ ] ,\"usage\":null}\r\n\r\ndata: [DONE]\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := DecodeResponse(b); err == nil {
			if _, err := json.Marshal(r.Response); err != nil {
				t.Fatal(err)
			}
		}
		s := newStream("openai", "m", io.NopCloser(bytes.NewReader(b)))
		s.SetIdentity("gen-1", 1700000000)
		defer s.Close()
		for range 100000 {
			chunk, err := s.Next()
			if err != nil {
				return
			}
			if len(chunk) == 0 || chunk[0] != '{' {
				t.Fatalf("chunk %q", chunk)
			}
		}
		t.Fatal("stream did not end")
	})
}

// FuzzOpenAIRewrite checks the member scanner: a well-formed chunk must
// come out well formed, with the gateway's id.
func FuzzOpenAIRewrite(f *testing.F) {
	f.Add([]byte(`{"id":"x","model":"m","choices":[{"delta":{"content":"a"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1}}`))
	f.Add([]byte(`{ "choices" : [ ] , "usage" : null , "id" : "\u0041" }`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newStream("openai", "m", io.NopCloser(bytes.NewReader(nil)))
		s.SetIdentity("gen-1", 1700000000)
		out, keep, err := s.rewrite(data)
		var obj map[string]any
		if json.Unmarshal(data, &obj) != nil || obj == nil {
			return
		}
		if _, hasErr := obj["error"]; hasErr || err != nil || !keep {
			return
		}
		var back map[string]any
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%s -> %s: %v", data, out, err)
		}
		if _, ok := obj["id"]; ok && back["id"] != "gen-1" {
			t.Fatalf("id not replaced: %s", out)
		}
		if _, ok := back["usage"]; ok {
			t.Fatalf("usage kept: %s", out)
		}
	})
}
