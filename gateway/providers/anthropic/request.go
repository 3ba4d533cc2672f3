package anthropic

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/internal/core"
)

// The Messages API request, as much of it as RouteFree uses.
type request struct {
	Model         string      `json:"model"`
	MaxTokens     int         `json:"max_tokens"`
	System        []block     `json:"system,omitempty"`
	Messages      []message   `json:"messages"`
	Tools         []tool      `json:"tools,omitempty"`
	ToolChoice    *toolChoice `json:"tool_choice,omitempty"`
	Temperature   *float64    `json:"temperature,omitempty"`
	TopP          *float64    `json:"top_p,omitempty"`
	TopK          *int        `json:"top_k,omitempty"`
	StopSequences []string    `json:"stop_sequences,omitempty"`
	Stream        bool        `json:"stream,omitempty"`
	Metadata      *metadata   `json:"metadata,omitempty"`
	Thinking      *thinking   `json:"thinking,omitempty"`
	// OutputConfig carries structured outputs' JSON Schema (structured.go).
	OutputConfig *outputConfig `json:"output_config,omitempty"`

	// applied are the stop sequences the gateway applies to the answer
	// (splitStops): Anthropic refuses them.
	applied []string

	// unnamedCalls counts the conversation's tool calls without an ID;
	// unanswered holds the IDs given to those not yet answered by a result
	// without an ID (see unnamedCallID).
	unnamedCalls int
	unanswered   []string
}

// thinking turns on extended thinking with a token budget.
type thinking struct {
	Type         string `json:"type"` // "enabled"
	BudgetTokens int    `json:"budget_tokens"`
}

type metadata struct {
	UserID string `json:"user_id"`
}

type message struct {
	Role    string  `json:"role"`
	Content []block `json:"content"`
}

