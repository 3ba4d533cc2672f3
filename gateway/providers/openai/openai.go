// Package openai is the adapter for OpenAI and every OpenAI-compatible
// host (DeepSeek, Meta's hosts…). Requests go out as the client sent them;
// answers and streams are relayed nearly byte for byte.
package openai

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/internal/core"
)

// Adapter speaks OpenAI's chat completions. Upstream.BaseURL includes the
// version path, e.g. https://api.openai.com/v1 or https://api.deepseek.com/v1.
type Adapter struct{}

// Send forwards the request with the upstream's model and key.
func (Adapter) Send(ctx context.Context, hc *http.Client, up core.Upstream, req *chat.Request) (*core.Result, error) {
	body, err := req.OpenAIBodyFor(up.Model, bodyOptions(up))
	if err != nil {
		return nil, err
	}
	header := http.Header{"Authorization": {"Bearer " + up.APIKey}}
	resp, err := core.Post(ctx, hc, up.Provider, strings.TrimSuffix(up.BaseURL, "/")+"/chat/completions", body, req.Stream, header)
	if err != nil {
		return nil, err
	}
	if req.Stream {
		return &core.Result{Stream: newStream(up.Provider, req.Model, resp.Body)}, nil
	}
	b, err := core.ReadBody(up.Provider, resp)
	if err != nil {
		return nil, err
	}
	if rel := relayOf(b, req.ExcludeReasoning); rel != nil {
		return &core.Result{Relay: rel}, nil
	}
	r, err := DecodeResponse(b)
	if err == nil && len(r.Response.Choices) == 0 {
		// Not an answer: an error sent with a 200, or nothing at all.
		if ae := core.AnswerError(up.Provider, b); ae != nil {
			return nil, ae
		}
		err = errNoChoices
	}
	if err != nil {
		return nil, core.BadResponse(up.Provider, err)
	}
	r.Response.Model = req.Model
	return r, nil
}

var errNoChoices = errors.New("answer has no choices")

// modelParams are the parameters OpenAI's own API refuses for a model that
// does not take them: its reasoning models take no sampling parameters,
// its other models no reasoning_effort.
var modelParams = []string{"temperature", "top_p", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "stop", "reasoning_effort"}

// mistralOptions fit a body to Mistral's API, which refuses (422,
// extra_forbidden) every field its schema lacks, stream_options among them
// (its streams report usage unasked), and names max_tokens and the seed
// its own way. OpenRouter ignores what a provider does not take.
var mistralOptions = chat.BodyOptions{
	Only: map[string]bool{
		"messages": true, "temperature": true, "top_p": true, "max_tokens": true, "stream": true,
		"stop": true, "random_seed": true, "response_format": true, "tools": true, "tool_choice": true,
		"presence_penalty": true, "frequency_penalty": true, "n": true, "prediction": true,
		"parallel_tool_calls": true, "prompt_mode": true, "safe_prompt": true,
	},
	Rename:          map[string]string{"max_completion_tokens": "max_tokens", "seed": "random_seed"},
	NoStreamOptions: true,
	MessageFields: map[string]map[string]bool{
		"system":    {"role": true, "content": true},
		"user":      {"role": true, "content": true},
		"assistant": {"role": true, "content": true, "tool_calls": true, "prefix": true},
		"tool":      {"role": true, "content": true, "tool_call_id": true, "name": true},
	},
}

// hostDrop is what a compatible host's upstream refuses: its fields, and
// reasoning_effort too for a model that does not reason. Both lists are
// built once, as bodyOptions runs on every request.
type hostDrop struct{ fields, noEffort []string }

func dropping(fields ...string) hostDrop {
	return hostDrop{fields, append(slices.Clip(fields), "reasoning_effort")}
}

