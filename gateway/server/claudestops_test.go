package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// Anthropic refuses a stop sequence of whitespace alone, which OpenAI's
// API takes (stop: ["\n"] for a one-line answer). The gateway leaves it out
// of the request and ends the answer's text where it begins, as OpenAI's
// model would have stopped: whole answers and streams alike, whatever
// pieces the stream's text comes in (a "\n\n" split between two deltas
// included), and what followed (a tool call) is not relayed.
func TestClaudeAnswersEndAtWhitespaceStops(t *testing.T) {
	const reply = "Line one.\nLine two.\n\nLine three."
	cases := []struct {
		stop, want string
	}{
		{`"\n"`, "Line one."},
		{`["\n\n","END"]`, "Line one.\nLine two."},
		{`[" \n","\n\n"]`, "Line one.\nLine two."},
		{`["\t"]`, reply}, // never met: the whole answer
	}
	for _, c := range cases {
		for _, chunks := range []int{0, 1, 2, 3, 7, 20, len(reply)} {
			stream := chunks > 0
			t.Run(fmt.Sprintf("stop=%s/chunks=%d", c.stop, chunks), func(t *testing.T) {
				h := newHarness(t, harnessOpts{
					models: map[string][]upstreamSpec{"test/claude": {{fake: "anthropic", kind: "anthropic"}}},
					scripts: map[string]providertest.Script{"anthropic": {Text: reply, Chunks: max(chunks, 1),
						ToolCalls: []providertest.ToolCall{{ID: "toolu_1", Name: "get_weather", Arguments: `{"city":"Taipei"}`}}}},
				})
				tools := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]`
				resp, b := h.post(fmt.Sprintf(`{"model":"test/claude","max_tokens":100,"stream":%v,"stop":%s,%s,"messages":[{"role":"user","content":"hi"}]}`, stream, c.stop, tools))
				wantStatus(t, resp, b, 200)
				cut := c.want != reply
				var text, finish string
				calls := 0
				if stream {
					if !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
						t.Fatalf("the stream did not end with [DONE]: %s", b)
					}
					for _, ch := range sseChunks(t, b) {
						for _, choice := range ch.Choices {
							text += choice.Delta.Content
							if choice.FinishReason != "" {
								finish = choice.FinishReason
							}
						}
					}
					calls = strings.Count(string(b), `"tool_calls"`)
				} else {
					var r struct {
						Choices []struct {
							Message struct {
								Content   string            `json:"content"`
								ToolCalls []json.RawMessage `json:"tool_calls"`
							} `json:"message"`
							FinishReason string `json:"finish_reason"`
							Native       string `json:"native_finish_reason"`
						} `json:"choices"`
					}
					if err := json.Unmarshal(b, &r); err != nil || len(r.Choices) != 1 {
						t.Fatalf("answer %s: %v", b, err)
					}
					text, finish, calls = r.Choices[0].Message.Content, r.Choices[0].FinishReason, len(r.Choices[0].Message.ToolCalls)
					if cut && r.Choices[0].Native != "stop_sequence" {
						t.Fatalf("native_finish_reason %q", r.Choices[0].Native)
					}
				}
				if text != c.want {
					t.Fatalf("text %q, want %q", text, c.want)
				}
				wantFinish, wantCalls := "stop", 0
				if !cut {
					wantFinish, wantCalls = "tool_calls", 1
				}
				if finish != wantFinish || (calls > 0) != (wantCalls > 0) {
					t.Fatalf("finish %q, %d tool call chunks: %s", finish, calls, b)
				}
				h.catchUp()
				evs := h.completed()
				if len(evs) != 1 || evs[0].Outcome != domain.OutcomeCompleted || evs[0].FinishReason != wantFinish {
					t.Fatalf("completed events %+v", evs)
				}
				// A stream cut here has no final usage from Anthropic: the
				// gateway counts what it delivered.
				if stream && cut && !evs[0].Usage.Estimated {
					t.Fatalf("a cut stream billed unestimated usage %+v", evs[0].Usage)
				}
				h.heldIsZero()
			})
		}
	}
}