type block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	Source    *source         `json:"source,omitempty"`
	Title     string          `json:"title,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   []block         `json:"content,omitempty"`
	// A thinking block sent back: its text and signature, or a redacted
	// block's data.
	Thinking  string `json:"thinking,omitempty"`
	Signature string `json:"signature,omitempty"`
	Data      string `json:"data,omitempty"`
	// CacheControl is a prompt-cache breakpoint the client wrote on the
	// content part this block comes from.
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

type source struct {
	Type      string `json:"type"` // base64, url, text
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
	// Strict is strict tool use: the model's input to the tool is
	// constrained to InputSchema, as structured outputs constrain answers.
	Strict bool `json:"strict,omitempty"`
	// EagerInputStreaming is fine-grained tool streaming: the tool's input
	// streams as written, without buffering until each key is complete.
	EagerInputStreaming *bool `json:"eager_input_streaming,omitempty"`
}

type toolChoice struct {
	Type                   string `json:"type"` // auto, any, tool, none
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
}

// DefaultMaxTokens is sent when the client gave no limit (Anthropic
// requires one) and the model's output cap is unknown, or the model is
// older than Claude 3.7 (they take 4,096 or 8,192).
const DefaultMaxTokens = 4096

// maxDefaultTokens bounds the limit sent for a client that gave none: the
// least output cap of the Claude models since 3.7 (Opus 4 and 4.1 take
// 32,000), so that the model's cap in the catalog, 32,768 when unset, is
// never refused.
const maxDefaultTokens = 32000

// Anthropic's SDKs reckon that Claude writes at least 128,000 tokens an
// hour, and refuse a non-streamed request whose max_tokens could take
// longer than their 10-minute timeout at that pace (21,333); Opus 4 and
// 4.1, slower, above 8,192.
const (
	tokensPerHour       = 128000
	opus4UnaryMaxTokens = 8192
)

// defaultMaxTokens is the limit sent when the client gave none. OpenAI's
// clients set none and expect the model's whole answer, as OpenRouter gives
// it: a stream gets the model's output cap, which the gateway holds credit
// for anyway. A non-streamed answer arrives whole, only once written,
// within the gateway's unary timeout: it gets what Claude writes in that
// time at Anthropic's own reckoning (21,333 for the 10 minutes of the
// default; never less than DefaultMaxTokens), within the model's cap, so
// that a longer one ends with finish_reason "length" rather than a
// timeout.
func defaultMaxTokens(req *chat.Request, model string) int {
	if req.OutputCap <= 0 || !canThink(model) {
		return DefaultMaxTokens
	}
	limit := min(req.OutputCap, maxDefaultTokens)
	if req.Stream {
		return limit
	}
	if isOpus4(model) {
		limit = min(limit, opus4UnaryMaxTokens)
	}
	if req.UnaryTimeout > 0 {
		limit = min(limit, int(int64(tokensPerHour)*int64(req.UnaryTimeout)/int64(time.Hour)))
	}
	return max(limit, min(req.OutputCap, DefaultMaxTokens))
}

// isOpus4 reports Claude Opus 4 and 4.1 (claude-opus-4-20250514,
// claude-opus-4-0, claude-opus-4-1…), not Opus 4.5 and later.
func isOpus4(model string) bool {
	v, ok := strings.CutPrefix(model, "claude-opus-4")
	return ok && (v == "" || v == "-0" || v == "-1" || strings.HasPrefix(v, "-0-") || strings.HasPrefix(v, "-1-") ||
		strings.HasPrefix(v, "-1@") || strings.HasPrefix(v, "-2025") || strings.HasPrefix(v, "@"))
}

var emptyObject = json.RawMessage(`{}`)

// anyObject is the schema of json_object's forced tool: any JSON object.
var anyObject = json.RawMessage(`{"type":"object"}`)

// Check refuses, before any call, what Anthropic cannot carry: more than
// one choice (the Messages API has no n).
func (Adapter) Check(req *chat.Request) error {
	if req.N != nil && *req.N > 1 {
		return core.Unsupported("anthropic", "n > 1")
	}
	return nil
}

// translate builds the Messages request. Structured output
// (response_format json_schema) goes as Anthropic's structured outputs
// (output_config.format) to the models that take them and schemas they
// can express: the answer is then the model's text, constrained to the
// schema, beside the client's tools and thinking. Otherwise, and for
// json_object, which has no schema, it is asked for with a forced tool
// whose input_schema is the schema (any object for json_object): Claude
// then must answer with that JSON, which the response side turns back into
// message content. When the client also sends its own tools, forcing would
// forbid them, so the schema goes into the system prompt as an
// instruction instead. jsonTool is the forced tool's name, "" when none.
// A function declared strict goes as Anthropic's strict tool use to the
// same models, its schema rewritten as a structured output's.
func translate(req *chat.Request, model string) (out *request, jsonTool string, err error) {
	if err := (Adapter{}).Check(req); err != nil {
		return nil, "", err
	}
	out = &request{Model: model, MaxTokens: req.MaxOutputTokens(defaultMaxTokens(req, model)), TopP: req.TopP, TopK: req.TopK(),
		Stream: req.Stream}
	out.StopSequences, out.applied = splitStops(req.Stop)
	if t := req.Temperature; t != nil {
		v := min(*t, 1) // Anthropic's range is 0..1
		out.Temperature = &v
	}
	if req.User != "" {
		out.Metadata = &metadata{UserID: req.User}
	}
	for i := range req.Messages {
		if err := out.add(&req.Messages[i]); err != nil {
			return nil, "", err
		}
	}
	out.systemAlone()
	if err := out.lastTurnKept(req.Messages); err != nil {
		return nil, "", err
	}
	out.trimPrefill()
	// Claude has no allowed_tools: it is sent only the tools the model may
	// call, with the mode as tool_choice.
	for _, t := range req.CallableTools() {
		schema := t.Function.Parameters
		if len(schema) == 0 || firstByte(schema) != '{' {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		tl := tool{Name: t.Function.Name, Description: t.Function.Description, InputSchema: schema, EagerInputStreaming: t.EagerInputStreaming}
		// A function declared strict is Anthropic's strict tool use on the
		// models with structured outputs, when its schema fits the subset
		// they compile; otherwise it goes as before, unconstrained.
		if s := t.Function.Strict; s != nil && *s && structuredOutputs(model) {
			if strict, ok := strictSchema(schema); ok {
				tl.InputSchema, tl.Strict = strict, true
			}
		}
		out.Tools = append(out.Tools, tl)
	}
	out.ToolChoice = mapToolChoice(req)
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_schema":
			schema := rf.JSONSchema.Schema
			if strict, ok := strictSchema(schema); ok && structuredOutputs(model) {
				out.OutputConfig = &outputConfig{Format: &outputFormat{Type: "json_schema", Schema: strict}}
			} else if len(req.Tools) == 0 && isObjectSchema(schema) {
				jsonTool = toolName(rf.JSONSchema.Name)
				out.Tools = []tool{{Name: jsonTool, Description: "Give the answer as this tool's input. " + rf.JSONSchema.Description, InputSchema: schema}}
				out.ToolChoice = &toolChoice{Type: "tool", Name: jsonTool}
			} else {
				out.System = append(out.System, block{Type: "text", Text: "Respond only with a JSON value that matches this JSON Schema, with no other text:\n" + string(schema)})
			}
		case "json_object":
			if len(req.Tools) == 0 {
				jsonTool = toolName("")
				out.Tools = []tool{{Name: jsonTool, Description: "Give the answer as this tool's input, a JSON object.", InputSchema: anyObject}}
				out.ToolChoice = &toolChoice{Type: "tool", Name: jsonTool}
			} else {
				out.System = append(out.System, block{Type: "text", Text: "Respond only with a valid JSON object, with no other text."})
			}
		}
	}
	if len(out.Tools) == 0 {
		out.declareHistoryTools()
	}
	if err := out.applyThinking(req, model); err != nil {
		return nil, "", err
	}
	if out.Temperature != nil && out.TopP != nil {
		// Claude's models since Sonnet 4.5 refuse the two together, and
		// chat apps send both (top_p 1 by default): temperature is kept,
		// as a parameter a model does not take is ignored.
		out.TopP = nil
	}
	if out.Thinking == nil {
		out.dropThinking()
	}
	return out, jsonTool, nil
}

func mapToolChoice(req *chat.Request) *toolChoice {
	if len(req.Tools) == 0 {
		return nil
	}
	var tc *toolChoice
	if c := req.ToolChoice; c != nil {
		switch c.Mode {
		case chat.ToolChoiceNone:
			return &toolChoice{Type: "none"}
		case chat.ToolChoiceAuto:
			tc = &toolChoice{Type: "auto"}
		case chat.ToolChoiceRequired:
			tc = &toolChoice{Type: "any"}
		case chat.ToolChoiceFunction:
			tc = &toolChoice{Type: "tool", Name: c.Function}
		}
	}
	if p := req.ParallelToolCalls; p != nil && !*p {
		if tc == nil {
			tc = &toolChoice{Type: "auto"}
		}
		tc.DisableParallelToolUse = true
	}
	return tc
}

// openSchema is the input schema of a tool declared only because the
// conversation used it.
var openSchema = json.RawMessage(`{"type":"object"}`)

// declareHistoryTools: Anthropic refuses tool_use and tool_result blocks in
// a request that defines no tools, and OpenAI's clients send tool results
// back without tools when the model is only to answer from them. The tools
// the conversation called are declared, with tool_choice none so that the
// model calls none, as the client asked.
func (r *request) declareHistoryTools() {
	for _, m := range r.Messages {
		if m.Role != "assistant" {
			continue
		}
		for _, b := range m.Content {
			if b.Type != "tool_use" {
				continue
			}
			name := toolName(b.Name)
			if !slices.ContainsFunc(r.Tools, func(t tool) bool { return t.Name == name }) {
				r.Tools = append(r.Tools, tool{Name: name, InputSchema: openSchema})
			}
		}
	}
	if len(r.Tools) > 0 {
		r.ToolChoice = &toolChoice{Type: "none"}
	}
}

// add appends one OpenAI message, merging it into the previous turn when
// the roles match (Anthropic wants alternating user/assistant turns).
func (r *request) add(m *chat.Message) error {
	switch m.Role {
	case chat.RoleSystem, chat.RoleDeveloper:
		r.System = append(r.System, textBlocks(m.Content)...)
		return nil
	case chat.RoleTool:
		id := toolUseID(m.ToolCallID)
		if m.ToolCallID == "" {
			id = r.unnamedResultID()
		}
		res := block{Type: "tool_result", ToolUseID: id, Content: textBlocks(m.Content)}
		r.appendTurn("user", res)
		return nil
	case chat.RoleAssistant:
		blocks := textBlocks(m.Content)
		for _, tc := range m.ToolCalls {
			input := json.RawMessage(tc.Function.Arguments)
			if firstByte(input) != '{' || !json.Valid(input) {
				input = emptyObject
			}
			id := toolUseID(tc.ID)
			if tc.ID == "" {
				id = r.unnamedCallID()
			}
			blocks = append(blocks, block{Type: "tool_use", ID: id, Name: tc.Function.Name, Input: input})
		}
		if len(blocks) > 0 {
			blocks = append(thinkingBlocks(m.ReasoningDetails), blocks...)
		}
		r.appendTurn("assistant", blocks...)
		return nil
	}
	// user
	if !m.Content.IsParts() {
		if !blank(m.Content.Text) {
			r.appendTurn("user", block{Type: "text", Text: m.Content.Text})
		}
		return nil
	}
	blocks := make([]block, 0, len(m.Content.Parts))
	for _, p := range m.Content.Parts {
		b, err := userBlock(p)
		if err != nil {
			return err
		}
		if b.Type != "" {
			blocks = append(blocks, b)
		}
	}
	r.appendTurn("user", blocks...)
	return nil
}

// thinkingBlocks turns an assistant message's reasoning_details back into
// the thinking blocks Claude wrote: signed text, or redacted data. Details
// of another provider's format, or unsigned, cannot be sent back.
func thinkingBlocks(details []chat.ReasoningDetail) []block {
	var out []block
	for _, d := range details {
		if d.Format != "" && d.Format != chat.FormatAnthropic {
			continue
		}
		switch {
		case d.Type == chat.ReasoningText && d.Signature != "" && d.Text != "":
			out = append(out, block{Type: "thinking", Thinking: d.Text, Signature: d.Signature})
		case d.Type == chat.ReasoningEncrypted && d.Data != "":
			out = append(out, block{Type: "redacted_thinking", Data: d.Data})
		}
	}
	return out
}

func isThinking(b block) bool { return b.Type == "thinking" || b.Type == "redacted_thinking" }

// dropThinking removes the thinking blocks sent back when the request does
// not think: only a thinking request needs them.
func (r *request) dropThinking() {
	for i := range r.Messages {
		m := &r.Messages[i]
		if m.Role != "assistant" || len(m.Content) == 0 || !isThinking(m.Content[0]) {
			continue
		}
		kept := m.Content[:0]
		for _, b := range m.Content {
			if !isThinking(b) {
				kept = append(kept, b)
			}
		}
		m.Content = kept
	}
}

// systemAlone makes a system prompt without any other message the
// conversation's one user message: OpenAI's API answers such a request,
// and Anthropic refuses one without messages.
func (r *request) systemAlone() {
	if len(r.Messages) == 0 && len(r.System) > 0 {
		r.appendTurn("user", r.System...)
		r.System = nil
	}
}

// lastTurnKept refuses a conversation whose last message, a user's, was
// left out as blank: the assistant's answer before it would then be last,
// and Claude would continue it as a prefill rather than answer.
func (r *request) lastTurnKept(msgs []chat.Message) error {
	n := len(msgs)
	if n == 0 || msgs[n-1].Role != chat.RoleUser {
		return nil
	}
	if m := len(r.Messages); m > 0 && r.Messages[m-1].Role == "user" {
		return nil
	}
	return &chat.ValidationError{Param: fmt.Sprintf("messages[%d].content", n-1),
		Message: "is whitespace alone, which Anthropic's models refuse; send the user's text"}
}

func (r *request) appendTurn(role string, blocks ...block) {
	if len(blocks) == 0 {
		return
	}
	if n := len(r.Messages); n > 0 && r.Messages[n-1].Role == role {
		r.Messages[n-1].Content = append(r.Messages[n-1].Content, blocks...)
		return
	}
	r.Messages = append(r.Messages, message{Role: role, Content: blocks})
}

// trimPrefill: a final assistant turn is a prefill the answer continues;
// Anthropic rejects one that ends in whitespace.
func (r *request) trimPrefill() {
	n := len(r.Messages)
	if n == 0 || r.Messages[n-1].Role != "assistant" {
		return
	}
	m := &r.Messages[n-1]
	last := &m.Content[len(m.Content)-1]
	if last.Type != "text" {
		return
	}
	last.Text = strings.TrimRight(last.Text, " \t\r\n")
	if last.Text == "" {
		m.Content = m.Content[:len(m.Content)-1]
		if len(m.Content) == 0 {
			r.Messages = r.Messages[:n-1]
		}
	}
}

func userBlock(p chat.Part) (block, error) {
	switch p.Type {
	case chat.PartText:
		if blank(p.Text) {
			return block{}, nil // Anthropic rejects empty and whitespace-only text blocks
		}
		return block{Type: "text", Text: p.Text, CacheControl: json.RawMessage(p.CacheControl)}, nil
	case chat.PartImageURL:
		u := p.ImageURL.URL
		if mt, data, ok := core.ParseDataURL(u); ok {
			return block{Type: "image", Source: &source{Type: "base64", MediaType: mt, Data: data}, CacheControl: json.RawMessage(p.CacheControl)}, nil
		}
		if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
			return block{Type: "image", Source: &source{Type: "url", URL: u}, CacheControl: json.RawMessage(p.CacheControl)}, nil
		}
		return block{}, core.Unsupported("anthropic", "this image URL form")
	case chat.PartFile:
		b, err := documentBlock(p.File)
		b.CacheControl = json.RawMessage(p.CacheControl)
		return b, err
	}
	return block{}, core.Unsupported("anthropic", p.Type+" content")
}

// documentBlock maps a file part: PDFs as base64 documents, plain text as
// text documents. Anthropic cannot see OpenAI file IDs.
func documentBlock(f *chat.File) (block, error) {
	if f.FileData == "" {
		return block{}, core.Unsupported("anthropic", "file_id")
	}
	mt, data, ok := core.ParseDataURL(f.FileData)
	if !ok {
		mt, data = "application/pdf", f.FileData // bare base64, as OpenAI's SDK sends PDFs
	}
	switch mt {
	case "application/pdf":
		return block{Type: "document", Title: f.Filename, Source: &source{Type: "base64", MediaType: mt, Data: data}}, nil
	case "text/plain":
		text, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return block{}, &chat.ValidationError{Message: "file_data is not valid base64"}
		}
		return block{Type: "document", Title: f.Filename, Source: &source{Type: "text", MediaType: mt, Data: string(text)}}, nil
	}
	return block{}, core.Unsupported("anthropic", "file type "+mt)
}

// textBlocks returns the texts of a content that are not blank as text
// blocks, each with the cache breakpoint written on its part.
func textBlocks(c chat.Content) []block {
	if !c.IsParts() {
		if blank(c.Text) {
			return nil
		}
		return []block{{Type: "text", Text: c.Text}}
	}
	out := make([]block, 0, len(c.Parts))
	for _, p := range c.Parts {
		if p.Type == chat.PartText && !blank(p.Text) {
			out = append(out, block{Type: "text", Text: p.Text, CacheControl: json.RawMessage(p.CacheControl)})
		}
	}
	return out
}

// blank reports a text that is empty or whitespace alone, which Anthropic
// refuses as a text block ("text content blocks must contain non-whitespace
// text") and as a stop sequence, where OpenAI's API takes both: such blocks
// and stop sequences say nothing to the model and are left out.
func blank(s string) bool { return strings.TrimSpace(s) == "" }

func isObjectSchema(s json.RawMessage) bool {
	var v struct {
		Type any `json:"type"`
	}
	return firstByte(s) == '{' && json.Unmarshal(s, &v) == nil && v.Type == "object"
}

func isIDByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// toolUseID makes a tool-call ID of the conversation one that Anthropic
// takes (^[a-zA-Z0-9_-]+$): other providers write IDs such as
// "call_abc.123" or "functions.get_weather:0". A valid ID goes as it is;
// another gets its other bytes replaced and a hash of the whole ID appended,
// so that the call and its result, rewritten apart, still agree, and two
// IDs that differ stay different.
func toolUseID(id string) string {
	b := []byte(id)
	changed := false
	for i, c := range b {
		if !isIDByte(c) {
			b[i], changed = '_', true
		}
	}
	if !changed {
		return id
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return string(b) + "_" + strconv.FormatUint(h.Sum64(), 36)
}

// unnamedCallID gives a tool call without an ID (some OpenAI-shaped hosts
// write none; Anthropic refuses an empty one) an ID from its place among
// the conversation's calls without one: the same conversation, which
// Claude may have cached, gets the same IDs each time it is sent.
func (r *request) unnamedCallID() string {
	id := "toolu_unnamed_" + strconv.Itoa(r.unnamedCalls)
	r.unnamedCalls++
	r.unanswered = append(r.unanswered, id)
	return id
}

// unnamedResultID is the ID of the earliest call without one that no
// result has answered yet, as results follow their calls in order. A
// result with no such call gets an ID of its own, which Anthropic refuses
// as it refuses any result without its call.
func (r *request) unnamedResultID() string {
	if len(r.unanswered) == 0 {
		r.unnamedCalls++
		return "toolu_unnamed_" + strconv.Itoa(r.unnamedCalls-1)
	}
	id := r.unanswered[0]
	r.unanswered = r.unanswered[1:]
	return id
}

// toolName makes a schema name a valid tool name: [a-zA-Z0-9_-]{1,64}.
func toolName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !isIDByte(c) {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	if len(b) == 0 {
		return "json_output"
	}
	return string(b)
}

func firstByte(b []byte) byte {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c
		}
	}
	return 0
}