// of is the list for up: reasoning_effort goes too where the catalog lists
// the upstream's parameters without it (OpenRouter ignores reasoning for
// a model that does not reason, where hosts refuse it).
func (d hostDrop) of(up core.Upstream) []string {
	if len(up.Params) > 0 && !slices.Contains(up.Params, "reasoning_effort") {
		return d.noEffort
	}
	return d.fields
}

var (
	// Groq's API documents a 400 for logprobs, logit_bias, top_logprobs
	// and a message's name (https://console.groq.com/docs/openai).
	groqDrop    = dropping("logprobs", "logit_bias", "top_logprobs")
	groqOptions = chat.BodyOptions{NoMessageNames: true}
	// xAI's reasoning models refuse presence_penalty, frequency_penalty
	// and stop ("Model grok-4 does not support parameter
	// presencePenalty"), which chat apps send with every request.
	xaiReasonerDrop = dropping("presence_penalty", "frequency_penalty", "stop")
	// deepseek-reasoner refuses logprobs and top_logprobs (it ignores the
	// sampling parameters).
	deepseekReasonerDrop = dropping("logprobs", "top_logprobs")
	// Any other compatible host takes the request as sent.
	anyHostDrop = dropping()
)

// xaiReasoner reports xAI's reasoning models: grok-3-mini, and grok-4 and
// every later Grok.
func xaiReasoner(model string) bool {
	if strings.HasPrefix(model, "grok-3-mini") {
		return true
	}
	v, ok := strings.CutPrefix(model, "grok-")
	return ok && len(v) > 0 && v[0] >= '4' && v[0] <= '9'
}

// bodyOptions fit the body to OpenAI's own API, which refuses parameters
// a model does not take where OpenRouter ignores them: OpenRouter's own
// sampling parameters, the parameters of modelParams the catalog does not
// list for the upstream, max_tokens on reasoning models, parallel_tool_calls
// on the o-series, and metadata without store: true. Compatible hosts
// get the request as sent, but for reasoning_effort (OpenRouter's reasoning
// object goes out as it) when the catalog lists the upstream's parameters
// without it: OpenRouter ignores reasoning for a model that does not
// reason, where hosts refuse it (Groq's Llama models, xAI's Grok 3 and 4).
func bodyOptions(up core.Upstream) chat.BodyOptions {
	switch up.Provider {
	case "mistral":
		return mistralOptions
	case "xai":
		if xaiReasoner(up.Model) {
			return chat.BodyOptions{Drop: xaiReasonerDrop.of(up)}
		}
	case "deepseek":
		if strings.HasPrefix(up.Model, "deepseek-reasoner") {
			return chat.BodyOptions{Drop: deepseekReasonerDrop.of(up)}
		}
	case "groq":
		o := groqOptions
		o.Drop = groqDrop.of(up)
		return o
	}
	if up.Provider != "openai" && up.Provider != "azure-openai" {
		return chat.BodyOptions{Drop: anyHostDrop.of(up)}
	}
	// Every request to OpenAI comes here: the shared list is used as it is
	// unless the model lacks a parameter, and copied once then.
	drop, copied := chat.OpenRouterSampling, false
	if len(up.Params) > 0 {
		for _, p := range modelParams {
			if !slices.Contains(up.Params, p) {
				if !copied {
					drop, copied = slices.Clip(drop), true
				}
				drop = append(drop, p)
			}
		}
	}
	if oSeries(up.Model) {
		// o1, o3 and o4-mini refuse parallel_tool_calls outright.
		if !copied {
			drop = slices.Clip(drop)
		}
		drop = append(drop, "parallel_tool_calls")
	}
	return chat.BodyOptions{Drop: drop, MaxCompletionTokens: true, Efforts: reasoningEfforts(up.Model), MetadataWithStore: true}
}

