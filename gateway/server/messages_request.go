package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/chat"
)

// This file translates Anthropic Messages requests into the chat pipeline's
// OpenAI shape. It does no I/O.

// msgRequest is an Anthropic Messages request, as far as RouteFree reads it.
type msgRequest struct {
	Model         string          `json:"model"`
	System        json.RawMessage `json:"system"`
	Messages      []msgTurn       `json:"messages"`
	MaxTokens     *int            `json:"max_tokens"`
	Tools         []msgTool       `json:"tools"`
	ToolChoice    *msgToolChoice  `json:"tool_choice"`
	Thinking      *msgThinking    `json:"thinking"`
	StopSequences []string        `json:"stop_sequences"`
	Temperature   *float64        `json:"temperature"`
	TopP          *float64        `json:"top_p"`
	TopK          *int            `json:"top_k"`
	Stream        bool            `json:"stream"`
	// OutputConfig's format is Anthropic's structured outputs: a JSON
	// Schema the answer must follow.
	OutputConfig *struct {
		Format *struct {
			Type   string          `json:"type"` // json_schema
			Schema json.RawMessage `json:"schema"`
		} `json:"format"`
	} `json:"output_config"`
	Metadata *struct {
		UserID string `json:"user_id"`
	} `json:"metadata"`
	// Provider is OpenRouter's provider object: RouteFree's routing, never
	// sent upstream.
	Provider json.RawMessage `json:"provider"`
}

type msgTurn struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// msgBlock is one content block of a message or a tool result.
type msgBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Source    *msgSource      `json:"source"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"` // tool_result: a string or blocks
	IsError   bool            `json:"is_error"`
}

// msgSource is a block's source: an object for image and document blocks,
// a string (a URL or an identifier) for search_result blocks.
type msgSource struct {
	Type      string `json:"type"` // base64 | url | text
	MediaType string `json:"media_type"`
	Data      string `json:"data"`
	URL       string `json:"url"`
	// Named is a source given as a string.
	Named string `json:"-"`
}

func (s *msgSource) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &s.Named)
	}
	type object msgSource
	return json.Unmarshal(b, (*object)(s))
}

type msgTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
	// Strict is Anthropic's strict tool use: the model's input to the tool
	// follows input_schema exactly.
	Strict bool `json:"strict"`
}

type msgToolChoice struct {
	Type                   string `json:"type"` // auto | any | tool | none
	Name                   string `json:"name"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use"`
}

type msgThinking struct {
	Type         string `json:"type"` // enabled | disabled | adaptive
	BudgetTokens int    `json:"budget_tokens"`
}

// msgInvalid is a request the Messages API would refuse.
type msgInvalid struct{ msg string }

func (e *msgInvalid) Error() string { return e.msg }

func invalidf(format string, a ...any) error { return &msgInvalid{fmt.Sprintf(format, a...)} }

// decodeMsgRequest decodes a Messages body and checks what both /messages
// and count_tokens refuse: a content block without a type, a text block
// without its text or with an empty one, a message with empty content, a
// tool without a name or whose input_schema is not an object, a
// tool_choice of a tool that does not name it.
func decodeMsgRequest(body []byte) (*msgRequest, error) {
	var r msgRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, invalidf("%s", describeJSONError(err))
	}
	if err := checkTextBlocks("system", r.System); err != nil {
		return nil, err
	}
	for i, m := range r.Messages {
		final := i == len(r.Messages)-1 && m.Role == "assistant"
		if err := checkContentNotEmpty(i, m.Content, final); err != nil {
			return nil, err
		}
		if err := checkTextBlocks(fmt.Sprintf("messages.%d.content", i), m.Content); err != nil {
			return nil, err
		}
	}
	for i, t := range r.Tools {
		if t.Name == "" { // null too: every tool, a server tool as well, has a name
			return nil, invalidf("tools.%d.name: field required", i)
		}
		if schema := bytes.TrimSpace(t.InputSchema); len(schema) > 0 && schema[0] != '{' {
			return nil, invalidf("tools.%d.input_schema: must be a JSON Schema object", i)
		}
	}
	if tc := r.ToolChoice; tc != nil && tc.Type == "tool" && tc.Name == "" {
		return nil, invalidf("tool_choice.name: field required")
	}
	return &r, nil
}

