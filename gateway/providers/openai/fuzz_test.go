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
		s.SetID("gen-1")
		defer s.Close()
		for range 100000 {
			chunk, err := s.Next()
			if err != nil {
				return
			}
			// The relay re-emits upstream members unchecked; it must at least
			// keep a well-formed upstream chunk well formed.
			if !bytes.Contains(chunk, []byte(`{`)) {
				t.Fatalf("chunk %q", chunk)
			}
		}
		t.Fatal("stream did not end")
	})
}
