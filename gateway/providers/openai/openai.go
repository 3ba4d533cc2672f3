// Package openai is the adapter for OpenAI and every OpenAI-compatible
// host (DeepSeek, Meta's hosts…). Requests go out as the client sent them;
// streams are relayed nearly byte for byte.
package openai

import (
	"bytes"
	"context"
	"net/http"
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
	var drop []string
	if up.Provider == "openai" || up.Provider == "azure-openai" {
		drop = chat.OpenRouterSampling // OpenAI's own API refuses them
	}
	body, err := req.OpenAIBody(up.Model, drop...)
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
	r, err := DecodeResponse(b)
	if err != nil {
		return nil, core.BadResponse(up.Provider, err)
	}
	r.Response.Model = req.Model
	return r, nil
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
	if bytes.Contains(b, reasoningContentKey) {
		reasoningContent(b, &r)
	}
	if w.Usage != nil {
		u := w.Usage.normalize()
		r.Usage = &u
	}
	return &core.Result{Response: &r}, nil
}

var reasoningContentKey = []byte(`"reasoning_content"`)

// reasoningContent takes DeepSeek-style hosts' message.reasoning_content
// as the message's reasoning, OpenRouter's name for it.
func reasoningContent(b []byte, r *chat.Response) {
	var w struct {
		Choices []struct {
			Message struct {
				ReasoningContent *string `json:"reasoning_content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if fastjson.Unmarshal(b, &w) != nil {
		return
	}
	for i := range r.Choices {
		if i < len(w.Choices) && r.Choices[i].Message.Reasoning == nil {
			r.Choices[i].Message.Reasoning = w.Choices[i].Message.ReasoningContent
		}
	}
}

// wireUsage is OpenAI's usage plus the fields compatible hosts use instead
// (DeepSeek reports cache hits as prompt_cache_hit_tokens).
type wireUsage struct {
	chat.Usage
	PromptCacheHitTokens int `json:"prompt_cache_hit_tokens"`
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
