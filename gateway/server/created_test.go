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