// checkContentNotEmpty refuses message i when its content is missing or
// null, an empty string or an empty array, or a string of only
// whitespace, as Anthropic does: only a final assistant turn (a prefill)
// may be empty. A content
// value of another shape is left to the translation, which names it.
func checkContentNotEmpty(i int, raw json.RawMessage, final bool) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		// Anthropic requires the member on every turn, a prefill's too.
		return invalidf("messages.%d.content: field required", i)
	}
	if final {
		return nil
	}
	var s string
	var bs []json.RawMessage
	switch {
	case raw[0] == '"' && json.Unmarshal(raw, &s) == nil:
		if s == "" {
			return invalidf("messages.%d: all messages must have non-empty content except for the optional final assistant message", i)
		}
		if strings.TrimSpace(s) == "" {
			return invalidf("messages.%d.content: text content blocks must contain non-whitespace text", i)
		}
	case raw[0] == '[' && json.Unmarshal(raw, &bs) == nil && len(bs) == 0:
		return invalidf("messages.%d: all messages must have non-empty content except for the optional final assistant message", i)
	}
	return nil
}

// checkTextBlocks refuses a block that is null or has no type, and a text
// block without a text, or whose text is empty or only whitespace, in a
// content value or inside its tool results, as Anthropic does (an upstream
// would answer 400 after the hold; the translation would drop a block
// without a type). A content value of another shape is left to the
// translation, which names it.
func checkTextBlocks(path string, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil
	}
	var bs []struct {
		Type    string          `json:"type"`
		Text    *string         `json:"text"`
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &bs) != nil {
		return nil
	}
	for j, b := range bs {
		switch {
		case b.Type == "":
			return invalidf("%s.%d.type: field required", path, j)
		case b.Type == "text" && b.Text == nil:
			return invalidf("%s.%d.text: field required", path, j)
		case b.Type == "text" && *b.Text == "":
			return invalidf("%s.%d.text: text content blocks must be non-empty", path, j)
		case b.Type == "text" && strings.TrimSpace(*b.Text) == "":
			return invalidf("%s.%d.text: text content blocks must contain non-whitespace text", path, j)
		case b.Type == "tool_result":
			if err := checkTextBlocks(fmt.Sprintf("%s.%d.content", path, j), b.Content); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseMessages decodes and checks a Messages request.
func parseMessages(body []byte) (*msgRequest, error) {
	r, err := decodeMsgRequest(body)
	if err != nil {
		return nil, err
	}
	switch {
	case r.Model == "":
		return nil, invalidf("model: field required")
	case r.MaxTokens == nil:
		return nil, invalidf("max_tokens: field required")
	case *r.MaxTokens < 1:
		return nil, invalidf("max_tokens: must be at least 1")
	case len(r.Messages) == 0:
		return nil, invalidf("messages: at least one message is required")
	}
	if err := r.checkRoles(); err != nil {
		return nil, err
	}
	if r.Thinking != nil && r.Thinking.Type == "enabled" {
		if r.Thinking.BudgetTokens < 1024 {
			return nil, invalidf("thinking.budget_tokens: must be at least 1024")
		}
		if r.Thinking.BudgetTokens >= *r.MaxTokens {
			return nil, invalidf("max_tokens must be greater than thinking.budget_tokens")
		}
	}
	return r, nil
}

// checkRoles refuses a turn that is neither the user's nor the
// assistant's (a system prompt goes in system), on /messages and
// count_tokens alike.
func (r *msgRequest) checkRoles() error {
	for i, m := range r.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return invalidf("messages.%d.role: must be \"user\" or \"assistant\"", i)
		}
	}
	return nil
}

