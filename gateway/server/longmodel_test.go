package server

import (
	"net/http"
	"strings"
	"testing"
)

// An unknown model's 404 repeated the ID whole, twice (message and
// metadata): a body of megabytes naming no model came back doubled, and
// so did a variant nobody offers. A model ID past commands.MaxModelID
// characters is no catalog's, and is shown cut.
func TestAnUnknownLongModelIDIsNotEchoedWhole(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/m": {{fake: "m", kind: "openai"}}}})
	long := strings.Repeat("x", 200_000)
	for _, model := range []string{"vendor/" + long, "test/m:" + long} {
		for path, body := range map[string]string{
			"/api/v1/chat/completions": `{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`,
			"/api/v1/messages":         `{"model":"` + model + `","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`,
			"/api/v1/responses":        `{"model":"` + model + `","input":"hi"}`,
			"/api/v1/completions":      `{"model":"` + model + `","prompt":"hi"}`,
			"/api/v1/embeddings":       `{"model":"` + model + `","input":"hi"}`,
		} {
			st, b := h.send("POST", path, map[string][]string{"Authorization": {"Bearer " + h.key}}, body)
			if st != http.StatusNotFound && st != http.StatusBadRequest {
				t.Fatalf("%s %.20s…: %d", path, model, st)
			}
			if len(b) > 2000 {
				t.Fatalf("%s %.20s…: a refusal of %d bytes repeats the model ID", path, model, len(b))
			}
		}
	}
}
