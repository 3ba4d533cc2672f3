package chat

import (
	"strconv"

	"github.com/shopspring/decimal"
)

// Response is a non-streamed chat completion in OpenAI's shape.
type Response struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "chat.completion"
	Created int64  `json:"created"`
	Model   string `json:"model"`
	// Provider names the provider that served, as OpenRouter's answers do.
	Provider string   `json:"provider,omitempty"`
	Choices  []Choice `json:"choices"`
	Usage    *Usage   `json:"usage,omitempty"`
	// SystemFingerprint is null when the upstream sends none (Anthropic,
	// Gemini): OpenRouter's schema always has the key.
	SystemFingerprint *string `json:"system_fingerprint"`
}

// Choice is one completion alternative of a Response.
type Choice struct {
	Index        int     `json:"index"`
	Message      Message `json:"message"`
	FinishReason string  `json:"finish_reason"`
	// NativeFinishReason is the provider's own reason (Anthropic's
	// end_turn, Gemini's MAX_TOKENS), which OpenRouter's answers carry
	// beside the normalised one; null when the provider gave none.
	NativeFinishReason *string `json:"native_finish_reason"`
	// Logprobs is null when there are none: OpenRouter's choices always
	// carry the key.
	Logprobs RawJSON `json:"logprobs"`
}

// Native returns the provider's own finish reason for a choice's
// NativeFinishReason: nil (null) when it gave none.
func Native(reason string) *string {
	if reason == "" {
		return nil
	}
	return &reason
}

// Finish reasons RouteFree emits, as OpenAI names them.
const (
	FinishStop          = "stop"
	FinishLength        = "length"
	FinishToolCalls     = "tool_calls"
	FinishContentFilter = "content_filter"
	// FinishError: the generation ended in an error (OpenRouter's name).
	FinishError = "error"
)

// ToolCall is a function call made by the assistant. Index is set only in
// stream deltas, where it says which call an argument fragment belongs to.
type ToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"` // "function"
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function and carries its arguments as a JSON text.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// Chunk is one streamed "chat.completion.chunk".
type Chunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "chat.completion.chunk"
	Created int64  `json:"created"`
	Model   string `json:"model"`
	// Provider names the provider that served; the gateway sets it on the
	// usage chunk that ends every stream.
	Provider string        `json:"provider,omitempty"`
	Choices  []ChunkChoice `json:"choices"`
	Usage    *Usage        `json:"usage,omitempty"`
	// Left out when unknown: OpenRouter's chunk schema has it as an
	// optional string, never null (a full response carries the key, null).
	SystemFingerprint *string `json:"system_fingerprint,omitempty"`
}

// ChunkChoice is one choice's delta inside a Chunk.
type ChunkChoice struct {
	Index              int     `json:"index"`
	Delta              Delta   `json:"delta"`
	FinishReason       *string `json:"finish_reason"`
	NativeFinishReason *string `json:"native_finish_reason,omitempty"`
	Logprobs           RawJSON `json:"logprobs,omitempty"`
}

// Delta is the incremental part of a streamed message.
type Delta struct {
	Role      string     `json:"role,omitempty"`
	Content   *string    `json:"content,omitempty"`
	Refusal   *string    `json:"refusal,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	Reasoning *string    `json:"reasoning,omitempty"` // a piece of reasoning text
	// ReasoningDetails carries pieces of reasoning in their provider's
	// blocks (text, then the block's signature), as OpenRouter streams them.
	ReasoningDetails []ReasoningDetail `json:"reasoning_details,omitempty"`
}

// NewUsageChunk returns the final usage-only chunk (empty choices). OpenAI
// sends it when stream_options.include_usage is true; OpenRouter, and so
// RouteFree, at the end of every stream.
func NewUsageChunk(id, model, provider string, created int64, u Usage) Chunk {
	return Chunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model, Provider: provider, Choices: []ChunkChoice{}, Usage: &u}
}

// Usage is token accounting as OpenAI fills it: reasoning tokens are inside
// CompletionTokens, cached input tokens inside PromptTokens. The gateway's
// answers add OpenRouter's fields: cost, is_byok and cost_details.
type Usage struct {
	PromptTokens            int                      `json:"prompt_tokens"`
	CompletionTokens        int                      `json:"completion_tokens"`
	TotalTokens             int                      `json:"total_tokens"`
	PromptTokensDetails     *PromptTokensDetails     `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *CompletionTokensDetails `json:"completion_tokens_details,omitempty"`
	// Cost is what RouteFree bills for the request, in NTD, as a JSON number
	// (the ledger keeps the exact decimal).
	Cost        *Cost        `json:"cost,omitempty"`
	IsBYOK      *bool        `json:"is_byok,omitempty"`
	CostDetails *CostDetails `json:"cost_details,omitempty"`
	// Unreadable says an upstream's report held a count not written as an
	// integer that fits (a fraction, an exponent, a string, a number past
	// any integer): its counts are zero and not to be believed.
	Unreadable bool `json:"-"`
}