// blocks decodes a content value: a string is one text block.
func blocks(raw json.RawMessage) ([]msgBlock, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []msgBlock{{Type: "text", Text: s}}, nil
	}
	var bs []msgBlock
	if err := json.Unmarshal(raw, &bs); err != nil {
		return nil, err
	}
	return bs, nil
}

// blocksText joins the text blocks of a content value.
func blocksText(raw json.RawMessage) (string, error) {
	bs, err := blocks(raw)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, bl := range bs {
		if bl.Type == "text" {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(bl.Text)
		}
	}
	return b.String(), nil
}

// serverTools refuses a server tool (web search, code execution…) for a
// model without an Anthropic upstream (native false): only Anthropic's run
// them.
func (r *msgRequest) serverTools(native bool) error {
	if native {
		return nil
	}
	for i, t := range r.Tools {
		if t.Type != "" && t.Type != "custom" {
			return invalidf("tools.%d: server tool %q is not supported; declare client tools with name, description and input_schema", i, t.Type)
		}
	}
	return nil
}

// chatBody is the request in the chat pipeline's OpenAI shape, for model id.
// The usage chunk is always asked for: message_delta carries the usage.
//
// With native set (the model has an Anthropic upstream, which gets the
// client's own body), what only Anthropic understands — server tools,
// their result blocks — is left out of the translation instead of refused:
// the translation then serves only the other upstreams of a failover.
func (r *msgRequest) chatBody(model string, native bool) ([]byte, error) {
	msgs, err := r.chatMessages(native)
	if err != nil {
		return nil, err
	}
	if err := r.serverTools(native); err != nil {
		return nil, err
	}
	out := map[string]any{"model": model, "messages": msgs, "max_tokens": *r.MaxTokens}
	if len(r.Tools) > 0 {
		var tools []chat.Tool
		for _, t := range r.Tools {
			if t.Type != "" && t.Type != "custom" {
				continue // for Anthropic's upstreams alone (serverTools)
			}
			schema := t.InputSchema
			if len(schema) == 0 {
				schema = json.RawMessage(`{"type":"object"}`)
			}
			fn := chat.Function{Name: t.Name, Description: t.Description, Parameters: schema}
			if t.Strict && strictSchema(schema) {
				// OpenAI's function.strict, which it refuses on a schema
				// that breaks its strict rules: such a tool goes without it.
				strict := true
				fn.Strict = &strict
			}
			tools = append(tools, chat.Tool{Type: "function", Function: fn})
		}
		if len(tools) > 0 {
			out["tools"] = tools
		}
	}
	if tc := r.ToolChoice; tc != nil {
		switch tc.Type {
		case "auto":
			out["tool_choice"] = "auto"
		case "any":
			out["tool_choice"] = "required"
		case "none":
			out["tool_choice"] = "none"
		case "tool":
			out["tool_choice"] = chat.ToolChoice{Mode: chat.ToolChoiceFunction, Function: tc.Name}
		default:
			return nil, invalidf("tool_choice.type: must be auto, any, tool or none")
		}
		if tc.DisableParallelToolUse && len(r.Tools) > 0 {
			out["parallel_tool_calls"] = false
		}
	}
	if th := r.Thinking; th != nil {
		switch th.Type {
		case "enabled":
			out["reasoning"] = map[string]any{"max_tokens": th.BudgetTokens}
		case "adaptive":
			out["reasoning"] = map[string]any{"enabled": true}
		}
	}
	if rf := r.responseFormat(); rf != nil {
		out["response_format"] = rf
	}
	if len(r.StopSequences) > 0 {
		out["stop"] = r.StopSequences
	}
	if r.Temperature != nil {
		out["temperature"] = *r.Temperature
	}
	if r.TopP != nil {
		out["top_p"] = *r.TopP
	}
	if r.TopK != nil {
		// OpenRouter's top_k: Gemini's topK; OpenAI's own API, which has
		// none, never gets it.
		out["top_k"] = *r.TopK
	}
	if r.Metadata != nil && r.Metadata.UserID != "" {
		out["user"] = r.Metadata.UserID
	}
	if len(r.Provider) > 0 {
		out["provider"] = r.Provider
	}
	if r.Stream {
		out["stream"] = true
		out["stream_options"] = map[string]any{"include_usage": true}
	}
	return json.Marshal(out)
}

