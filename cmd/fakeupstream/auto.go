package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// ReasoningText is the reasoning an -auto fake sends when asked to reason
// (clients/env.js has it too).
const ReasoningText = "The fake upstream thinks the request over first."

// FailPrompt, as the last message of a streamed request, makes an -auto
// fake send part of its answer, then the provider's error event (a 503
// overload) and drop the connection: a provider failing while it answers
// (clients/env.js has it too).
const FailPrompt = "Fail while answering."

// FlagPrompt, as the last message of a request, makes an -auto fake answer
// as OpenRouter answers an input that a model's moderation flags: a 403
// whose metadata gives the reasons and the flagged input (clients/env.js
// has it too).
const FlagPrompt = "Flag this input for moderation."

// ErrorChunkPrompt, as the last message of a streamed request, makes an
// -auto fake end its answer as OpenRouter ends a generation that fails
// midway: part of the answer, then a chunk whose finish_reason is "error",
// carrying an error object and the usage, and no [DONE] (clients/env.js
// has it too).
const ErrorChunkPrompt = "End with an error chunk."

// ErrorChunkMessage is the error that chunk carries.
const ErrorChunkMessage = "Provider disconnected"

// autoFake answers each OpenAI-format request in the way its shape asks
// for, so that client libraries' tool calls and structured outputs can run
// end to end against it: a request offering tools (and not carrying a tool
// result back) gets a call of the chosen tool with arguments that fit its
// JSON schema; a request with a json_schema response format gets JSON that
// fits the schema; anything else gets base's text. A request that asks for
// reasoning (reasoning_effort) also gets reasoning text, as DeepSeek-style
// hosts send it (reasoning_content). Anthropic-format requests get the same
// treatment in Claude's shapes: a tool call while no tool result comes back,
// and a signed thinking block when thinking is on (the fake then holds the
// next request to Anthropic's rule for it, see providertest).
type autoFake struct {
	kind string
	base providertest.Script
	// rejectToolName answers 400 to a tool message that carries a name, as
	// strict OpenAI-compatible upstreams do.
	rejectToolName bool
}

