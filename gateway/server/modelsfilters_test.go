package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// listedIDs is the comma-joined IDs of the models a listing answers.
func listedIDs(t *testing.T, h *harness, path string) string {
	t.Helper()
	code, list := h.getJSON(path, h.key)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, code, list)
	}
	var out []string
	for _, d := range list["data"].([]any) {
		out = append(out, d.(map[string]any)["id"].(string))
	}
	return strings.Join(out, ",")
}

// OpenRouter's structured outputs guide sends clients to a model's
// supported_parameters to find the models that take response_format
// json_schema; its listing names them structured_outputs and filters on it
// (?supported_parameters=structured_outputs). The gateway takes a
// json_schema to Claude and Gemini as their own constrained output, and
// OpenAI's models take it themselves, yet no model listed it: the filter
// listed none.
func TestModelsListStructuredOutputs(t *testing.T) {
	h := newHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{
			"test/openai":    {{fake: "openai", kind: "openai"}},
			"test/schema":    {{fake: "openai", kind: "openai"}},
			"test/anthropic": {{fake: "anthropic", kind: "anthropic"}},
			"test/gemini":    {{fake: "gemini", kind: "gemini"}},
			"test/nojson":    {{fake: "anthropic", kind: "anthropic"}},
		},
		params: map[string][]string{
			"test/openai":    {"max_tokens", "response_format"},
			"test/schema":    {"max_tokens", "response_format", "structured_outputs"},
			"test/anthropic": {"max_tokens", "tools", "response_format"},
			"test/gemini":    {"max_tokens", "response_format"},
			"test/nojson":    {"max_tokens", "tools"},
		},
	})
	for path, want := range map[string]string{
		"/api/v1/models?supported_parameters=structured_outputs":       "test/anthropic,test/gemini,test/schema",
		"/api/v1/models?supported_parameters=structured_outputs,tools": "test/anthropic",
		"/api/v1/models/user?supported_parameters=structured_outputs":  "test/anthropic,test/gemini,test/schema",
	} {
		if got := listedIDs(t, h, path); got != want {
			t.Errorf("GET %s lists %q, want %q", path, got, want)
		}
	}
	code, body := h.getJSON("/api/v1/models/test/gemini/endpoints", h.key)
	if code != http.StatusOK {
		t.Fatalf("endpoints: %d %v", code, body)
	}
	ep := body["data"].(map[string]any)["endpoints"].([]any)[0].(map[string]any)
	var params []string
	for _, p := range ep["supported_parameters"].([]any) {
		params = append(params, p.(string))
	}
	if !slices.Contains(params, "structured_outputs") {
		t.Errorf("the Gemini endpoint's supported_parameters: %v", params)
	}
}

// OpenRouter's model listing takes, beside output_modalities and
// supported_parameters, a use-case category (programming, roleplay, …), a
// free-text search by model name or slug (q) and the input modalities a
// model must take (input_modalities: text, image, audio, file), as its API
// reference and SDKs document them; /models/count and /models/user take
// the same. RouteFree ignored the three: every model came back.
func TestModelsFilterByCategorySearchAndInputs(t *testing.T) {
	h := newHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{
			"test/openai":    {{fake: "openai", kind: "openai"}},
			"test/anthropic": {{fake: "anthropic", kind: "anthropic"}},
			"test/gemini":    {{fake: "gemini", kind: "gemini"}},
			"test/plain":     {{fake: "openai", kind: "openai"}},
		},
		inputs: map[string][]string{
			"test/openai":    {"text", "image", "file"},
			"test/anthropic": {"text", "image"},
			"test/gemini":    {"text", "image", "audio", "file"},
			"test/plain":     {"text"},
		},
		cats: map[string][]string{
			"test/openai":    {"programming"},
			"test/anthropic": {"programming", "translation"},
		},
		names: map[string]string{"test/anthropic": "Anthropic: Claude Test", "test/gemini": "Google: Gemini Test"},
	})
	for path, want := range map[string]string{
		"/api/v1/models?input_modalities=image":                                    "test/anthropic,test/gemini,test/openai",
		"/api/v1/models?input_modalities=image,audio":                              "test/gemini",
		"/api/v1/models?input_modalities=FILE":                                     "test/gemini,test/openai",
		"/api/v1/models?input_modalities=text":                                     "test/anthropic,test/gemini,test/openai,test/plain",
		"/api/v1/models?category=programming":                                      "test/anthropic,test/openai",
		"/api/v1/models?category=Translation":                                      "test/anthropic",
		"/api/v1/models?category=roleplay":                                         "",
		"/api/v1/models?q=gemini":                                                  "test/gemini",
		"/api/v1/models?q=claude":                                                  "test/anthropic",
		"/api/v1/models?q=Google%3A+gemini":                                        "test/gemini",
		"/api/v1/models?q=test%2Fpl":                                               "test/plain",
		"/api/v1/models?q=test":                                                    "test/anthropic,test/gemini,test/openai,test/plain",
		"/api/v1/models?q=nothing":                                                 "",
		"/api/v1/models?q=test&input_modalities=file&category=programming":         "test/openai",
		"/api/v1/models/user?category=programming&input_modalities=image,text":     "test/anthropic,test/openai",
		"/api/v1/models?category=programming&sort=context-high-to-low&q=anthropic": "test/anthropic",
	} {
		if got := listedIDs(t, h, path); got != want {
			t.Errorf("GET %s lists %q, want %q", path, got, want)
		}
	}
	code, body := h.getJSON("/api/v1/models/count?input_modalities=audio", "")
	if code != http.StatusOK || body["data"].(map[string]any)["count"] != json.Number("1") {
		t.Errorf("/models/count?input_modalities=audio: %d %v", code, body)
	}
	// A category OpenRouter does not have is refused, naming the parameter.
	code, body = h.getJSON("/api/v1/models?category=cooking", "")
	if code != http.StatusBadRequest {
		t.Fatalf("unknown category: %d %v", code, body)
	}
	if md := body["error"].(map[string]any)["metadata"].(map[string]any); md["param"] != "category" {
		t.Errorf("unknown category: %v", body)
	}
}