// chatMessages translates the system and the turns into chat messages,
// refusing a content block the model's upstreams cannot take: /messages
// and count_tokens refuse the same blocks with the same message.
func (r *msgRequest) chatMessages(native bool) ([]chat.Message, error) {
	var msgs []chat.Message
	system, err := blocksText(r.System)
	if err != nil {
		return nil, invalidf("system: must be a string or an array of text blocks")
	}
	if system != "" {
		msgs = append(msgs, chat.Message{Role: chat.RoleSystem, Content: chat.TextContent(system)})
	}
	for i, turn := range r.Messages {
		bs, err := blocks(turn.Content)
		if err != nil {
			return nil, invalidf("messages.%d.content: must be a string or an array of content blocks", i)
		}
		converted, err := chatTurn(turn.Role, bs, native)
		if err != nil {
			return nil, invalidf("messages.%d.content: %v", i, err)
		}
		msgs = append(msgs, converted...)
	}
	return msgs, nil
}

// chatTurn converts one Messages turn. Tool results become tool messages,
// placed before the rest of the user's turn as the Messages API orders them;
// thinking blocks stay behind (no OpenAI-shaped upstream takes them back).
func chatTurn(role string, bs []msgBlock, native bool) ([]chat.Message, error) {
	var out []chat.Message
	var parts []chat.Part
	var calls []chat.ToolCall
	for _, b := range bs {
		switch b.Type {
		case "text":
			parts = append(parts, chat.Part{Type: chat.PartText, Text: b.Text})
		case "image", "document":
			if b.Source == nil {
				return nil, fmt.Errorf("%s block without a source", b.Type)
			}
			if b.Source.Named != "" {
				return nil, fmt.Errorf("%s block's source must be an object (type base64, url or text), not a string", b.Type)
			}
			url := b.Source.URL
			if b.Source.Type == "base64" {
				url = "data:" + b.Source.MediaType + ";base64," + b.Source.Data
			} else if b.Source.Type == "text" {
				parts = append(parts, chat.Part{Type: chat.PartText, Text: b.Source.Data})
				continue
			}
			if url == "" {
				return nil, fmt.Errorf("%s source type %q is not supported", b.Type, b.Source.Type)
			}
			if b.Type == "image" {
				parts = append(parts, chat.Part{Type: chat.PartImageURL, ImageURL: &chat.ImageURL{URL: url}})
			} else {
				parts = append(parts, chat.Part{Type: chat.PartFile, File: &chat.File{FileData: url, Filename: "document.pdf"}})
			}
		case "tool_use":
			if role != "assistant" {
				return nil, fmt.Errorf("tool_use blocks belong to assistant turns")
			}
			args := string(b.Input)
			if args == "" || args == "null" {
				args = "{}"
			}
			calls = append(calls, chat.ToolCall{ID: b.ID, Type: "function", Function: chat.FunctionCall{Name: b.Name, Arguments: args}})
		case "tool_result":
			if role != "user" {
				return nil, fmt.Errorf("tool_result blocks belong to user turns")
			}
			text, err := blocksText(b.Content)
			if err != nil {
				return nil, fmt.Errorf("tool_result content must be a string or text blocks")
			}
			if b.IsError {
				text = "Error: " + text
			}
			out = append(out, chat.Message{Role: chat.RoleTool, ToolCallID: b.ToolUseID, Content: chat.TextContent(text)})
		case "thinking", "redacted_thinking":
			// Signed reasoning only the model that wrote it can read back.
		default:
			if native {
				continue
			}
			return nil, fmt.Errorf("content block type %q is not supported by this model's upstreams", b.Type)
		}
	}
	if role == "assistant" {
		m := chat.Message{Role: chat.RoleAssistant, ToolCalls: calls}
		if len(parts) > 0 || len(calls) == 0 {
			m.Content = chat.TextContent(partsText(parts))
		}
		return append(out, m), nil
	}
	if len(parts) > 0 {
		if len(parts) == 1 && parts[0].Type == chat.PartText {
			out = append(out, chat.Message{Role: chat.RoleUser, Content: chat.TextContent(parts[0].Text)})
		} else {
			out = append(out, chat.Message{Role: chat.RoleUser, Content: chat.PartsContent(parts...)})
		}
	}
	return out, nil
}

