package anthropic

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/routefree/routefree/gateway/chat"
)

func FuzzAnthropicTranslate(f *testing.F) {
	f.Add([]byte(toolsBody[:len(toolsBody)-3] + "}"))
	f.Add([]byte(`{"model":"a","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}},{"type":"file","file":{"file_data":"data:text/plain;base64,aGk="}}]},{"role":"assistant","content":"  "}],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"type":"object"}}}}`))
	f.Add([]byte(`{"model":"a","messages":[{"role":"tool","tool_call_id":"x","content":""},{"role":"assistant","tool_calls":[{"id":"i","type":"function","function":{"name":"f","arguments":"[1"}}]}]}`))
	f.Add([]byte(`{"model":"a","messages":[{"role":"user","content":"x"}],"max_tokens":3000,"temperature":0.5,"top_p":0.1,"reasoning":{"effort":"high","max_tokens":2000}}`))
	f.Add([]byte(`{"model":"a","messages":[{"role":"user","content":"x"}],"max_tokens":1000,"reasoning_effort":"low"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := chat.Parse(body)
		if err != nil {
			return
		}
		out, _, err := translate(req, "m")
		if err == nil && out.Thinking != nil && (out.Thinking.BudgetTokens < MinThinkingBudget || out.Thinking.BudgetTokens >= out.MaxTokens || out.Temperature != nil) {
			t.Fatalf("thinking %+v with max_tokens %d, temperature %v", out.Thinking, out.MaxTokens, out.Temperature)
		}
		if err != nil {
			return
		}
		b, err := json.Marshal(out)
		if err != nil || !json.Valid(b) {
			t.Fatalf("translated request does not encode: %v", err)
		}
	})
}

func FuzzAnthropicResponse(f *testing.F) {
	f.Add([]byte(`{"id":"m","content":[{"type":"text","text":"hi"},{"type":"tool_use","id":"t","name":"f","input":{"a":1}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}}`), true)
	f.Add([]byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":3}}}\n\n"+
		"data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\"}}\n\n"+
		"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\"}}\n\n"+
		"data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":4}}\n\ndata: {\"type\":\"message_stop\"}\n\n"), false)
	f.Fuzz(func(t *testing.T, b []byte, forced bool) {
		jsonTool := ""
		if forced {
			jsonTool = "f"
		}
		if r, err := decodeResponse(b, "m", jsonTool, nil); err == nil {
			if _, err := json.Marshal(r); err != nil {
				t.Fatal(err)
			}
		}
		s := newStream("anthropic", "m", jsonTool, io.NopCloser(bytes.NewReader(b)))
		defer s.Close()
		for range 10000 {
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
