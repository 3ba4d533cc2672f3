package server

import (
	"context"
	"testing"

	"github.com/openai/openai-go"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// o3Params are the catalog's parameters for OpenAI's reasoning models:
// no temperature, top_p or stop.
var o3Params = []string{"max_tokens", "max_completion_tokens", "tools", "tool_choice", "response_format", "seed", "user", "stream", "reasoning_effort", "reasoning"}

// reasonerHarness serves openai/o3 from a fake that refuses what OpenAI's
// reasoning models refuse.
func reasonerHarness(t *testing.T) *harness {
	return newHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"openai/o3": {{fake: "openai", kind: "openai", params: o3Params}}},
		scripts: map[string]providertest.Script{"openai": {Text: "Thought it through.", Reasoner: true}},
	})
}

// A client written for OpenRouter sends max_tokens and sampling parameters
// to any model; OpenRouter ignores what a model does not take. OpenAI's
// reasoning models refuse max_tokens and the sampling parameters outright,
// so RouteFree sends max_completion_tokens and leaves the others out.
func TestOpenAIReasoningModelTakesOpenRouterParameters(t *testing.T) {
	h := reasonerHarness(t)
	resp, b := h.post(`{"model":"openai/o3","max_tokens":300,"temperature":0.2,"top_p":0.9,"stop":["END"],"presence_penalty":0.1,` +
		`"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	w := wire(t, h.fakes["openai"].Last())
	want(t, w, "max_completion_tokens", "300")
	for _, p := range []string{"max_tokens", "temperature", "top_p", "stop", "presence_penalty"} {
		absent(t, w, p)
	}

	// The OpenAI SDK's own max_tokens, streamed.
	cl := h.sdk()
	stream := cl.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:       "openai/o3",
		MaxTokens:   openai.Int(200),
		Temperature: openai.Float(0.7),
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	text := ""
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 {
			text += c.Choices[0].Delta.Content
		}
	}
	if err := stream.Err(); err != nil || text != "Thought it through." {
		t.Fatalf("stream: %q, %v", text, err)
	}
	want(t, wire(t, h.fakes["openai"].Last()), "max_completion_tokens", "200")
}

// A client that sends both names keeps its max_completion_tokens.
func TestOpenAIReasoningModelBothTokenLimits(t *testing.T) {
	h := reasonerHarness(t)
	resp, b := h.post(`{"model":"openai/o3","max_tokens":300,"max_completion_tokens":200,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	w := wire(t, h.fakes["openai"].Last())
	want(t, w, "max_completion_tokens", "200")
	absent(t, w, "max_tokens")
}

// Claude Code and the Anthropic SDKs always send max_tokens (Anthropic's
// Messages format requires it), often with a temperature: translated to a
// reasoning model, the request must still be one it takes.
func TestMessagesToOpenAIReasoningModel(t *testing.T) {
	h := reasonerHarness(t)
	resp, b := h.postMessages("", h.key, `{"model":"openai/o3","max_tokens":1024,"temperature":1,"stop_sequences":["END"],`+
		`"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	want(t, decodeMap(t, b), "content.0.text", "Thought it through.")
	w := wire(t, h.fakes["openai"].Last())
	want(t, w, "max_completion_tokens", "1024")
	absent(t, w, "max_tokens")
	absent(t, w, "temperature")
}

// OpenRouter ignores reasoning for a model that does not reason; OpenAI's
// gpt-4o and gpt-4.1 refuse reasoning_effort, so it is left out for them.
func TestOpenAIModelWithoutReasoningTakesReasoningParameters(t *testing.T) {
	gpt41 := []string{"max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "seed", "tools", "tool_choice", "response_format", "user", "stream", "n"}
	h := newHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"openai/gpt-4.1": {{fake: "openai", kind: "openai", params: gpt41}}},
		scripts: map[string]providertest.Script{"openai": {Text: "Answered.", NoReasoning: true}},
	})
	for _, reasoning := range []string{`"reasoning":{"effort":"high"}`, `"reasoning_effort":"low"`, `"reasoning":{"max_tokens":500}`} {
		resp, b := h.post(`{"model":"openai/gpt-4.1",` + reasoning + `,"temperature":0.2,"messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d: %s", reasoning, resp.StatusCode, b)
		}
		w := wire(t, h.fakes["openai"].Last())
		absent(t, w, "reasoning_effort")
		absent(t, w, "reasoning")
		want(t, w, "temperature", "0.2")
	}
}