// The reasoning efforts of OpenAI's model families, shared by every request.
var (
	oSeriesEfforts = []string{chat.EffortLow, chat.EffortMedium, chat.EffortHigh}
	gpt5Efforts    = []string{chat.EffortMinimal, chat.EffortLow, chat.EffortMedium, chat.EffortHigh}
	gpt51Efforts   = []string{chat.EffortNone, chat.EffortLow, chat.EffortMedium, chat.EffortHigh}
	gpt5xEfforts   = []string{chat.EffortNone, chat.EffortLow, chat.EffortMedium, chat.EffortHigh, chat.EffortXHigh}
)

// reasoningEfforts are the reasoning efforts an OpenAI model takes, by its
// name; nil for a model RouteFree does not know (an Azure deployment's own
// name), whose effort goes out as asked.
func reasoningEfforts(model string) []string {
	switch {
	case oSeries(model):
		return oSeriesEfforts
	case model == "gpt-5" || strings.HasPrefix(model, "gpt-5-"):
		return gpt5Efforts
	case strings.HasPrefix(model, "gpt-5.1"):
		return gpt51Efforts
	case strings.HasPrefix(model, "gpt-5."):
		return gpt5xEfforts
	}
	return nil
}

// oSeries reports OpenAI's o-series reasoning models (o1, o3, o4-mini…).
func oSeries(model string) bool {
	return strings.HasPrefix(model, "o1") || strings.HasPrefix(model, "o3") || strings.HasPrefix(model, "o4")
}

// DecodeResponse decodes a non-streamed chat completion.
func DecodeResponse(b []byte) (*core.Result, error) {
	var w struct {
		chat.Response
		Usage *wireUsage `json:"usage"`
	}
	if err := fastjson.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	r := w.Response
	renameReasoningContent(&r)
	nativeFinishes(&r)
	if w.Usage != nil {
		u := w.Usage.normalize()
		r.Usage = &u
	}
	return &core.Result{Response: &r}, nil
}

// renameReasoningContent takes DeepSeek-style hosts' message.reasoning_content
// as the message's reasoning, OpenRouter's name for it.
func renameReasoningContent(r *chat.Response) {
	for i := range r.Choices {
		m := &r.Choices[i].Message
		if m.Reasoning == nil {
			m.Reasoning = m.ReasoningContent
		}
		m.ReasoningContent = nil
	}
}

// nativeFinishes gives each choice without a native_finish_reason its
// finish_reason, as OpenRouter writes an OpenAI answer's; an upstream's own
// (another OpenRouter's) is kept.
func nativeFinishes(r *chat.Response) {
	for i := range r.Choices {
		if c := &r.Choices[i]; c.NativeFinishReason == nil {
			c.NativeFinishReason = chat.Native(c.FinishReason)
		}
	}
}

// wireUsage is OpenAI's usage plus the fields compatible hosts use instead
// (DeepSeek reports cache hits as prompt_cache_hit_tokens).
type wireUsage struct {
	chat.Usage
	PromptCacheHitTokens int `json:"prompt_cache_hit_tokens"`
}

// UnmarshalJSON reads a usage report and never fails: one whose counts
// are not written as integers that fit (33.5, 1e2, a string) is kept as
// Unreadable, for the gateway to refuse and count the answer itself,
// rather than failing an answer whose content came whole.
func (w *wireUsage) UnmarshalJSON(b []byte) error {
	type plain wireUsage
	if fastjson.Unmarshal(b, (*plain)(w)) != nil {
		*w = wireUsage{Usage: chat.Usage{Unreadable: true}}
	}
	return nil
}

func (w *wireUsage) normalize() chat.Usage {
	u := w.Usage
	if u.CachedTokens() == 0 && w.PromptCacheHitTokens > 0 {
		u.PromptTokensDetails = &chat.PromptTokensDetails{CachedTokens: w.PromptCacheHitTokens}
	}
	if u.TotalTokens == 0 {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	// An upstream's own cost (an OpenRouter-like host) is not RouteFree's price.
	u.Cost, u.IsBYOK, u.CostDetails = nil, nil, nil
	return u
}
