package providertest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

func anthropicError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, obj{"type": "error", "error": obj{"type": typ, "message": msg}})
}

func anthropicErrorType(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status == 529:
		return "overloaded_error"
	case status >= 500:
		return "api_error"
	case status == http.StatusUnauthorized:
		return "authentication_error"
	}
	return "invalid_request_error"
}

// thinkingTurnError is Anthropic's rule for thinking requests: the last
// assistant message, when it has tool calls that the request answers, must
// start with its thinking block, signed as this fake signs them.
func thinkingTurnError(messages []json.RawMessage) string {
	type block struct {
		Type      string `json:"type"`
		Signature string `json:"signature"`
	}
	for i := len(messages) - 1; i >= 0; i-- {
		var m struct {
			Role    string  `json:"role"`
			Content []block `json:"content"`
		}
		if json.Unmarshal(messages[i], &m) != nil || m.Role != "assistant" {
			continue
		}
		uses := false
		for _, b := range m.Content {
			uses = uses || b.Type == "tool_use"
		}
		if !uses {
			return ""
		}
		if len(m.Content) == 0 || m.Content[0].Type != "thinking" {
			return "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `" + m.Content[0].Type + "`. When `thinking` is enabled, a final `assistant` message must start with a thinking block."
		}
		if m.Content[0].Signature != fakeSignature {
			return "messages.1.content.0: Invalid `signature` in `thinking` block"
		}
		return ""
	}
	return ""
}

// hasToolBlocks reports tool_use or tool_result blocks in the messages,
// which Anthropic accepts only in a request that defines tools.
func hasToolBlocks(messages []json.RawMessage) bool {
	for _, raw := range messages {
		var m struct {
			Content []struct {
				Type string `json:"type"`
			} `json:"content"`
		}
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		for _, b := range m.Content {
			if b.Type == "tool_use" || b.Type == "tool_result" {
				return true
			}
		}
	}
	return false
}

// blankTextError is Anthropic's refusal of a text block or a stop
// sequence that is empty or of whitespace alone, in the system prompt, a
// message or a tool result; "" when there is none.
func blankTextError(system json.RawMessage, messages []json.RawMessage, stop []string) string {
	for _, s := range stop {
		if s == "" {
			return "stop_sequences: each stop sequence must be non-empty"
		}
		if strings.TrimSpace(s) == "" {
			return "stop_sequences: each stop sequence must contain non-whitespace"
		}
	}
	type textBlock struct {
		Type    string          `json:"type"`
		Text    string          `json:"text"`
		Content json.RawMessage `json:"content"`
	}
	var blank func(raw json.RawMessage) string
	blank = func(raw json.RawMessage) string {
		var blocks []textBlock
		if json.Unmarshal(raw, &blocks) != nil {
			return "" // a plain string, or none
		}
		for _, b := range blocks {
			switch {
			case b.Type == "text" && b.Text == "":
				return "text content blocks must be non-empty"
			case b.Type == "text" && strings.TrimSpace(b.Text) == "":
				return "text content blocks must contain non-whitespace text"
			case b.Type == "tool_result":
				if msg := blank(b.Content); msg != "" {
					return msg
				}
			}
		}
		return ""
	}
	if msg := blank(system); msg != "" {
		return "system: " + msg
	}
	for _, raw := range messages {
		var m struct {
			Content json.RawMessage `json:"content"`
		}
		if json.Unmarshal(raw, &m) == nil {
			if msg := blank(m.Content); msg != "" {
				return "messages: " + msg
			}
		}
	}
	return ""
}

// outputFormatError is Anthropic's check of structured outputs
// (output_config.format): a json_schema whose objects all set
// additionalProperties false, with none of the keywords it does not take
// (numeric and string bounds, patterns…).
func outputFormatError(typ string, schema any) string {
	if typ != "json_schema" {
		return "output_config.format.type: Input should be 'json_schema'"
	}
	supported := map[string]bool{"type": true, "properties": true, "required": true, "additionalProperties": true,
		"items": true, "enum": true, "const": true, "anyOf": true, "allOf": true, "$ref": true, "$defs": true,
		"definitions": true, "description": true, "title": true, "format": true, "minItems": true, "default": true}
	var check func(v any, at string) string
	check = func(v any, at string) string {
		m, ok := v.(map[string]any)
		if !ok {
			return at + ": a schema must be an object"
		}
		for k, sub := range m {
			if !supported[k] {
				return "output_config.format.schema: For '" + k + "' at " + at + ": this keyword is not supported"
			}
			switch k {
			case "properties", "$defs", "definitions":
				subs, _ := sub.(map[string]any)
				for name, s := range subs {
					if msg := check(s, at+"."+k+"."+name); msg != "" {
						return msg
					}
				}
			case "items":
				if msg := check(sub, at+".items"); msg != "" {
					return msg
				}
			case "anyOf", "allOf":
				list, _ := sub.([]any)
				for i, s := range list {
					if msg := check(s, at+"."+k+"."+strconv.Itoa(i)); msg != "" {
						return msg
					}
				}
			case "minItems":
				if n, _ := sub.(float64); n > 1 {
					return "output_config.format.schema: minItems values other than 0 or 1 are not supported"
				}
			}
		}
		if m["type"] == "object" && m["additionalProperties"] != false {
			return "output_config.format.schema: For 'object' type at " + at + ", 'additionalProperties' must be explicitly set to false"
		}
		return ""
	}
	return check(schema, "$")
}

