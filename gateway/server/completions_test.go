package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

func (h *harness) postCompletions(body string) (*http.Response, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.http.URL+"/api/v1/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

func TestLegacyCompletions(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "a haiku about rain", Usage: providertest.Usage{Prompt: 6, Completion: 4}},
	}})
	resp, b := h.postCompletions(`{"model":"test/openai","prompt":"Write a haiku","max_tokens":20,"temperature":0.2,"stop":["\n\n"]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	m := decodeMap(t, b)
	want(t, m, "object", "text_completion")
	want(t, m, "model", "test/openai")
	want(t, m, "choices.0.text", "a haiku about rain")
	want(t, m, "choices.0.finish_reason", "stop")
	want(t, m, "usage.prompt_tokens", "6")
	w := wire(t, h.fakes["openai"].Last())
	want(t, w, "messages.0.role", "user")
	want(t, w, "messages.0.content", "Write a haiku")
	want(t, w, "max_completion_tokens", "20") // OpenAI's own API: the name every model takes
	want(t, w, "stop.0", "\n\n")
	absent(t, w, "prompt")
	checkBilled(t, h, "test/openai", 6, 4, nil)
}

func TestLegacyCompletionsStream(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "one two three", Chunks: 3, Usage: providertest.Usage{Prompt: 5, Completion: 3}},
	}})
	resp, b := h.postCompletions(`{"model":"test/openai","prompt":["count"],"stream":true,"stream_options":{"include_usage":true}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var text strings.Builder
	var sawUsage, sawDone bool
	for _, line := range strings.Split(string(b), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			sawDone = true
			continue
		}
		m := decodeMap(t, []byte(data))
		want(t, m, "object", "text_completion")
		if u, ok := m["usage"]; ok && u != nil {
			sawUsage = true
			want(t, m, "usage.completion_tokens", "3")
		}
		if s, ok := jpath(m, "choices.0.text"); ok {
			text.WriteString(s.(string))
		}
	}
	if text.String() != "one two three" || !sawUsage || !sawDone {
		t.Fatalf("text %q usage %v done %v\n%s", text.String(), sawUsage, sawDone, b)
	}
	checkBilled(t, h, "test/openai", 5, 3, nil)
}

func TestLegacyCompletionsRefusals(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for _, body := range []string{
		`{"model":"test/openai","prompt":["a","b"]}`,
		`{"model":"test/openai","prompt":[1,2,3]}`,
		`{"model":"test/openai","prompt":"x","suffix":"y"}`,
		`{"model":"test/openai","prompt":"x","echo":true}`,
	} {
		resp, b := h.postCompletions(body)
		if resp.StatusCode != 400 {
			t.Fatalf("%s: status %d: %s", body, resp.StatusCode, b)
		}
		decodeError(t, b)
	}
	resp, b := h.postCompletions(`{"model":"nope/nope","prompt":"x"}`)
	if resp.StatusCode != 400 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	decodeError(t, b)
}

// OpenRouter's completions take its routing options as chat does: the
// provider object, the models fallback list, reasoning. /completions kept
// only the fields the two OpenAI APIs share, so a provider the client had
// ruled out (provider.ignore, data_collection "deny") served it anyway and
// the models list was never tried.
func TestLegacyCompletionsKeepOpenRouterOptions(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai":    {Status: 503, ErrorMessage: "overloaded"},
		"anthropic": {Text: "from claude"},
	}})
	resp, b := h.postCompletions(`{"model":"test/openai","prompt":"x","provider":{"ignore":["openai"]}}`)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "provider.ignore") {
		t.Errorf("provider.ignore of the only upstream: %d %s", resp.StatusCode, b)
	}
	if n := len(h.fakes["openai"].Received()); n != 0 {
		t.Errorf("the ignored provider was called %d times", n)
	}
	resp, b = h.postCompletions(`{"model":"test/openai","models":["test/anthropic"],"prompt":"x","reasoning":{"effort":"low"}}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("models fallback: %d %s", resp.StatusCode, b)
	}
	m := decodeMap(t, b)
	want(t, m, "model", "test/anthropic")
	want(t, m, "choices.0.text", "from claude")
	w := wire(t, h.fakes["anthropic"].Last())
	if _, ok := w["thinking"]; !ok {
		t.Errorf("reasoning did not reach Claude: %s", h.fakes["anthropic"].Last().Body)
	}
	for _, body := range []string{string(h.fakes["openai"].Last().Body), string(h.fakes["anthropic"].Last().Body)} {
		if strings.Contains(body, `"models"`) || strings.Contains(body, `"provider"`) {
			t.Errorf("an OpenRouter option went upstream: %s", body)
		}
	}
}
