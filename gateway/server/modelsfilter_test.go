package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// OpenRouter's GET /api/v1/models lists the models whose output is text
// unless output_modalities asks for others ("embeddings", a comma-separated
// list, or "all"), and supported_parameters keeps the models that take every
// parameter it names; /models/count and /models/user take the same filters,
// so that a count agrees with its list. RouteFree ignored both: a chat app
// listing models offered embedding models, which chat refuses, and one
// asking for the models that reason got every model.
func TestModelsFilterAsOpenRouterDocuments(t *testing.T) {
	h := embedHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{
			"openai/text-embedding-3-small": {{fake: "openai", kind: "openai"}},
			"openai/gpt-4.1":                {{fake: "openai", kind: "openai"}},
			"anthropic/claude-sonnet-4.6":   {{fake: "anthropic", kind: "anthropic"}},
		},
		params: map[string][]string{
			"openai/text-embedding-3-small": {"input", "dimensions"},
			"openai/gpt-4.1":                {"max_tokens", "tools", "response_format"},
			"anthropic/claude-sonnet-4.6":   {"max_tokens", "tools", "reasoning"},
		},
	})
	ids := func(path string) string {
		t.Helper()
		code, list := h.getJSON(path, h.key)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, code, list)
		}
		data, _ := list["data"].([]any)
		var out []string
		for _, d := range data {
			out = append(out, d.(map[string]any)["id"].(string))
		}
		if fmt.Sprint(list["total_count"]) != fmt.Sprint(len(out)) {
			t.Errorf("GET %s: total_count %v for %d models", path, list["total_count"], len(out))
		}
		return strings.Join(out, ",")
	}
	count := func(path string) string {
		t.Helper()
		code, body := h.getJSON(path, "")
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, code, body)
		}
		return fmt.Sprint(body["data"].(map[string]any)["count"])
	}
	const chat = "anthropic/claude-sonnet-4.6,openai/gpt-4.1"
	for path, want := range map[string]string{
		"/api/v1/models":                                                       chat,
		"/api/v1/models?output_modalities=text":                                chat,
		"/api/v1/models?output_modalities=embeddings":                          "openai/text-embedding-3-small",
		"/api/v1/models?output_modalities=text,embeddings":                     "anthropic/claude-sonnet-4.6,openai/gpt-4.1,openai/text-embedding-3-small",
		"/api/v1/models?output_modalities=all":                                 "anthropic/claude-sonnet-4.6,openai/gpt-4.1,openai/text-embedding-3-small",
		"/api/v1/models?output_modalities=image":                               "",
		"/api/v1/models?supported_parameters=tools":                            chat,
		"/api/v1/models?supported_parameters=reasoning":                        "anthropic/claude-sonnet-4.6",
		"/api/v1/models?supported_parameters=tools,reasoning":                  "anthropic/claude-sonnet-4.6",
		"/api/v1/models?supported_parameters=tools%2Cseed":                     "",
		"/api/v1/models?supported_parameters=dimensions":                       "",
		"/api/v1/models?supported_parameters=dimensions&output_modalities=all": "openai/text-embedding-3-small",
		"/api/v1/models/user":                                                  chat,
		"/api/v1/models/user?output_modalities=all":                            "anthropic/claude-sonnet-4.6,openai/gpt-4.1,openai/text-embedding-3-small",
		"/api/v1/models/user?supported_parameters=reasoning":                   "anthropic/claude-sonnet-4.6",
	} {
		if got := ids(path); got != want {
			t.Errorf("GET %s lists %q, want %q", path, got, want)
		}
	}
	for path, want := range map[string]string{
		"/api/v1/models/count":                              "2",
		"/api/v1/models/count?output_modalities=all":        "3",
		"/api/v1/models/count?output_modalities=embeddings": "1",
	} {
		if got := count(path); got != want {
			t.Errorf("GET %s: count %s, want %s", path, got, want)
		}
	}
	// The embedding models keep their own listing, filtered by nothing.
	if got := ids("/api/v1/embeddings/models"); got != "openai/text-embedding-3-small" {
		t.Errorf("/embeddings/models lists %q", got)
	}
}

// A routing variant (:nitro, :floor) is a valid model for a request, and
// OpenRouter's model pages resolve it ("resolving aliases and variants
// automatically"): the page is the base model's, as its metadata is. An app
// that checks the model it is configured with ("anthropic/…:nitro") before
// using it got a 404 from RouteFree for a model chat serves.
func TestModelPagesResolveRoutingVariants(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for _, path := range []string{
		"/api/v1/models/test/openai:nitro", "/api/v1/model/test/openai:floor", "/api/v1/models/test%2Fopenai:nitro",
		"/api/v1/models/test/openai:nitro/endpoints", "/api/v1/models/test%2Fopenai:floor/endpoints",
	} {
		code, body := h.getJSON(path, "")
		if code != http.StatusOK {
			t.Errorf("GET %s: %d %v", path, code, body)
			continue
		}
		data := body["data"].(map[string]any)
		if data["id"] != "test/openai" {
			t.Errorf("GET %s: id %v, want the base model's", path, data["id"])
		}
		if strings.HasSuffix(path, "/endpoints") && len(data["endpoints"].([]any)) != 1 {
			t.Errorf("GET %s: endpoints %v", path, data["endpoints"])
		}
	}
	// A variant RouteFree does not offer names no model.
	if code, body := h.getJSON("/api/v1/models/test/openai:free", ""); code != http.StatusNotFound {
		t.Errorf("GET :free: %d %v", code, body)
	}
}

// OpenRouter's listing sorts server-side when asked (the OpenRouter SDK's
// models.list({sort})): by the average of the prompt and completion prices
// either way, by context length, by release date. RouteFree ignored sort.
func TestModelsSortAsAsked(t *testing.T) {
	price := func(in, out int64) domain.ModelPrice {
		return domain.ModelPrice{Input: decimal.NewFromInt(in), Output: decimal.NewFromInt(out), CachedInput: decimal.NewFromInt(1)}
	}
	h := newHarness(t, harnessOpts{prices: map[string]domain.ModelPrice{
		"test/openai":    price(10, 40), // average 25
		"test/anthropic": price(30, 30), // average 30
		"test/gemini":    price(1, 9),   // average 5
	}})
	for path, want := range map[string]string{
		"/api/v1/models": "test/anthropic,test/gemini,test/openai",
		"/api/v1/models?sort=pricing-low-to-high": "test/gemini,test/openai,test/anthropic",
		"/api/v1/models?sort=pricing-high-to-low": "test/anthropic,test/openai,test/gemini",
		// Orders RouteFree has no figures for keep the catalog's.
		"/api/v1/models?sort=most-popular": "test/anthropic,test/gemini,test/openai",
	} {
		code, list := h.getJSON(path, "")
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, code, list)
		}
		var ids []string
		for _, d := range list["data"].([]any) {
			ids = append(ids, d.(map[string]any)["id"].(string))
		}
		if got := strings.Join(ids, ","); got != want {
			t.Errorf("GET %s: %s, want %s", path, got, want)
		}
	}
}