// toolIDError is Anthropic's check of tool IDs: every tool_use id and
// tool_result tool_use_id of the pattern ^[a-zA-Z0-9_-]+$, and every
// tool_result answering a tool_use of the message before it.
func toolIDError(messages []json.RawMessage) string {
	valid := func(id string) bool {
		for _, c := range id {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return false
			}
		}
		return id != ""
	}
	used := map[string]bool{} // the tool_use ids of the previous message
	for i, raw := range messages {
		var m struct {
			Content []struct {
				Type      string `json:"type"`
				ID        string `json:"id"`
				ToolUseID string `json:"tool_use_id"`
			} `json:"content"`
		}
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		next := map[string]bool{}
		for j, b := range m.Content {
			at := "messages." + strconv.Itoa(i) + ".content." + strconv.Itoa(j)
			switch b.Type {
			case "tool_use":
				if !valid(b.ID) {
					return at + ".tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'"
				}
				next[b.ID] = true
			case "tool_result":
				if !valid(b.ToolUseID) {
					return at + ".tool_result.tool_use_id: String should match pattern '^[a-zA-Z0-9_-]+$'"
				}
				if !used[b.ToolUseID] {
					return at + ": unexpected `tool_use_id` found in `tool_result` blocks: " + b.ToolUseID +
						". Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
				}
			}
		}
		used = next
	}
	return ""
}

// fakeSignature signs every thinking block this fake writes.
const fakeSignature = "c2ln"

