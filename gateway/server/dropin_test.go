package server

import (
	"net/http"
	"testing"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// Clients that build one request body and switch stream on and off send
// stream_options either way; OpenRouter takes it on a request that does
// not stream (usage comes with every answer), where OpenAI, and vLLM
// behind many compatible hosts, refuse it: it goes upstream only with a
// stream.
func TestStreamOptionsOfARequestThatDoesNotStreamStayHere(t *testing.T) {
	h := newHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "ok", Strict: true}},
	})
	for _, stream := range []string{``, `"stream":false,`} {
		resp, b := h.post(`{"model":"test/openai",` + stream + `"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: %d %s", stream, resp.StatusCode, b)
		}
		absent(t, wire(t, h.fakes["openai"].Last()), "stream_options")
	}
	resp, b := h.post(`{"model":"test/openai","stream":true,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d %s", resp.StatusCode, b)
	}
	want(t, wire(t, h.fakes["openai"].Last()), "stream_options.include_usage", "true")
}
