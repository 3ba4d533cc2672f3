package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// This file renders the chat pipeline's OpenAI-shaped answers as Anthropic
// Messages answers: whole messages, stream events and errors. No I/O.

// oaUsage is the usage object of a chat answer, as much as Messages needs.
type oaUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails *struct {
		CachedTokens     int `json:"cached_tokens"`
		CacheWriteTokens int `json:"cache_write_tokens"`
	} `json:"prompt_tokens_details"`
	Cost json.RawMessage `json:"cost"`
}

// msgUsage is Anthropic's usage: input_tokens excludes cache reads and
// cache writes, which have fields of their own. cost is RouteFree's NTD
// charge, an extra field SDKs ignore.
type msgUsage struct {
	InputTokens              int             `json:"input_tokens"`
	OutputTokens             int             `json:"output_tokens"`
	CacheReadInputTokens     int             `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int             `json:"cache_creation_input_tokens"`
	Cost                     json.RawMessage `json:"cost,omitempty"`
}

func (u *oaUsage) messages() msgUsage {
	if u == nil {
		return msgUsage{}
	}
	read, written := 0, 0
	if d := u.PromptTokensDetails; d != nil {
		read, written = d.CachedTokens, d.CacheWriteTokens
	}
	return msgUsage{InputTokens: max(u.PromptTokens-read-written, 0), OutputTokens: u.CompletionTokens,
		CacheReadInputTokens: read, CacheCreationInputTokens: written, Cost: costNumber(u.Cost)}
}

// costNumber renders the cost as a JSON number whether the chat answer
// carried it as a number or as a decimal string.
func costNumber(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 1 && raw[0] == '"' {
		return raw[1 : len(raw)-1]
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

type oaToolCall struct {
	Index    *int   `json:"index"`
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type oaMessage struct {
	Content          *string      `json:"content"`
	Reasoning        *string      `json:"reasoning"`
	ReasoningContent *string      `json:"reasoning_content"`
	ToolCalls        []oaToolCall `json:"tool_calls"`
}

// UnmarshalJSON reads a message or delta as OpenAI-compatible hosts write
// it, not only as OpenAI does: content as an array of parts (Mistral's
// reasoning models) is the text of its text parts, a tool call's arguments
// as an object are that object's JSON, and a field of another type (or a
// null tool call) is left out. The chat pipeline relays such an answer as
// it came and bills it; failing to read it here would answer an error for
// a billed request, or drop its text from a stream.
func (m *oaMessage) UnmarshalJSON(b []byte) error {
	var raw struct {
		Content          json.RawMessage `json:"content"`
		Reasoning        json.RawMessage `json:"reasoning"`
		ReasoningContent json.RawMessage `json:"reasoning_content"`
		ToolCalls        json.RawMessage `json:"tool_calls"`
	}
	*m = oaMessage{}
	if json.Unmarshal(b, &raw) != nil {
		return nil // not an object: no message
	}
	m.Content, m.Reasoning, m.ReasoningContent = looseText(raw.Content), looseText(raw.Reasoning), looseText(raw.ReasoningContent)
	var calls []json.RawMessage
	if json.Unmarshal(raw.ToolCalls, &calls) != nil {
		return nil
	}
	for _, c := range calls {
		var tc struct {
			Index    *int            `json:"index"`
			ID       json.RawMessage `json:"id"`
			Function struct {
				Name      json.RawMessage `json:"name"`
				Arguments json.RawMessage `json:"arguments"`
			} `json:"function"`
		}
		if json.Unmarshal(c, &tc) != nil || bytes.Equal(bytes.TrimSpace(c), []byte("null")) {
			continue
		}
		call := oaToolCall{Index: tc.Index, ID: deref(looseText(tc.ID))}
		call.Function.Name = deref(looseText(tc.Function.Name))
		if a := bytes.TrimSpace(tc.Function.Arguments); len(a) > 0 && (a[0] == '{' || a[0] == '[') {
			call.Function.Arguments = string(a)
		} else {
			call.Function.Arguments = deref(looseText(a))
		}
		m.ToolCalls = append(m.ToolCalls, call)
	}
	return nil
}

// looseText is a text field's value: a string, or the joined text of an
// array of parts (strings, or objects of type "text"); nil for null or any
// other value.
func looseText(raw json.RawMessage) *string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		return &s
	case '[':
		var parts []json.RawMessage
		if json.Unmarshal(raw, &parts) != nil {
			return nil
		}
		var b strings.Builder
		for _, p := range parts {
			var s string
			var part struct {
				Type string `json:"type"`
				Text string `json:"text"`
			}
			if json.Unmarshal(p, &s) == nil {
				b.WriteString(s)
			} else if json.Unmarshal(p, &part) == nil && (part.Type == "text" || part.Type == "output_text") {
				b.WriteString(part.Text)
			}
		}
		s := b.String()
		return &s
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (m *oaMessage) reasoning() string {
	if m.Reasoning != nil {
		return *m.Reasoning
	}
	if m.ReasoningContent != nil {
		return *m.ReasoningContent
	}
	return ""
}

type oaCompletion struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Message      oaMessage `json:"message"`
		Delta        oaMessage `json:"delta"`
		FinishReason *string   `json:"finish_reason"`
	} `json:"choices"`
	Usage *oaUsage `json:"usage"`
	Error *struct {
		Code     int             `json:"code"`
		Message  string          `json:"message"`
		Metadata json.RawMessage `json:"metadata"`
	} `json:"error"`
}

// messageID turns the request id gen-<hex> into msg_<hex>: the same request,
// named as Anthropic names messages (GET /generation takes gen-<hex>).
func messageID(requestID string) string {
	return "msg_" + strings.TrimPrefix(requestID, "gen-")
}

func stopReason(finish string) string {
	switch finish {
	case "length":
		return "max_tokens"
	case "tool_calls":
		return "tool_use"
	case "content_filter":
		return "refusal"
	}
	return "end_turn"
}

// toolInput is a tool call's arguments as a JSON object.
func toolInput(args string) json.RawMessage {
	if a := strings.TrimSpace(args); a != "" && json.Valid([]byte(a)) && a[0] == '{' {
		return json.RawMessage(a)
	}
	return json.RawMessage(`{}`)
}

// renderMessage turns a chat completion into a Messages answer.
func renderMessage(body []byte, requestID string) ([]byte, error) {
	var c oaCompletion
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, err
	}
	content := []map[string]any{}
	finish := ""
	if len(c.Choices) > 0 {
		ch := c.Choices[0]
		if r := ch.Message.reasoning(); r != "" {
			content = append(content, map[string]any{"type": "thinking", "thinking": r, "signature": ""})
		}
		if ch.Message.Content != nil && *ch.Message.Content != "" {
			content = append(content, map[string]any{"type": "text", "text": *ch.Message.Content})
		}
		for _, tc := range ch.Message.ToolCalls {
			content = append(content, map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Function.Name, "input": toolInput(tc.Function.Arguments)})
		}
		if ch.FinishReason != nil {
			finish = *ch.FinishReason
		}
	}
	return json.Marshal(map[string]any{
		"id": messageID(requestID), "type": "message", "role": "assistant", "model": c.Model,
		"content": content, "stop_reason": stopReason(finish), "stop_sequence": nil, "usage": c.Usage.messages(),
	})
}

// patchNative sets RouteFree's id, model and usage on an Anthropic
// upstream's own answer, keeping every other field as the upstream sent it.
func patchNative(raw []byte, requestID, model string, usage *oaUsage) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["id"], _ = json.Marshal(messageID(requestID))
	m["model"], _ = json.Marshal(model)
	if usage != nil && len(m["usage"]) > 0 {
		var u map[string]json.RawMessage
		if json.Unmarshal(m["usage"], &u) == nil {
			if c := costNumber(usage.Cost); c != nil {
				u["cost"] = c
			}
			m["usage"], _ = json.Marshal(u)
		}
	}
	return json.Marshal(m)
}

// msgErrorType is Anthropic's error type for a status.
func msgErrorType(status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusPaymentRequired:
		return "billing_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusServiceUnavailable, 529:
		return "overloaded_error"
	case http.StatusGatewayTimeout:
		return "timeout_error"
	}
	if status >= 400 && status < 500 {
		return "invalid_request_error" // Anthropic's type for any other 4XX
	}
	return "api_error"
}

// msgStreamErrorType is Anthropic's type for the error that ends a stream
// (always a 502 or 503 by status): from OpenRouter's error_type in its
// metadata, so that an upstream's overload or rate limit reads as Anthropic
// and OpenRouter send them, which is how clients tell them apart.
func msgStreamErrorType(status int, metadata json.RawMessage) string {
	var md struct {
		ErrorType string `json:"error_type"`
	}
	_ = json.Unmarshal(metadata, &md)
	switch md.ErrorType {
	case "provider_overloaded":
		return "overloaded_error"
	case "rate_limit_exceeded":
		return "rate_limit_error"
	case "timeout":
		return "timeout_error"
	}
	return msgErrorType(status)
}

// msgError is the Messages error body. RouteFree's own code and metadata
// ride along in error.metadata (SDKs ignore the extra field).
func msgError(status int, message string, metadata json.RawMessage) []byte {
	return msgErrorOfType(msgErrorType(status), message, metadata)
}

func msgErrorOfType(typ, message string, metadata json.RawMessage) []byte {
	e := map[string]any{"type": typ, "message": message}
	if len(metadata) > 0 && string(metadata) != "null" {
		e["metadata"] = metadata
	}
	b, _ := json.Marshal(map[string]any{"type": "error", "error": e})
	return b
}

// renderError turns the gateway's error body into the Messages error body.
func renderError(status int, body []byte) []byte {
	var e struct {
		Error struct {
			Message  string          `json:"message"`
			Metadata json.RawMessage `json:"metadata"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Message == "" {
		e.Error.Message = http.StatusText(status)
	}
	return msgError(status, e.Error.Message, e.Error.Metadata)
}
