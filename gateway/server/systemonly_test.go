package server

import (
	"fmt"
	"strings"
	"testing"
)

// OpenAI's API answers a request whose only message is the system prompt
// (a workflow step that puts its whole instruction there). Claude and
// Gemini take a system prompt only beside a conversation: Anthropic
// refused the request with a 400 ("messages: at least one message is
// required") and the Gemini adapter refused it itself. The system prompt
// is then the conversation's one user message.
func TestSystemPromptAloneReachesClaudeAndGemini(t *testing.T) {
	const instruction = "Write a haiku about Taipei."
	for _, kind := range []string{"anthropic", "gemini"} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", kind, stream), func(t *testing.T) {
				h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/x": {{fake: kind, kind: kind}}}})
				resp, b := h.post(fmt.Sprintf(`{"model":"test/x","max_tokens":100,"stream":%v,"messages":[{"role":"system","content":%q}]}`, stream, instruction))
				wantStatus(t, resp, b, 200)
				w := wire(t, h.fakes[kind].Last())
				turns, role, text, system := "messages", "messages.0.role", "messages.0.content.0.text", "system"
				if kind == "gemini" {
					turns, role, text, system = "contents", "contents.0.role", "contents.0.parts.0.text", "systemInstruction"
				}
				if n, _ := jpath(w, turns); fmt.Sprint(n) == "[]" || n == nil {
					t.Fatalf("no turn sent: %v", w)
				}
				if r, _ := jpath(w, role); r != "user" {
					t.Errorf("first turn's role %v, want user: %v", r, w)
				}
				if got, _ := jpath(w, text); got != instruction {
					t.Errorf("first turn's text %v, want the system prompt: %v", got, w)
				}
				if s, ok := jpath(w, system); ok {
					t.Errorf("the system prompt went twice (%v): %v", s, w)
				}
				if stream && !strings.Contains(string(b), "[DONE]") {
					t.Fatalf("the stream did not end: %s", b)
				}
			})
		}
	}
}
