package gemini

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/routefree/routefree/gateway/chat"
)

func FuzzGeminiTranslate(f *testing.F) {
	f.Add([]byte(`{"model":"g","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}},{"type":"input_audio","input_audio":{"data":"AA==","format":"mp3"}}]},` +
		`{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"{\"a\":1}"}],` +
		`"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":["integer","null"],"const":1}},"anyOf":[{"type":"object"}]}}}],"tool_choice":"none",` +
		`"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"array","items":{"type":"string"}}}}}`))
	f.Add([]byte(`{"model":"g","messages":[{"role":"user","content":"x"}],"max_tokens":100,"reasoning":{"effort":"high","max_tokens":99999}}`))
	f.Add([]byte(`{"model":"g","messages":[{"role":"user","content":"x"}],"reasoning_effort":"none"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := chat.Parse(body)
		if err != nil {
			return
		}
		out, err := translate(req, "gemini-2.5-pro")
		if err == nil && out.GenerationConfig != nil && out.GenerationConfig.ThinkingConfig != nil {
			if b := out.GenerationConfig.ThinkingConfig.ThinkingBudget; b == nil || *b < 128 || *b > 32768 {
				t.Fatalf("thinkingBudget %v outside 2.5 Pro's range", b)
			}
		}
		if err != nil {
			return
		}
		if b, err := json.Marshal(out); err != nil || !json.Valid(b) {
			t.Fatalf("translated request does not encode: %v", err)
		}
	})
}

func FuzzGeminiResponse(f *testing.F) {
	f.Add([]byte(`{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"},{"functionCall":{"name":"f","args":{"a":1}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"thoughtsTokenCount":1}}`))
	f.Add([]byte("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]},\"index\":1}],\"usageMetadata\":{\"promptTokenCount\":3}}\n\n" +
		"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]},\"finishReason\":\"MAX_TOKENS\",\"index\":1}]}\n\n" +
		"data: {\"error\":{\"code\":503,\"message\":\"x\"}}\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodeResponse(b, "m"); err == nil {
			if _, err := json.Marshal(r); err != nil {
				t.Fatal(err)
			}
		}
		s := newStream("google", "m", 1, io.NopCloser(bytes.NewReader(b)))
		defer s.Close()
		for range 100000 {
			chunk, err := s.Next()
			if err != nil {
				return
			}
			if !json.Valid(chunk) {
				t.Fatalf("invalid chunk %s", chunk)
			}
		}
		t.Fatal("stream did not end")
	})
}
