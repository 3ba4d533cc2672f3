package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// createdOf reads "created" from each chunk of a stream, and from a whole
// answer.
func createdOf(t *testing.T, b []byte, stream bool) []int64 {
	t.Helper()
	var lines []string
	if !stream {
		lines = []string{string(b)}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if stream && strings.HasPrefix(line, "data: {") {
			lines = append(lines, line[len("data: "):])
		}
	}
	var out []int64
	for _, l := range lines {
		var c struct {
			Created *int64 `json:"created"`
		}
		if err := json.Unmarshal([]byte(l), &c); err != nil || c.Created == nil {
			t.Fatalf("no created in %s", l)
		}
		out = append(out, *c.Created)
	}
	return out
}

// TestEveryChunkCarriesTheGatewaysCreated: OpenAI's chunks share one
// "created" ("each chunk has the same timestamp"), and OpenRouter's is its
// own, the time in its gen- ID, whatever the upstream wrote. An upstream on
// another clock (here one writing 1000) and a translated stream whose first
// event comes a second after the request must not split a stream between
// the upstream's time and the gateway's own chunks (the role, finish and
// usage chunks): every chunk, and a whole answer, carries the instant the
// gateway took the request.
func TestEveryChunkCarriesTheGatewaysCreated(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai":    {Text: "Hello from the fake.", Chunks: 3, Created: 1000},
		"anthropic": {Text: "Hello from the fake.", Chunks: 3, Delay: 1100 * time.Millisecond},
	}})
	for _, model := range []string{"test/openai", "test/anthropic"} {
		for _, stream := range []bool{true, false} {
			before := time.Now().Unix()
			resp, b := h.post(`{"model":"` + model + `","stream":` + map[bool]string{true: "true", false: "false"}[stream] + `,"messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != 200 {
				t.Fatalf("%s stream=%v: status %d: %s", model, stream, resp.StatusCode, b)
			}
			cs := createdOf(t, b, stream)
			for i, c := range cs {
				if c != cs[0] || c != before && c != before+1 { // the request began in this second or the next
					t.Errorf("%s stream=%v: chunk %d has created %d (the first %d), the request began at %d", model, stream, i, c, cs[0], before)
				}
			}
		}
	}
}

// topLevelKeys counts the members of the JSON object data by name.
func topLevelKeys(t *testing.T, data string) map[string]int {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("chunk %s is no object (%v)", data, err)
	}
	keys := map[string]int{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatalf("chunk %s: %v", data, err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("chunk %s: %v", data, err)
		}
		keys[k.(string)]++
	}
	return keys
}

// Azure OpenAI opens a stream with a chunk of its content filter's results
// whose id, model and object are empty and created 0, and some OpenAI-format
// hosts leave "object", "created", "id" or "model" out of their chunks.
// OpenRouter's SDK parses every chunk and requires "id", "created", "model"
// and "object" ("chat.completion.chunk"): each chunk RouteFree relays has
// them, each once.
func TestRelayedChunksHaveEveryMemberOpenRoutersSchemaRequires(t *testing.T) {
	events := []string{
		`{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}`,
		`{"choices":[{"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}],"created":1750000000,"id":"chatcmpl-A","model":"gpt-4.1","object":"chat.completion.chunk","system_fingerprint":"fp_a"}`,
		`{"choices":[{"delta":{"content":"Hello"},"finish_reason":null,"index":0}],"id":"chatcmpl-A","model":"gpt-4.1"}`,
		`{"choices":[{"delta":{"content":" there"},"finish_reason":null,"index":0}],"created":1750000000,"object":"chat.completion.chunk"}`,
		`{"choices":[{"delta":{},"finish_reason":"stop","index":0}],"created":1750000000,"id":"chatcmpl-A","model":"gpt-4.1","object":"chat.completion.chunk"}`,
		`{"choices":[],"created":1750000000,"id":"chatcmpl-A","model":"gpt-4.1","object":"chat.completion.chunk","usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}`,
		`[DONE]`,
	}
	up := newWireUpstream(t, sseEvents(events...))
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/azure": {{fake: "azure", kind: "openai", baseURL: up.srv.URL}}}})
	resp, b := h.post(`{"model":"test/azure","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	id := resp.Header.Get("X-Request-Id")
	text := ""
	for _, line := range strings.Split(string(b), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var c struct {
			ID      *string `json:"id"`
			Created *int64  `json:"created"`
			Model   *string `json:"model"`
			Object  *string `json:"object"`
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("chunk %s: %v", data, err)
		}
		if c.ID == nil || *c.ID != id || c.Created == nil || *c.Created < 1750000000 || c.Model == nil || *c.Model != "test/azure" ||
			c.Object == nil || *c.Object != "chat.completion.chunk" {
			t.Errorf("chunk %s lacks what OpenRouter's schema requires (id %s)", data, id)
		}
		// Strict decoders (serde's) refuse a member given twice.
		for k, n := range topLevelKeys(t, data) {
			if n > 1 {
				t.Errorf("chunk %s has %q %d times", data, k, n)
			}
		}
		for _, ch := range c.Choices {
			text += ch.Delta.Content
		}
	}
	if text != "Hello there" {
		t.Errorf("text %q", text)
	}
}
