// Package chat holds OpenAI's chat-completions wire types, the request
// parser the gateway runs on every call, and the response and stream
// shapes every provider adapter produces.
package chat

import (
	"encoding/json"
	"slices"
	"time"
)

// RawJSON is an undecoded JSON value, kept byte for byte.
type RawJSON = json.RawMessage

// Request is a parsed chat-completions request. The typed fields are views
// for routing and translation; the request body that goes to an
// OpenAI-shaped upstream is rebuilt from the raw fields (see OpenAIBody),
// so fields RouteFree does not model reach the upstream untouched.
type Request struct {
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"`
	Tools               []Tool          `json:"tools,omitempty"`
	ToolChoice          *ToolChoice     `json:"tool_choice,omitempty"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls,omitempty"`
	ResponseFormat      *ResponseFormat `json:"response_format,omitempty"`
	MaxTokens           *int            `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int            `json:"max_completion_tokens,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	Stop                StringList      `json:"stop,omitempty"`
	Seed                *int64          `json:"seed,omitempty"`
	N                   *int            `json:"n,omitempty"`
	User                string          `json:"user,omitempty"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *StreamOptions  `json:"stream_options,omitempty"`

	// FromPrompt says the request gave OpenRouter's prompt in place of
	// messages (Messages holds it as the one user message): OpenRouter
	// answers such a request's choices with their text.
	FromPrompt bool `json:"-"`

	// Fallbacks are OpenRouter's models list without Model: tried in order
	// when Model's upstreams all fail.
	Fallbacks []string `json:"-"`

	// OutputCap is the model's output cap, which the gateway holds credit
	// for when the request sets no limit; 0 when unknown. Adapters of APIs
	// that require a limit (Anthropic's) send it then.
	OutputCap int `json:"-"`
	// UnaryTimeout is the time a non-streamed answer has to arrive whole
	// (the gateway's unary timeout); 0 when unknown. Adapters that must
	// send a limit size a non-streamed request's default to it.
	UnaryTimeout time.Duration `json:"-"`

	// Reasoning merges reasoning_effort and OpenRouter's reasoning object;
	// nil when the client asked nothing about reasoning. Adapters for
	// Anthropic and Gemini map it to thinking budgets.
	Reasoning *Reasoning `json:"-"`
	// ExcludeReasoning is reasoning.exclude, which may come alone: the
	// answer leaves the model's reasoning text out.
	ExcludeReasoning bool `json:"-"`

	// Extra holds top-level fields RouteFree does not model (logprobs,
	// reasoning_effort, metadata…), re-emitted for OpenAI-shaped upstreams.
	// reasoning_effort stays here as sent; the reasoning object does not
	// (OpenAI rejects it) and reaches them as reasoning_effort instead.
	Extra map[string]RawJSON `json:"-"`
	// Options holds RouteFree's own request options, OpenRouter's
	// (provider, models, route, transforms, usage, plugins, debug), which
	// never reach an upstream.
	Options map[string]RawJSON `json:"-"`

	// raw holds every top-level field kept for upstreams, as received.
	raw map[string]RawJSON
	// rewrite: the messages carry fields that OpenAI-shaped upstreams do
	// not take, so they are re-emitted without them (see openAIMessages).
	rewrite bool
	// rewriteTools: the tools do, likewise (see openAITools).
	rewriteTools bool
}

// MaxOutputTokens returns max_completion_tokens, else max_tokens, else def.
func (r *Request) MaxOutputTokens(def int) int {
	if r.MaxCompletionTokens != nil {
		return *r.MaxCompletionTokens
	}
	if r.MaxTokens != nil {
		return *r.MaxTokens
	}
	return def
}

// TopK returns OpenRouter's top_k, which OpenAI's API lacks (so it stays
// in Extra): nil when unset, 0 (its default, which turns it off) or not a
// whole number.
func (r *Request) TopK() *int {
	raw, ok := r.Extra["top_k"]
	if !ok {
		return nil
	}
	var k int
	if json.Unmarshal(raw, &k) != nil || k <= 0 {
		return nil
	}
	return &k
}

// CallableTools are the tools the model may call: those tool_choice's
// allowed_tools lists, else all of them. Adapters of APIs without
// allowed_tools declare only these.
func (r *Request) CallableTools() []Tool {
	tc := r.ToolChoice
	if tc == nil || tc.Allowed == nil {
		return r.Tools
	}
	out := make([]Tool, 0, len(tc.Allowed))
	for _, t := range r.Tools {
		if slices.Contains(tc.Allowed, t.Function.Name) {
			out = append(out, t)
		}
	}
	return out
}

// Choices returns n, the number of completions asked for: 1 when unset.
func (r *Request) Choices() int {
	if r.N != nil {
		return *r.N
	}
	return 1
}

// IncludeUsage reports whether the client asked for the final usage chunk.
func (r *Request) IncludeUsage() bool {
	return r.StreamOptions != nil && r.StreamOptions.IncludeUsage
}

// Roles of chat messages.
const (
	RoleSystem    = "system"
	RoleDeveloper = "developer"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Message is one turn of the conversation, in a request or a response.
type Message struct {
	Role       string     `json:"role"`
	Content    Content    `json:"content"`
	Name       string     `json:"name,omitempty"`
	Refusal    *string    `json:"refusal,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	// Reasoning is the model's reasoning text in an answer, as OpenRouter
	// names it (DeepSeek-style hosts send reasoning_content; Anthropic,
	// thinking blocks). Requests forward their messages as the client wrote
	// them, so it is read only from answers.
	Reasoning *string `json:"reasoning,omitempty"`
	// ReasoningContent is DeepSeek's name for it, read from requests only
	// to leave it out upstream (DeepSeek refuses it in its input).
	ReasoningContent *string `json:"reasoning_content,omitempty"`
	// ReasoningDetails is the reasoning in its provider's own blocks, as
	// OpenRouter returns it: an assistant message sent back with them lets
	// an Anthropic model go on thinking after its tool calls (it wants its
	// signed thinking blocks again).
	ReasoningDetails []ReasoningDetail `json:"reasoning_details,omitempty"`
}

