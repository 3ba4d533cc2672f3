package openai

import (
	"slices"
	"testing"

	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/internal/core"
)

// The parameters a model lacks are added to a copy of the shared list of
// OpenRouter's sampling parameters, which every request reads.
func TestBodyOptionsLeaveTheSharedListAlone(t *testing.T) {
	shared := slices.Clone(chat.OpenRouterSampling)
	o3 := bodyOptions(core.Upstream{Provider: "openai", Model: "o3", Params: []string{"max_tokens", "reasoning_effort"}})
	gpt := bodyOptions(core.Upstream{Provider: "openai", Model: "gpt-4.1", Params: append([]string{"max_tokens"}, modelParams[:len(modelParams)-1]...)})
	if !slices.Equal(chat.OpenRouterSampling, shared) {
		t.Fatalf("the shared list became %v", chat.OpenRouterSampling)
	}
	for _, p := range []string{"temperature", "stop"} {
		if !slices.Contains(o3.Drop, p) || slices.Contains(gpt.Drop, p) {
			t.Errorf("%s: dropped for o3 %v, for gpt-4.1 %v; want only for o3", p, o3.Drop, gpt.Drop)
		}
	}
	if !slices.Contains(gpt.Drop, "reasoning_effort") || slices.Contains(o3.Drop, "reasoning_effort") {
		t.Errorf("reasoning_effort: dropped for o3 %v, for gpt-4.1 %v; want only for gpt-4.1", o3.Drop, gpt.Drop)
	}
	if compat := bodyOptions(core.Upstream{Provider: "together", Model: "m"}); compat.Drop != nil || compat.MaxCompletionTokens {
		t.Errorf("a compatible host's body is fitted: %+v", compat)
	}
	if !slices.Equal(o3.Efforts, []string{chat.EffortLow, chat.EffortMedium, chat.EffortHigh}) {
		t.Errorf("o3 efforts %v", o3.Efforts)
	}
}

// The shipped catalog's compatible hosts get reasoning_effort for the
// models that take it alone: xAI refuses it for Grok 3 and Grok 4 (which
// reasons always, without the setting), Groq for its Llama models, where
// OpenRouter ignores the reasoning of a request to them.
func TestShippedCompatibleHostsGetReasoningEffortWhereTaken(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	for id, wantEffort := range map[string]bool{
		"x-ai/grok-3-mini": true, "x-ai/grok-3": false, "x-ai/grok-4": false,
		"meta-llama/llama-3.3-70b-instruct": false,
	} {
		m, ok := cat.Get(id)
		if !ok {
			t.Fatalf("%s not in the catalog", id)
		}
		for _, u := range m.Upstreams {
			if u.Provider == "openai" || u.Provider == "azure-openai" || u.Kind != "openai" {
				continue
			}
			params := u.SupportedParameters
			if len(params) == 0 {
				params = m.SupportedParameters
			}
			o := bodyOptions(core.Upstream{Provider: u.Provider, Model: u.Model, Params: params})
			if got := !slices.Contains(o.Drop, "reasoning_effort"); got != wantEffort {
				t.Errorf("%s at %s: reasoning_effort sent %v, want %v", id, u.Provider, got, wantEffort)
			}
		}
	}
}
