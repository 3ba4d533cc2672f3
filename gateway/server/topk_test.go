package server

import (
	"fmt"
	"strings"
	"testing"
)

// OpenRouter documents top_k (an integer, 0 or above; 0, its default,
// turns it off) and passes it to the providers that take it, Anthropic
// (top_k) and Google (generationConfig.topK) among them. Claude and Gemini
// never got it: the adapters left it out. With Claude's thinking on, which
// Anthropic takes only at its own sampling, it is left out as temperature
// is.
func TestTopKReachesClaudeAndGemini(t *testing.T) {
	cases := []struct {
		kind, extra, path string
		want              any // nil: not sent
	}{
		{"anthropic", `"top_k":40`, "top_k", float64(40)},
		{"gemini", `"top_k":40`, "generationConfig.topK", float64(40)},
		{"anthropic", `"top_k":0`, "top_k", nil},
		{"gemini", `"top_k":0`, "generationConfig.topK", nil},
		{"anthropic", `"top_k":40,"reasoning":{"effort":"medium"}`, "top_k", nil},
	}
	for _, c := range cases {
		t.Run(c.kind+"/"+c.extra, func(t *testing.T) {
			model := "test/x"
			if c.kind == "anthropic" {
				model = "anthropic/claude-sonnet-4.5" // a model that thinks
			}
			h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{model: {{fake: c.kind, kind: c.kind}}}})
			resp, b := h.post(fmt.Sprintf(`{"model":%q,"max_tokens":4000,%s,"messages":[{"role":"user","content":"hi"}]}`, model, c.extra))
			wantStatus(t, resp, b, 200)
			w := wire(t, h.fakes[c.kind].Last())
			if strings.Contains(c.extra, "reasoning") {
				if th, _ := jpath(w, "thinking.type"); th != "enabled" {
					t.Fatalf("Claude was not asked to think: %v", w)
				}
			}
			got, ok := jpath(w, c.path)
			if c.want == nil && ok || c.want != nil && got != c.want {
				t.Fatalf("%s = %v (sent %v), want %v: %v", c.path, got, ok, c.want, w)
			}
		})
	}
}

// /messages carries Anthropic's top_k: to a Gemini model it is Gemini's
// topK, where it was dropped.
func TestMessagesTopKReachesGemini(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/gemini": {{fake: "gemini", kind: "gemini"}}}})
	st, b := h.send("POST", "/api/v1/messages", map[string][]string{"Authorization": {"Bearer " + h.key}},
		`{"model":"test/gemini","max_tokens":100,"top_k":40,"messages":[{"role":"user","content":"hi"}]}`)
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	w := wire(t, h.fakes["gemini"].Last())
	if k, _ := jpath(w, "generationConfig.topK"); k != float64(40) {
		t.Fatalf("topK %v: %v", k, w)
	}
}
