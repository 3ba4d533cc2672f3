package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/routefree/routefree/gateway/chat"
)

// This file translates OpenAI Responses requests into the chat pipeline's
// shape. It does no I/O.

// respRequest is a Responses API request, as far as RouteFree reads it.
type respRequest struct {
	Model             string          `json:"model"`
	Input             json.RawMessage `json:"input"`
	Instructions      *string         `json:"instructions"`
	MaxOutputTokens   *int            `json:"max_output_tokens"`
	Temperature       *float64        `json:"temperature"`
	TopP              *float64        `json:"top_p"`
	Tools             []respTool      `json:"tools"`
	ToolChoice        json.RawMessage `json:"tool_choice"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls"`
	Stream            bool            `json:"stream"`
	User              *string         `json:"user"`
	Metadata          json.RawMessage `json:"metadata"`
	Reasoning         *struct {
		Effort    json.RawMessage `json:"effort,omitempty"`
		MaxTokens json.RawMessage `json:"max_tokens,omitempty"`
		Enabled   json.RawMessage `json:"enabled,omitempty"`
		Exclude   json.RawMessage `json:"exclude,omitempty"`
	} `json:"reasoning"`
	Text *struct {
		Format *struct {
			Type        string          `json:"type"` // text | json_object | json_schema
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Schema      json.RawMessage `json:"schema"`
			Strict      *bool           `json:"strict"`
		} `json:"format"`
	} `json:"text"`
	Store              *bool           `json:"store"`
	PreviousResponseID *string         `json:"previous_response_id"`
	Conversation       json.RawMessage `json:"conversation"`
	Background         *bool           `json:"background"`
	Prompt             json.RawMessage `json:"prompt"`
}

// respTool is a Responses tool: a function is declared flat, without
// chat's function wrapper.
type respTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict"`
}

// respInputItem is one item of a Responses input array.
type respInputItem struct {
	Type      string          `json:"type"` // message (the default with a role), function_call, function_call_output, reasoning
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Arguments string          `json:"arguments"`
	Output    json.RawMessage `json:"output"`
}

// respInputPart is one content part of an input message or a tool's output.
type respInputPart struct {
	Type     string `json:"type"` // input_text | output_text | refusal | input_image | input_file
	Text     string `json:"text"`
	Refusal  string `json:"refusal"`
	ImageURL string `json:"image_url"`
	Detail   string `json:"detail"`
	FileData string `json:"file_data"`
	FileURL  string `json:"file_url"`
	FileID   string `json:"file_id"`
	Filename string `json:"filename"`
}

// respConsumed are the Responses fields the translation reads, or accepts
// and leaves out: what they ask for the chat pipeline cannot be told, or
// RouteFree does by itself (store: nothing is ever stored). Every other
// field goes to the chat pipeline as sent, as chat passes on the fields it
// does not model.
var respConsumed = map[string]bool{
	"model": true, "input": true, "instructions": true, "max_output_tokens": true, "temperature": true,
	"top_p": true, "tools": true, "tool_choice": true, "parallel_tool_calls": true, "stream": true,
	"stream_options": true, "user": true, "metadata": true, "reasoning": true, "text": true, "store": true,
	"previous_response_id": true, "conversation": true, "background": true, "prompt": true,
	"include": true, "truncation": true, "max_tool_calls": true, "top_logprobs": true,
}

func respInvalid(param, format string, a ...any) *APIError {
	return apiErr(http.StatusBadRequest, "invalid_request", fmt.Sprintf(format, a...), map[string]any{"param": param})
}

// notStored refuses a parameter that needs a response or conversation kept
// on the server.
func notStored(param string) *APIError {
	return respInvalid(param, "%s is not supported: RouteFree never stores responses or conversations; send the whole conversation in input", param)
}