// ReasoningDetail is one entry of OpenRouter's reasoning_details.
type ReasoningDetail struct {
	Type      string `json:"type"` // reasoning.text, reasoning.encrypted, reasoning.summary
	Text      string `json:"text,omitempty"`
	Signature string `json:"signature,omitempty"`
	Data      string `json:"data,omitempty"` // reasoning.encrypted
	Summary   string `json:"summary,omitempty"`
	ID        string `json:"id,omitempty"`
	Format    string `json:"format,omitempty"` // e.g. anthropic-claude-v1
	Index     int    `json:"index"`
}

// Reasoning detail types, and the formats of Anthropic's and Gemini's.
const (
	ReasoningText      = "reasoning.text"
	ReasoningEncrypted = "reasoning.encrypted"
	ReasoningSummary   = "reasoning.summary"
	FormatAnthropic    = "anthropic-claude-v1"
	FormatGemini       = "google-gemini-v1"
)

// Part is one element of an array content.
type Part struct {
	Type       string      `json:"type"` // text, image_url, file, input_audio, refusal
	Text       string      `json:"text,omitempty"`
	Refusal    string      `json:"refusal,omitempty"`
	ImageURL   *ImageURL   `json:"image_url,omitempty"`
	File       *File       `json:"file,omitempty"`
	InputAudio *InputAudio `json:"input_audio,omitempty"`
	// VideoURL is OpenRouter's video input, of a video_url part (and of
	// the older input_video).
	VideoURL *VideoURL `json:"video_url,omitempty"`
	// CacheControl is an Anthropic prompt-cache breakpoint, which OpenRouter
	// takes on content parts; the Anthropic adapter keeps it.
	CacheControl RawJSON `json:"cache_control,omitempty"`
}

// Content part types.
const (
	PartText       = "text"
	PartImageURL   = "image_url"
	PartFile       = "file"
	PartInputAudio = "input_audio"
	PartRefusal    = "refusal"
	PartVideoURL   = "video_url"
	PartInputVideo = "input_video" // OpenRouter's older name of video_url
)

// ImageURL is an image given by an http(s) URL or a data: URL.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// VideoURL is a video given by an http(s) URL (a YouTube link among
// them) or a data: URL, as OpenRouter takes video input.
type VideoURL struct {
	URL string `json:"url"`
}

// File is a document (a PDF, typically) given inline or by ID.
type File struct {
	FileData string `json:"file_data,omitempty"` // data: URL or bare base64
	FileID   string `json:"file_id,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// InputAudio is base64 audio with its format (wav, mp3).
type InputAudio struct {
	Data   string `json:"data"`
	Format string `json:"format"`
}

// Tool is a function the model may call.
type Tool struct {
	Type     string   `json:"type"` // "function"
	Function Function `json:"function"`
	// EagerInputStreaming is Anthropic's fine-grained tool streaming (the
	// tool's input streamed unbuffered), which OpenRouter takes on a tool:
	// Anthropic upstreams get it, OpenAI-shaped ones never (see
	// openAITools).
	EagerInputStreaming *bool `json:"eager_input_streaming,omitempty"`
}

// Function declares a callable function; Parameters is a JSON Schema.
type Function struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Parameters  RawJSON `json:"parameters,omitempty"`
	Strict      *bool   `json:"strict,omitempty"`
}

// ToolChoice is "none", "auto", "required" (Mode), or a named function
// (Mode "function", Function set). OpenAI's allowed_tools is Mode "auto"
// or "required" with Allowed: the names of the request's tools that the
// model may call, the others staying declared (for prompt caching).
type ToolChoice struct {
	Mode     string
	Function string
	Allowed  []string
}

// Tool choice modes.
const (
	ToolChoiceNone     = "none"
	ToolChoiceAuto     = "auto"
	ToolChoiceRequired = "required"
	ToolChoiceFunction = "function"
)

// ResponseFormat asks for text, any JSON object, or JSON matching a schema.
type ResponseFormat struct {
	Type       string      `json:"type"` // text, json_object, json_schema
	JSONSchema *JSONSchema `json:"json_schema,omitempty"`
}

// JSONSchema names the schema a json_schema response must follow.
type JSONSchema struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Schema      RawJSON `json:"schema,omitempty"`
	Strict      *bool   `json:"strict,omitempty"`
}

// StreamOptions are the client's stream options.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// StringList accepts a string or an array of strings (as "stop" does).
type StringList []string