// CostDetails splits Cost as OpenRouter does. There is no bring-your-own-key
// upstream cost, so UpstreamInferenceCost is always null; the prompt and
// completion parts are RouteFree's NTD charge for each side.
type CostDetails struct {
	UpstreamInferenceCost            *Cost `json:"upstream_inference_cost"`
	UpstreamInferencePromptCost      Cost  `json:"upstream_inference_prompt_cost"`
	UpstreamInferenceCompletionsCost Cost  `json:"upstream_inference_completions_cost"`
}

// CostDigits is how many decimal places a displayed cost keeps: NT$0.00000001
// is far below any request's price, and a float64 holds every such figure.
const CostDigits = 8

// Cost is an NTD amount shown to clients as a JSON number, rounded to
// CostDigits places. It reads a number or a decimal string.
type Cost struct{ decimal.Decimal }

// NewCost wraps an exact amount for display.
func NewCost(d decimal.Decimal) Cost { return Cost{d} }

// MarshalJSON writes a plain JSON number (never an exponent).
func (c Cost) MarshalJSON() ([]byte, error) { return appendCost(nil, c.Decimal), nil }

// appendCost appends d as decimal's Round(CostDigits) (half away from zero,
// only when it has more places) and String (no trailing zeros) write it. A
// coefficient that fits an int64 is rounded and written without math/big:
// every answer carries three costs, and going through decimal cost each a
// few big integers and strings. Anything larger still goes through decimal.
func appendCost(b []byte, d decimal.Decimal) []byte {
	exp := d.Exponent()
	if exp > 0 || exp < -CostDigits-18 || d.NumDigits() > 18 {
		if exp < -CostDigits { // String drops trailing zeros: round only when digits go
			d = d.Round(CostDigits)
		}
		return append(b, d.String()...)
	}
	coef := d.CoefficientInt64()
	if exp < -CostDigits {
		p := pow10[-CostDigits-exp]
		q, r := coef/p, coef%p
		if r >= p-r { // |r| ≥ half of p, away from zero
			q++
		} else if -r >= p+r {
			q--
		}
		coef, exp = q, -CostDigits
	}
	if coef < 0 {
		b = append(b, '-')
		coef = -coef // |coef| < 10^18: no overflow
	}
	var buf [20]byte
	digits := strconv.AppendInt(buf[:0], coef, 10)
	places := int(-exp)
	if len(digits) <= places { // 0.000ddd
		b = append(b, '0')
	} else {
		b = append(b, digits[:len(digits)-places]...)
	}
	frac := digits[max(len(digits)-places, 0):]
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	if len(frac) > 0 {
		b = append(b, '.')
		for range places - len(digits) {
			b = append(b, '0')
		}
		b = append(b, frac...)
	}
	return b
}

// pow10[i] is 10^i, for the places appendCost rounds away.
var pow10 = [19]int64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// UnmarshalJSON reads a number or a quoted decimal.
func (c *Cost) UnmarshalJSON(b []byte) error { return c.Decimal.UnmarshalJSON(b) }

// PromptTokensDetails breaks down prompt tokens: those read from the
// prompt cache, and, as OpenRouter reports them, those written to it.
// CacheWrite1hTokens, the part of the writes Anthropic keeps for an hour
// (and charges more for), is billed but not shown: OpenRouter's usage has
// no field for it.
type PromptTokensDetails struct {
	CachedTokens       int `json:"cached_tokens"`
	CacheWriteTokens   int `json:"cache_write_tokens"`
	CacheWrite1hTokens int `json:"-"`
	AudioTokens        int `json:"audio_tokens"`
}

// CompletionTokensDetails breaks down completion tokens.
type CompletionTokensDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
	AudioTokens     int `json:"audio_tokens,omitempty"`
	ImageTokens     int `json:"image_tokens"`
}

// CachedTokens returns the cached part of the prompt, 0 when not reported.
func (u Usage) CachedTokens() int {
	if u.PromptTokensDetails == nil {
		return 0
	}
	return u.PromptTokensDetails.CachedTokens
}

// CacheWriteTokens returns the prompt tokens written to the prompt cache, 0
// when not reported.
func (u Usage) CacheWriteTokens() int {
	if u.PromptTokensDetails == nil {
		return 0
	}
	return u.PromptTokensDetails.CacheWriteTokens
}

// CacheWrite1hTokens returns the prompt tokens written to the prompt cache
// for an hour, 0 when not reported.
func (u Usage) CacheWrite1hTokens() int {
	if u.PromptTokensDetails == nil {
		return 0
	}
	return u.PromptTokensDetails.CacheWrite1hTokens
}

// ReasoningTokens returns the reasoning part of the completion, 0 when not reported.
func (u Usage) ReasoningTokens() int {
	if u.CompletionTokensDetails == nil {
		return 0
	}
	return u.CompletionTokensDetails.ReasoningTokens
}

// NewUsage builds a Usage from its parts; total is prompt + completion.
func NewUsage(prompt, completion, cached, reasoning int) Usage {
	u := Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
	u.PromptTokensDetails = &PromptTokensDetails{CachedTokens: cached}
	u.CompletionTokensDetails = &CompletionTokensDetails{ReasoningTokens: reasoning}
	return u
}
