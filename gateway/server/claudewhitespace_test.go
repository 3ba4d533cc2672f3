package server

import (
	"fmt"
	"strings"
	"testing"
)

// Anthropic refuses a text block of whitespace alone ("messages: text
// content blocks must contain non-whitespace text") and a stop sequence of
// whitespace alone ("stop_sequences: each stop sequence must contain
// non-whitespace"), where OpenAI's API and OpenRouter take both. A
// conversation carried over from another model (whose assistant turns
// often hold "\n\n" beside their tool calls), a blank user line, or
// stop: ["\n"] reached Claude as sent and came back a 400. They go without
// the blank blocks and stop sequences, as a parameter the provider does not
// take is left out.
func TestClaudeTakesBlankTextAndWhitespaceStops(t *testing.T) {
	tools := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`
	cases := []struct{ name, fields string }{
		{"assistant turn of blank text beside its tool call", tools + `,"messages":[{"role":"user","content":"Weather in Taipei?"},` +
			`{"role":"assistant","content":"\n\n","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Taipei\"}"}}]},` +
			`{"role":"tool","tool_call_id":"call_1","content":"sunny"}]`},
		{"blank system prompt and user part", `"messages":[{"role":"system","content":" "},{"role":"user","content":[{"type":"text","text":"hi"},{"type":"text","text":"\n"}]}]`},
		{"blank user message between turns", `"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":"  "},{"role":"user","content":"and now?"}]`},
		{"blank tool result", tools + `,"messages":[{"role":"user","content":"Weather in Taipei?"},` +
			`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},` +
			`{"role":"tool","tool_call_id":"call_1","content":"\n"}]`},
		{"whitespace stop sequences", `"stop":["\n","\n\n","END"," "],"messages":[{"role":"user","content":"hi"}]`},
		{"a whitespace stop string", `"stop":"\n","messages":[{"role":"user","content":"hi"}]`},
	}
	for _, c := range cases {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", c.name, stream), func(t *testing.T) {
				h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/claude": {{fake: "anthropic", kind: "anthropic"}}}})
				resp, b := h.post(fmt.Sprintf(`{"model":"test/claude","max_tokens":100,"stream":%v,%s}`, stream, c.fields))
				wantStatus(t, resp, b, 200)
				if stream && !strings.Contains(string(b), "[DONE]") {
					t.Fatalf("the stream did not end: %s", b)
				}
				h.catchUp()
				if evs := h.completed(); len(evs) != 1 {
					t.Fatalf("%d completed events", len(evs))
				}
			})
		}
	}
}

// A conversation whose last message is a user message of whitespace alone
// cannot go to Claude without it, which would leave the assistant's
// previous answer last, for Claude to continue as a prefill: it is refused
// before any call, naming the message, rather than answered as another
// request.
func TestClaudeRefusesAFinalBlankUserMessage(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/claude": {{fake: "anthropic", kind: "anthropic"}}}})
	resp, b := h.post(`{"model":"test/claude","max_tokens":100,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":"\n"}]}`)
	wantStatus(t, resp, b, 400)
	e := decodeError(t, b)
	if e.Error.Metadata["param"] != "messages[2].content" || !strings.Contains(e.Error.Message, "whitespace") {
		t.Fatalf("refusal %s", b)
	}
	if n := len(h.fakes["anthropic"].Received()); n != 0 {
		t.Fatalf("Claude was called %d times", n)
	}
}
