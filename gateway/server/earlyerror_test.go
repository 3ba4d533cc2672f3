package server

import (
	"strings"
	"testing"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// Anthropic answers a stream while overloaded with a 200, its opening
// event and an overloaded_error event; OpenAI-shaped hosts likewise send
// an error chunk after the opening role chunk. No content has reached the
// client yet, so the next upstream serves the stream, and with none left
// the client gets an error status its SDK retries on, not a 200 stream
// ending in an error (which SDKs surface as a failure without retrying).
func TestStreamErrorBeforeContentFailsOver(t *testing.T) {
	for _, kind := range []string{"anthropic", "openai"} {
		t.Run(kind, func(t *testing.T) {
			h := newHarness(t, twoUpstreams(kind, providertest.Script{Text: "never", ErrorFirst: true}, Config{}))
			resp, b := h.post(foStream)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			for _, c := range sseChunks(t, b) {
				if c.Error != nil {
					t.Fatalf("stream ends in an error: %s", b)
				}
			}
			if text := replyText(t, b, true); text != "from the second" {
				t.Fatalf("reply %q in %s", text, b)
			}
			h.answeredBySecond()
		})
		t.Run(kind+"/alone", func(t *testing.T) {
			h := newHarness(t, harnessOpts{
				models:  map[string][]upstreamSpec{"test/fo": {{fake: "first", kind: kind}}},
				scripts: map[string]providertest.Script{"first": {Text: "never", ErrorFirst: true}},
			})
			resp, b := h.post(foStream)
			if resp.StatusCode != 503 || strings.Contains(string(b), "data: ") {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if e := decodeError(t, b); e.Error.Metadata["provider"] != "first" {
				t.Fatalf("error %+v", e.Error)
			}
			if f := h.waitFailed(1); len(f) != 1 {
				t.Fatalf("failed events %+v", f)
			}
		})
	}
}