// parseResponses decodes and checks a Responses request and translates it
// to a chat request body; echo is the answer's echo of its settings.
func parseResponses(body []byte) (chatBody []byte, echo respObject, ae *APIError) {
	var r respRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, echo, badJSON(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, echo, badJSON(err)
	}
	switch {
	case r.PreviousResponseID != nil && *r.PreviousResponseID != "":
		return nil, echo, notStored("previous_response_id")
	case given(r.Conversation):
		return nil, echo, notStored("conversation")
	case r.Background != nil && *r.Background:
		return nil, echo, notStored("background")
	case given(r.Prompt):
		return nil, echo, respInvalid("prompt", "prompt is not supported: RouteFree keeps no prompt templates; send the instructions and input")
	case r.Model == "":
		return nil, echo, respInvalid("model", "model: field required")
	case len(bytes.TrimSpace(r.Input)) == 0 || string(bytes.TrimSpace(r.Input)) == "null":
		return nil, echo, respInvalid("input", "input: field required")
	case r.MaxOutputTokens != nil && *r.MaxOutputTokens < 1:
		return nil, echo, respInvalid("max_output_tokens", "max_output_tokens: must be at least 1")
	}
	out, ae := r.chatBody()
	if ae != nil {
		return nil, echo, ae
	}
	for k, v := range fields {
		if !respConsumed[k] {
			out[k] = v
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, echo, apiErr(http.StatusBadRequest, "invalid_request", err.Error(), nil)
	}
	return b, respEcho(&r, fields), nil
}

// given reports a JSON value that is present and not null.
func given(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && string(raw) != "null"
}

// chatBody is the request in the chat pipeline's shape. A stream always
// asks for the usage chunk: response.completed carries the usage.
func (r *respRequest) chatBody() (map[string]any, *APIError) {
	var msgs []chat.Message
	if r.Instructions != nil && *r.Instructions != "" {
		msgs = append(msgs, chat.Message{Role: chat.RoleSystem, Content: chat.TextContent(*r.Instructions)})
	}
	in, ae := respMessages(r.Input)
	if ae != nil {
		return nil, ae
	}
	msgs = append(msgs, in...)
	out := map[string]any{"model": r.Model, "messages": msgs}
	if r.MaxOutputTokens != nil {
		out["max_tokens"] = *r.MaxOutputTokens
	}
	if len(r.Tools) > 0 {
		tools := make([]chat.Tool, 0, len(r.Tools))
		for i, t := range r.Tools {
			if t.Type != "function" {
				return nil, respInvalid(fmt.Sprintf("tools.%d.type", i), "tools.%d.type: %q tools are not supported; declare function tools", i, t.Type)
			}
			if t.Name == "" {
				return nil, respInvalid(fmt.Sprintf("tools.%d.name", i), "tools.%d.name: field required", i)
			}
			schema := t.Parameters
			if !given(schema) {
				schema = json.RawMessage(`{"type":"object"}`)
			} else if bytes.TrimSpace(schema)[0] != '{' {
				return nil, respInvalid(fmt.Sprintf("tools.%d.parameters", i), "tools.%d.parameters: must be a JSON Schema object", i)
			}
			fn := chat.Function{Name: t.Name, Description: t.Description, Parameters: chat.RawJSON(schema)}
			if t.Strict != nil && *t.Strict && strictSchema(schema) {
				// OpenAI refuses strict on a schema that breaks its strict
				// rules: such a tool goes without it.
				fn.Strict = t.Strict
			}
			tools = append(tools, chat.Tool{Type: "function", Function: fn})
		}
		out["tools"] = tools
	}
	if given(r.ToolChoice) {
		tc, ae := respToolChoice(r.ToolChoice, r.Tools)
		if ae != nil {
			return nil, ae
		}
		out["tool_choice"] = tc
	}
	if r.ParallelToolCalls != nil && len(r.Tools) > 0 {
		out["parallel_tool_calls"] = *r.ParallelToolCalls
	}
	if r.Temperature != nil {
		out["temperature"] = *r.Temperature
	}
	if r.TopP != nil {
		out["top_p"] = *r.TopP
	}
	if r.User != nil && *r.User != "" {
		out["user"] = *r.User
	}
	if rs := r.Reasoning; rs != nil && (rs.Effort != nil || rs.MaxTokens != nil || rs.Enabled != nil || rs.Exclude != nil) {
		// Chat's reasoning object, which the pipeline checks and maps
		// onto each upstream's own (summary has no counterpart).
		out["reasoning"] = rs
	}
	if t := r.Text; t != nil && t.Format != nil {
		switch f := t.Format; f.Type {
		case "", "text":
		case "json_object":
			out["response_format"] = chat.ResponseFormat{Type: "json_object"}
		case "json_schema":
			if !given(f.Schema) {
				return nil, respInvalid("text.format.schema", "text.format.schema: field required")
			}
			name := f.Name
			if name == "" {
				name = "output"
			}
			out["response_format"] = chat.ResponseFormat{Type: "json_schema", JSONSchema: &chat.JSONSchema{
				Name: name, Description: f.Description, Schema: chat.RawJSON(f.Schema), Strict: f.Strict}}
		default:
			return nil, respInvalid("text.format.type", "text.format.type: must be text, json_object or json_schema")
		}
	}
	if r.Stream {
		out["stream"] = true
		out["stream_options"] = map[string]any{"include_usage": true}
	}
	return out, nil
}

// respToolChoice is a Responses tool_choice in chat's shape: the modes
// as they are, a named function as chat names one, and allowed_tools
// (flat in Responses: mode and tools beside type) as chat's.
func respToolChoice(raw json.RawMessage, tools []respTool) (any, *APIError) {
	var mode string
	if json.Unmarshal(raw, &mode) == nil {
		switch mode {
		case chat.ToolChoiceNone, chat.ToolChoiceAuto, "required":
			return mode, nil
		}
		return nil, respInvalid("tool_choice", "tool_choice: must be none, auto, required or a function")
	}
	var obj struct {
		Type  string     `json:"type"`
		Name  string     `json:"name"`
		Mode  string     `json:"mode"`
		Tools []respTool `json:"tools"`
	}
	if json.Unmarshal(raw, &obj) != nil || obj.Type != "function" && obj.Type != "allowed_tools" {
		return nil, respInvalid("tool_choice", "tool_choice: must be none, auto, required, {\"type\":\"function\",\"name\":…} or {\"type\":\"allowed_tools\",\"mode\":…,\"tools\":[…]}")
	}
	if obj.Type == "allowed_tools" {
		return respAllowedTools(obj.Mode, obj.Tools, tools)
	}
	if obj.Name == "" {
		return nil, respInvalid("tool_choice.name", "tool_choice.name: field required")
	}
	return chat.ToolChoice{Mode: chat.ToolChoiceFunction, Function: obj.Name}, nil
}

// respAllowedTools checks an allowed_tools choice, named as Responses names
// its fields: mode auto or required, and at least one function, each one of
// the request's tools.
func respAllowedTools(mode string, allowed, tools []respTool) (any, *APIError) {
	if mode != chat.ToolChoiceAuto && mode != chat.ToolChoiceRequired {
		return nil, respInvalid("tool_choice.mode", "tool_choice.mode: must be auto or required")
	}
	if len(allowed) == 0 {
		return nil, respInvalid("tool_choice.tools", "tool_choice.tools: must list at least one of the request's tools")
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		at := fmt.Sprintf("tool_choice.tools.%d", i)
		switch {
		case a.Type != "function":
			return nil, respInvalid(at+".type", "%s.type: %q tools are not supported; list function tools", at, a.Type)
		case a.Name == "":
			return nil, respInvalid(at+".name", "%s.name: field required", at)
		case !slices.ContainsFunc(tools, func(t respTool) bool { return t.Name == a.Name }):
			return nil, respInvalid(at+".name", "%s.name: %q is not one of the request's tools", at, a.Name)
		}
		names[i] = a.Name
	}
	return chat.ToolChoice{Mode: mode, Allowed: names}, nil
}

// respMessages translates input: a string is one user message; an array
// holds messages, function calls and their outputs. Calls that follow an
// assistant message (or each other) join it as its tool_calls, as chat
// carries them; reasoning items stay behind, as thinking blocks do on the
// Messages face.
func respMessages(raw json.RawMessage) ([]chat.Message, *APIError) {
	raw = bytes.TrimSpace(raw)
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, respInvalid("input", "input: %s", describeJSONError(err))
		}
		return []chat.Message{{Role: chat.RoleUser, Content: chat.TextContent(s)}}, nil
	}
	var items []respInputItem
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, respInvalid("input", "input: must be a string or an array of input items")
	}
	if len(items) == 0 {
		return nil, respInvalid("input", "input: at least one item is required")
	}
	var msgs []chat.Message
	// calling is the index in msgs of the assistant message that the
	// next function_call joins, -1 when a call starts a new one.
	calling := -1
	for i, it := range items {
		at := fmt.Sprintf("input.%d", i)
		typ := it.Type
		if typ == "" && it.Role != "" {
			typ = "message"
		}
		switch typ {
		case "message":
			m, ae := respMessage(at, it)
			if ae != nil {
				return nil, ae
			}
			msgs = append(msgs, m)
			calling = -1
			if m.Role == chat.RoleAssistant {
				calling = len(msgs) - 1
			}
		case "function_call":
			if it.CallID == "" || it.Name == "" {
				return nil, respInvalid(at, "%s: a function_call needs its call_id and name", at)
			}
			args := it.Arguments
			if strings.TrimSpace(args) == "" {
				args = "{}"
			}
			if calling < 0 {
				msgs = append(msgs, chat.Message{Role: chat.RoleAssistant})
				calling = len(msgs) - 1
			}
			msgs[calling].ToolCalls = append(msgs[calling].ToolCalls,
				chat.ToolCall{ID: it.CallID, Type: "function", Function: chat.FunctionCall{Name: it.Name, Arguments: args}})
		case "function_call_output":
			if it.CallID == "" {
				return nil, respInvalid(at+".call_id", "%s.call_id: field required", at)
			}
			text, ae := respOutputText(at+".output", it.Output)
			if ae != nil {
				return nil, ae
			}
			msgs = append(msgs, chat.Message{Role: chat.RoleTool, ToolCallID: it.CallID, Content: chat.TextContent(text)})
			calling = -1
		case "reasoning":
			// Reasoning only the model that wrote it can read back.
		case "item_reference":
			return nil, respInvalid(at+".type", "%s.type: item_reference is not supported: RouteFree never stores items; send the item itself", at)
		default:
			return nil, respInvalid(at+".type", "%s.type: %q items are not supported; send messages, function_call and function_call_output items", at, it.Type)
		}
	}
	return msgs, nil
}