func serveAnthropic(w http.ResponseWriter, r *http.Request, body []byte, s Script) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		anthropicError(w, http.StatusNotFound, "not_found_error", "unknown path "+r.URL.Path)
		return
	}
	if r.Header.Get("x-api-key") == "" {
		anthropicError(w, http.StatusUnauthorized, "authentication_error", "x-api-key header is required")
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version header is required")
		return
	}
	var req struct {
		Model       string            `json:"model"`
		MaxTokens   int               `json:"max_tokens"`
		Stream      bool              `json:"stream"`
		Messages    []json.RawMessage `json:"messages"`
		Tools       []json.RawMessage `json:"tools"`
		Temperature *float64          `json:"temperature"`
		TopP        *float64          `json:"top_p"`
		Stop        []string          `json:"stop_sequences"`
		System      json.RawMessage   `json:"system"`
		ToolChoice  *struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"tool_choice"`
		Thinking *struct {
			Type string `json:"type"`
		} `json:"thinking"`
		OutputConfig *struct {
			Format *struct {
				Type   string `json:"type"`
				Schema any    `json:"schema"`
			} `json:"format"`
		} `json:"output_config"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "bad JSON: "+err.Error())
		return
	}
	if req.Thinking != nil && req.Thinking.Type == "enabled" {
		if msg := thinkingTurnError(req.Messages); msg != "" {
			anthropicError(w, http.StatusBadRequest, "invalid_request_error", msg)
			return
		}
	}
	if req.Temperature != nil && req.TopP != nil {
		// As Claude's models since Sonnet 4.5 refuse.
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "`temperature` and `top_p` cannot both be specified for this model. Please use only one.")
		return
	}
	if msg := blankTextError(req.System, req.Messages, req.Stop); msg != "" {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	if len(req.Tools) == 0 && hasToolBlocks(req.Messages) {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "Requests which include `tool_use` or `tool_result` blocks must define tools.")
		return
	}
	if oc := req.OutputConfig; oc != nil && oc.Format != nil {
		if msg := outputFormatError(oc.Format.Type, oc.Format.Schema); msg != "" {
			anthropicError(w, http.StatusBadRequest, "invalid_request_error", msg)
			return
		}
	}
	for i, raw := range req.Tools {
		var t struct {
			Strict      bool `json:"strict"`
			InputSchema any  `json:"input_schema"`
		}
		if json.Unmarshal(raw, &t) == nil && t.Strict {
			// Strict tool use compiles the input schema as structured
			// outputs compile output_config.format's.
			if msg := outputFormatError("json_schema", t.InputSchema); msg != "" {
				anthropicError(w, http.StatusBadRequest, "invalid_request_error",
					strings.Replace(msg, "output_config.format.schema", "tools."+strconv.Itoa(i)+".input_schema", 1))
				return
			}
		}
	}
	if msg := toolIDError(req.Messages); msg != "" {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	if len(req.Messages) == 0 {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "messages: at least one message is required")
		return
	}
	if req.MaxTokens <= 0 {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "max_tokens: field required")
		return
	}
	if s.Status >= 300 {
		if s.RetryAfter != "" {
			w.Header().Set("Retry-After", s.RetryAfter)
		}
		msg := s.ErrorMessage
		if msg == "" {
			msg = http.StatusText(s.Status)
		}
		anthropicError(w, s.Status, anthropicErrorType(s.Status), msg)
		return
	}
	model := s.Model
	if model == "" {
		model = req.Model
	}
	// A forced tool (how structured output is asked for) answers with
	// that tool's input, as Claude does.
	text, calls := s.Text, s.ToolCalls
	if req.ToolChoice != nil && req.ToolChoice.Type == "tool" && len(calls) == 0 {
		args := s.Text
		if !json.Valid([]byte(args)) {
			args = string(mustJSON(obj{"text": s.Text}))
		}
		text, calls = "", []ToolCall{{ID: "toolu_forced", Name: req.ToolChoice.Name, Arguments: args}}
	}
	stop := map[string]string{"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}[s.finish()]
	if len(calls) > 0 && s.FinishReason == "" {
		stop = "tool_use"
	}
	u := s.usage()
	usage := obj{"input_tokens": u.Prompt - u.Cached - u.CacheWrite, "cache_read_input_tokens": u.Cached,
		"cache_creation_input_tokens": u.CacheWrite, "output_tokens": u.Completion}
	id := "msg_fake123"
	toolID := func(i int) string {
		if calls[i].ID != "" {
			return calls[i].ID
		}
		return "toolu_" + string(rune('a'+i%26)) + "fake"
	}
	if !req.Stream {
		var content []obj
		if s.Reasoning != "" {
			content = append(content, obj{"type": "thinking", "thinking": s.Reasoning, "signature": fakeSignature})
		}
		if text != "" {
			content = append(content, obj{"type": "text", "text": text})
		}
		for i, tc := range calls {
			content = append(content, obj{"type": "tool_use", "id": toolID(i), "name": tc.Name, "input": json.RawMessage(tc.Arguments)})
		}
		writeJSON(w, http.StatusOK, obj{"id": id, "type": "message", "role": "assistant", "model": model,
			"content": content, "stop_reason": stop, "stop_sequence": nil, "usage": usage})
		return
	}
	e := startSSE(w, r, s)
	ev := func(v obj) { e.send(v["type"].(string), mustJSON(v)) }
	startUsage := obj{"input_tokens": usage["input_tokens"], "cache_read_input_tokens": u.Cached,
		"cache_creation_input_tokens": u.CacheWrite, "output_tokens": 1}
	ev(obj{"type": "message_start", "message": obj{"id": id, "type": "message", "role": "assistant", "model": model,
		"content": []obj{}, "stop_reason": nil, "stop_sequence": nil, "usage": startUsage}})
	ev(obj{"type": "ping"})
	if s.ErrorFirst {
		ev(obj{"type": "error", "error": obj{"type": "overloaded_error", "message": "Overloaded"}})
		return
	}
	block := 0
	sent := 0
	maybeCut := func() {
		sent++
		if s.CutAfter > 0 && sent >= s.CutAfter {
			if s.ErrorEvent {
				msg, typ := s.eventError("Overloaded", "overloaded_error")
				ev(obj{"type": "error", "error": obj{"type": typ, "message": msg}})
			}
			e.cut()
		}
	}
	if s.Reasoning != "" {
		ev(obj{"type": "content_block_start", "index": block, "content_block": obj{"type": "thinking", "thinking": ""}})
		ev(obj{"type": "content_block_delta", "index": block, "delta": obj{"type": "thinking_delta", "thinking": s.Reasoning}})
		ev(obj{"type": "content_block_delta", "index": block, "delta": obj{"type": "signature_delta", "signature": fakeSignature}})
		ev(obj{"type": "content_block_stop", "index": block})
		block++
	}
	if text != "" {
		ev(obj{"type": "content_block_start", "index": block, "content_block": obj{"type": "text", "text": ""}})
		for _, piece := range split(text, s.chunks()) {
			ev(obj{"type": "content_block_delta", "index": block, "delta": obj{"type": "text_delta", "text": piece}})
			maybeCut()
		}
		ev(obj{"type": "content_block_stop", "index": block})
		block++
	}
	for i, tc := range calls {
		ev(obj{"type": "content_block_start", "index": block, "content_block": obj{"type": "tool_use", "id": toolID(i), "name": tc.Name, "input": obj{}}})
		pieces := split(tc.Arguments, 3)
		if tc.Arguments == "{}" || tc.Arguments == "" {
			pieces = []string{""} // Claude streams an empty input as one empty delta
		}
		for _, piece := range pieces {
			ev(obj{"type": "content_block_delta", "index": block, "delta": obj{"type": "input_json_delta", "partial_json": piece}})
			maybeCut()
		}
		ev(obj{"type": "content_block_stop", "index": block})
		block++
	}
	ev(obj{"type": "message_delta", "delta": obj{"stop_reason": stop, "stop_sequence": nil}, "usage": obj{"output_tokens": u.Completion}})
	ev(obj{"type": "message_stop"})
}