func partsText(ps []chat.Part) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Text)
	}
	return b.String()
}

// dated matches a trailing snapshot date, as in claude-sonnet-4-5-20250929.
var dated = regexp.MustCompile(`-(\d{8}|latest)$`)

// versionDash matches a version written with a dash, as in claude-sonnet-4-6.
var versionDash = regexp.MustCompile(`-(\d+)-(\d+)$`)

// catalogModel maps the model a Messages client names to a catalog ID:
// RouteFree IDs as they are, and Anthropic's own names (claude-sonnet-4-6,
// claude-sonnet-4.6, claude-sonnet-4-5-20250929) to the anthropic/ entry,
// a model variant (":nitro") kept after it for the chat pipeline to read.
func catalogModel(cat *catalog.Catalog, name string) string {
	if _, ok := cat.Get(name); ok || strings.Contains(name, "/") {
		return name
	}
	base, variant := name, ""
	if i := strings.LastIndexByte(name, ':'); i > 0 {
		base, variant = name[:i], name[i:]
	}
	base = dated.ReplaceAllString(base, "")
	for _, c := range []string{base, versionDash.ReplaceAllString(base, "-$1.$2")} {
		if _, ok := cat.Get("anthropic/" + c); ok {
			return "anthropic/" + c + variant
		}
	}
	return name
}

// variantOf is the catalog model an ID names, with or without a model
// variant (":nitro", ":floor"); whether the variant is offered is the chat
// pipeline's to say.
func variantOf(cat *catalog.Catalog, id string) (*catalog.Model, bool) {
	if m, ok := cat.Get(id); ok {
		return m, true
	}
	if i := strings.LastIndexByte(id, ':'); i > 0 {
		return cat.Get(id[:i])
	}
	return nil, false
}

// responseFormat is Anthropic's structured output (output_config.format) as
// OpenAI's response_format, nil when the request asks for none. It is
// strict, which OpenAI enforces, when the schema keeps OpenAI's strict
// rules (every object closed and all its properties required): OpenAI
// refuses a strict schema that breaks them, and Anthropic's do not need to
// keep the second.
func (r *msgRequest) responseFormat() *chat.ResponseFormat {
	oc := r.OutputConfig
	if oc == nil || oc.Format == nil || oc.Format.Type != "json_schema" || len(bytes.TrimSpace(oc.Format.Schema)) == 0 {
		return nil
	}
	strict := strictSchema(oc.Format.Schema)
	return &chat.ResponseFormat{Type: "json_schema",
		JSONSchema: &chat.JSONSchema{Name: "output", Schema: chat.RawJSON(oc.Format.Schema), Strict: &strict}}
}

// strictSchema reports a JSON Schema OpenAI takes in strict mode.
func strictSchema(raw json.RawMessage) bool {
	var v any
	return json.Unmarshal(raw, &v) == nil && openAIStrict(v)
}

// openAIStrict reports a schema every object of which sets
// additionalProperties false and requires each of its properties.
func openAIStrict(v any) bool {
	switch n := v.(type) {
	case []any:
		for _, e := range n {
			if !openAIStrict(e) {
				return false
			}
		}
	case map[string]any:
		if props, ok := n["properties"].(map[string]any); ok || n["type"] == "object" {
			if n["additionalProperties"] != false {
				return false
			}
			required, _ := n["required"].([]any)
			if len(required) != len(props) {
				return false
			}
			for _, k := range required {
				if _, ok := props[fmt.Sprint(k)]; !ok {
					return false
				}
			}
		}
		for _, e := range n {
			if !openAIStrict(e) {
				return false
			}
		}
	}
	return true
}
