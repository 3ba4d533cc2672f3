package server

import (
	"bytes"
	"encoding/json"

	"github.com/routefree/routefree/gateway/chat"
)

// excludesReasoning: the client asked, with OpenRouter's
// reasoning.exclude, for the model to reason without the text coming back.
func excludesReasoning(r *chat.Request) bool {
	return r != nil && r.ExcludeReasoning
}

var reasoningKey = []byte(`"reasoning`)

// withoutReasoning removes reasoning text (reasoning, reasoning_content,
// reasoning_details) from a chunk's deltas; keep is false when nothing is
// left to send. Chunks without such a key come back as they are: the
// decoding is paid only by streams that asked to exclude reasoning and
// got some.
func withoutReasoning(chunk []byte) (out []byte, keep bool) {
	if !bytes.Contains(chunk, reasoningKey) {
		return chunk, true
	}
	var c map[string]json.RawMessage
	if json.Unmarshal(chunk, &c) != nil {
		return chunk, true
	}
	var choices []map[string]json.RawMessage
	if json.Unmarshal(c["choices"], &choices) != nil {
		return chunk, true
	}
	left := false
	for _, ch := range choices {
		var d map[string]json.RawMessage
		if json.Unmarshal(ch["delta"], &d) == nil {
			delete(d, "reasoning")
			delete(d, "reasoning_content")
			delete(d, "reasoning_details")
			ch["delta"], _ = json.Marshal(d)
			if len(d) > 0 {
				left = true
			}
		}
		if f := ch["finish_reason"]; len(f) > 0 && string(f) != "null" {
			left = true
		}
	}
	if u := c["usage"]; len(u) > 0 && string(u) != "null" {
		left = true
	}
	if !left {
		return nil, false
	}
	c["choices"], _ = json.Marshal(choices)
	out, err := json.Marshal(c)
	if err != nil {
		return chunk, true
	}
	return out, true
}