func (a autoFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	s := a.base
	if a.kind == providertest.KindAnthropic {
		s = anthropicScriptFor(body, a.base)
	}
	if a.kind == providertest.KindOpenAI {
		if lastMessageIs(body, ErrorChunkPrompt) {
			a.endWithErrorChunk(w, body)
			return
		}
		s = scriptFor(body, a.base)
		if i := namedToolMessage(body); a.rejectToolName && i >= 0 {
			s.Status = http.StatusBadRequest
			s.ErrorMessage = fmt.Sprintf("messages[%d]: property 'name' is not allowed on a tool message", i)
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	providertest.NewFake(a.kind, s, false).ServeHTTP(w, r)
}

// scriptFor picks the answer for one chat completions request body.
func scriptFor(body []byte, base providertest.Script) providertest.Script {
	var req struct {
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		Tools []struct {
			Function struct {
				Name       string          `json:"name"`
				Parameters json.RawMessage `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
		ToolChoice      json.RawMessage `json:"tool_choice"`
		ReasoningEffort string          `json:"reasoning_effort"`
		ResponseFormat  *struct {
			Type       string `json:"type"`
			JSONSchema struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"json_schema"`
		} `json:"response_format"`
	}
	if json.Unmarshal(body, &req) != nil {
		return base
	}
	if n := len(req.Messages); n > 0 && contentText(req.Messages[n-1].Content) == FlagPrompt {
		md, _ := json.Marshal(map[string]any{"reasons": []string{"harassment"}, "flagged_input": FlagPrompt, "provider_name": "Fake", "model_slug": "fake/moderated"})
		base.Status = http.StatusForbidden
		base.ErrorBody = `{"error":{"code":403,"message":"fake/moderated requires moderation on Fake. Your input was flagged for \"harassment\". No credits were charged.","metadata":` + string(md) + `}}`
		return base
	}
	if n := len(req.Messages); n > 0 && contentText(req.Messages[n-1].Content) == FailPrompt {
		base.CutAfter, base.ErrorEvent = 2, true
		base.EventMessage, base.EventCode = "The model is overloaded. Please try again later.", "503"
		return base
	}
	if req.ReasoningEffort != "" && req.ReasoningEffort != "none" {
		base.Reasoning = ReasoningText
	}
	toolResult := len(req.Messages) > 0 && req.Messages[len(req.Messages)-1].Role == "tool"
	if len(req.Tools) > 0 && !toolResult && string(req.ToolChoice) != `"none"` {
		var forced struct {
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		_ = json.Unmarshal(req.ToolChoice, &forced)
		tool := req.Tools[0].Function
		for _, t := range req.Tools {
			if t.Function.Name == forced.Function.Name {
				tool = t.Function
			}
		}
		args, _ := json.Marshal(example(decodeSchema(tool.Parameters)))
		base.Text = ""
		base.ToolCalls = []providertest.ToolCall{{Name: tool.Name, Arguments: string(args)}}
		return base
	}
	if rf := req.ResponseFormat; rf != nil && (rf.Type == "json_schema" || rf.Type == "json_object") {
		out, _ := json.Marshal(example(decodeSchema(rf.JSONSchema.Schema)))
		base.Text = string(out)
	}
	return base
}

// lastMessageIs reports whether a chat completions request's last message
// reads text.
func lastMessageIs(body []byte, text string) bool {
	var req struct {
		Messages []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	_ = json.Unmarshal(body, &req)
	n := len(req.Messages)
	return n > 0 && contentText(req.Messages[n-1].Content) == text
}

// endWithErrorChunk streams the first half of the reply's words, then
// OpenRouter's error chunk for a generation that failed midway, with the
// usage of what was generated.
func (a autoFake) endWithErrorChunk(w http.ResponseWriter, body []byte) {
	var req struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(body, &req)
	w.Header().Set("Content-Type", "text/event-stream")
	send := func(v any) {
		b, _ := json.Marshal(v)
		_, _ = fmt.Fprintf(w, "data: %s\n\n", b)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": "chatcmpl-fake123", "object": "chat.completion.chunk", "created": 1, "model": req.Model,
			"choices": []map[string]any{{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	send(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	words := strings.SplitAfter(a.base.Text, " ")
	for _, word := range words[:len(words)/2] {
		send(chunk(map[string]any{"content": word}, nil))
	}
	end := chunk(map[string]any{}, "error")
	end["error"] = map[string]any{"code": 502, "message": ErrorChunkMessage}
	end["usage"] = map[string]any{"prompt_tokens": a.base.Usage.Prompt, "completion_tokens": len(words) / 2, "total_tokens": a.base.Usage.Prompt + len(words)/2}
	send(end)
}

// anthropicScriptFor picks the answer for one Messages request body.
func anthropicScriptFor(body []byte, base providertest.Script) providertest.Script {
	var req struct {
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"` // a string, or an array of blocks
		} `json:"messages"`
		Tools []struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"input_schema"`
		} `json:"tools"`
		Thinking *struct {
			Type string `json:"type"`
		} `json:"thinking"`
		OutputConfig struct {
			Format *struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"format"`
		} `json:"output_config"`
	}
	if json.Unmarshal(body, &req) != nil {
		return base
	}
	if req.Thinking != nil && req.Thinking.Type == "enabled" {
		base.Reasoning = ReasoningText
	}
	toolResult := false
	if n := len(req.Messages); n > 0 {
		var blocks []struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(req.Messages[n-1].Content, &blocks) // none in a string
		for _, b := range blocks {
			toolResult = toolResult || b.Type == "tool_result"
		}
	}
	if len(req.Tools) > 0 && !toolResult {
		args, _ := json.Marshal(example(decodeSchema(req.Tools[0].InputSchema)))
		base.Text = ""
		base.ToolCalls = []providertest.ToolCall{{Name: req.Tools[0].Name, Arguments: string(args)}}
	} else if f := req.OutputConfig.Format; f != nil {
		// Structured outputs: the answer is JSON that fits the schema.
		out, _ := json.Marshal(example(decodeSchema(f.Schema)))
		base.Text = string(out)
	}
	return base
}

// contentText is a message's text: its content string, or its text parts
// joined.
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &parts)
	for _, p := range parts {
		s += p.Text
	}
	return s
}

// namedToolMessage is the index of the first tool message with a name, or -1.
func namedToolMessage(body []byte) int {
	var req struct {
		Messages []map[string]json.RawMessage `json:"messages"`
	}
	_ = json.Unmarshal(body, &req)
	for i, m := range req.Messages {
		_, named := m["name"]
		if named && string(m["role"]) == `"tool"` {
			return i
		}
	}
	return -1
}

func decodeSchema(raw json.RawMessage) map[string]any {
	var s map[string]any
	_ = json.Unmarshal(raw, &s)
	return s
}

// example is a value that fits a JSON schema: every property filled, the
// first enum value, the first non-null type of a union.
func example(s map[string]any) any {
	if s == nil {
		return map[string]any{}
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	if c, ok := s["const"]; ok {
		return c
	}
	for _, k := range []string{"anyOf", "oneOf", "allOf"} {
		if alts, ok := s[k].([]any); ok {
			for _, alt := range alts {
				if m, ok := alt.(map[string]any); ok && m["type"] != "null" {
					return example(m)
				}
			}
		}
	}
	typ, _ := s["type"].(string)
	if types, ok := s["type"].([]any); ok {
		for _, t := range types {
			if t != "null" {
				typ, _ = t.(string)
				break
			}
		}
	}
	switch typ {
	case "string":
		return "Taipei"
	case "integer":
		return 1
	case "number":
		return 22.5
	case "boolean":
		return true
	case "array":
		items, _ := s["items"].(map[string]any)
		return []any{example(items)}
	case "null":
		return nil
	}
	out := map[string]any{}
	props, _ := s["properties"].(map[string]any)
	for name, p := range props {
		m, _ := p.(map[string]any)
		out[name] = example(m)
	}
	return out
}