// respMessage translates one message item. System and developer messages
// become system messages, which every upstream kind takes.
func respMessage(at string, it respInputItem) (chat.Message, *APIError) {
	var role string
	switch it.Role {
	case "user":
		role = chat.RoleUser
	case "assistant":
		role = chat.RoleAssistant
	case "system", "developer":
		role = chat.RoleSystem
	default:
		return chat.Message{}, respInvalid(at+".role", "%s.role: must be user, assistant, system or developer", at)
	}
	c := bytes.TrimSpace(it.Content)
	if len(c) == 0 || string(c) == "null" {
		return chat.Message{}, respInvalid(at+".content", "%s.content: field required", at)
	}
	if c[0] == '"' {
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return chat.Message{}, respInvalid(at+".content", "%s.content: must be a string or an array of content parts", at)
		}
		return chat.Message{Role: role, Content: chat.TextContent(s)}, nil
	}
	var parts []respInputPart
	if err := json.Unmarshal(c, &parts); err != nil {
		return chat.Message{}, respInvalid(at+".content", "%s.content: must be a string or an array of content parts", at)
	}
	var out []chat.Part
	for j, p := range parts {
		switch p.Type {
		case "input_text", "output_text", "text":
			out = append(out, chat.Part{Type: chat.PartText, Text: p.Text})
		case "refusal":
			out = append(out, chat.Part{Type: chat.PartText, Text: p.Refusal})
		case "input_image":
			if p.ImageURL == "" {
				return chat.Message{}, respInvalid(fmt.Sprintf("%s.content.%d.image_url", at, j), "%s.content.%d.image_url: field required (file_id needs stored files, which RouteFree has none of)", at, j)
			}
			out = append(out, chat.Part{Type: chat.PartImageURL, ImageURL: &chat.ImageURL{URL: p.ImageURL, Detail: p.Detail}})
		case "input_file":
			data := p.FileData
			if data == "" {
				data = p.FileURL
			}
			if data == "" {
				return chat.Message{}, respInvalid(fmt.Sprintf("%s.content.%d.file_data", at, j), "%s.content.%d: an input_file needs file_data or file_url", at, j)
			}
			name := p.Filename
			if name == "" {
				name = "document.pdf"
			}
			out = append(out, chat.Part{Type: chat.PartFile, File: &chat.File{FileData: data, Filename: name}})
		default:
			return chat.Message{}, respInvalid(fmt.Sprintf("%s.content.%d.type", at, j), "%s.content.%d.type: %q parts are not supported", at, j, p.Type)
		}
	}
	// Only a user message carries more than text.
	if role != chat.RoleUser || len(out) == 1 && out[0].Type == chat.PartText {
		var b strings.Builder
		for _, p := range out {
			if p.Type != chat.PartText {
				return chat.Message{}, respInvalid(at+".content", "%s.content: only user messages may carry images and files", at)
			}
			b.WriteString(p.Text)
		}
		return chat.Message{Role: role, Content: chat.TextContent(b.String())}, nil
	}
	return chat.Message{Role: role, Content: chat.PartsContent(out...)}, nil
}

// respOutputText is a function_call_output's output: a string, or text
// parts joined.
func respOutputText(at string, raw json.RawMessage) (string, *APIError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", respInvalid(at, "%s: field required", at)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []respInputPart
	if json.Unmarshal(raw, &parts) != nil {
		return "", respInvalid(at, "%s: must be a string or an array of input_text parts", at)
	}
	var b strings.Builder
	for j, p := range parts {
		if p.Type != "input_text" && p.Type != "output_text" && p.Type != "text" {
			return "", respInvalid(fmt.Sprintf("%s.%d.type", at, j), "%s.%d.type: only text is supported in a function's output, got %q", at, j, p.Type)
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}
