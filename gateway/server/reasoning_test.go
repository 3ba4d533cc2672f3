package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// The model's reasoning text comes back as OpenRouter returns it:
// message.reasoning in an answer, delta.reasoning in a stream, whether the
// upstream sent it as DeepSeek does (reasoning_content) or as Anthropic
// does (thinking blocks). With reasoning.exclude the model still reasons
// and the text is left out, the answer itself intact.
func TestReasoningTextAsOpenRouterReturnsIt(t *testing.T) {
	const thought = "The user greets me; a short greeting back will do."
	script := providertest.Script{Text: "hello there", Chunks: 2, Reasoning: thought,
		Usage: providertest.Usage{Prompt: 10, Completion: 30, Reasoning: 20}}
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise, // twelve requests in a minute
		scripts: map[string]providertest.Script{"openai": script, "anthropic": script, "gemini": script}})
	for _, kind := range kinds {
		for _, exclude := range []bool{false, true} {
			body := `{"model":"test/` + kind + `","max_tokens":4000,"messages":[{"role":"user","content":"hi"}]`
			if exclude {
				body += `,"reasoning":{"exclude":true}`
			}
			want := thought
			if exclude {
				want = ""
			}
			// One answer.
			resp, b := h.post(body + "}")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", kind, resp.StatusCode, b)
			}
			var r struct {
				Choices []struct {
					Message map[string]json.RawMessage `json:"message"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(b, &r); err != nil || len(r.Choices) != 1 {
				t.Fatalf("%s: %v %s", kind, err, b)
			}
			msg := r.Choices[0].Message
			var reasoning, content string
			_ = json.Unmarshal(msg["reasoning"], &reasoning)
			_ = json.Unmarshal(msg["content"], &content)
			if reasoning != want || content != "hello there" {
				t.Fatalf("%s exclude=%v: reasoning %q, content %q; want %q and the answer", kind, exclude, reasoning, content, want)
			}
			if _, ok := msg["reasoning_content"]; ok {
				t.Fatalf("%s: the answer keeps the upstream's reasoning_content: %s", kind, b)
			}

			// A stream.
			resp, b = h.post(body + `,"stream":true}`)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s stream: %d %s", kind, resp.StatusCode, b)
			}
			var reasoningText, contentText strings.Builder
			for _, line := range strings.Split(string(b), "\n") {
				data, ok := strings.CutPrefix(line, "data: ")
				if !ok || data == "[DONE]" {
					continue
				}
				if strings.Contains(data, "reasoning_content") {
					t.Fatalf("%s: a chunk keeps the upstream's reasoning_content: %s", kind, data)
				}
				var c struct {
					Choices []struct {
						Delta struct {
							Content   *string `json:"content"`
							Reasoning *string `json:"reasoning"`
						} `json:"delta"`
					} `json:"choices"`
				}
				if err := json.Unmarshal([]byte(data), &c); err != nil {
					t.Fatalf("%s: chunk %s: %v", kind, data, err)
				}
				for _, ch := range c.Choices {
					if ch.Delta.Reasoning != nil {
						reasoningText.WriteString(*ch.Delta.Reasoning)
					}
					if ch.Delta.Content != nil {
						contentText.WriteString(*ch.Delta.Content)
					}
				}
			}
			if reasoningText.String() != want || contentText.String() != "hello there" {
				t.Fatalf("%s stream exclude=%v: reasoning %q, content %q; want %q and the answer", kind, exclude, reasoningText.String(), contentText.String(), want)
			}
		}
	}
}

// withoutReasoning keeps a chunk that has something besides reasoning
// (content, a finish reason, usage) and drops one that has nothing else.
func TestWithoutReasoning(t *testing.T) {
	cases := []struct {
		in, want string
		keep     bool
	}{
		{`{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}`, `{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}`, true},
		{`{"choices":[{"index":0,"delta":{"reasoning":"x"},"finish_reason":null}]}`, "", false},
		{`{"choices":[{"index":0,"delta":{"reasoning_content":"x","content":"a"},"finish_reason":null}]}`, `{"choices":[{"delta":{"content":"a"},"finish_reason":null,"index":0}]}`, true},
		{`{"choices":[{"index":0,"delta":{"reasoning":"x"},"finish_reason":"stop"}]}`, `{"choices":[{"delta":{},"finish_reason":"stop","index":0}]}`, true},
		{`{"choices":[],"usage":{"total_tokens":3},"reasoning":1}`, `{"choices":[],"reasoning":1,"usage":{"total_tokens":3}}`, true},
	}
	for _, c := range cases {
		out, keep := withoutReasoning([]byte(c.in))
		if keep != c.keep || (keep && string(out) != c.want) {
			t.Errorf("withoutReasoning(%s) = %s, %v; want %s, %v", c.in, out, keep, c.want, c.keep)
		}
	}
}

// An agent loop on Claude with reasoning: the answer's reasoning_details
// carry the signed thinking block (in an answer, and as a stream's deltas
// merge them), and an assistant message sent back with them lets the next
// request think again, as Anthropic requires the turn to start with that
// block. Sent back without them, the request goes without thinking.
func TestReasoningDetailsKeepClaudeThinkingAcrossToolCalls(t *testing.T) {
	const thought = "The weather needs a lookup."
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise, scripts: map[string]providertest.Script{"anthropic": {
		Reasoning: thought, Chunks: 2, ToolCalls: []providertest.ToolCall{{ID: "toolu_1", Name: "weather", Arguments: `{"city":"Taipei"}`}},
		Usage: providertest.Usage{Prompt: 10, Completion: 30}}}})
	const ask = `"model":"test/anthropic","max_tokens":4000,"reasoning":{"effort":"high"},` +
		`"tools":[{"type":"function","function":{"name":"weather","parameters":{"type":"object"}}}]`
	first := `{` + ask + `,"messages":[{"role":"user","content":"Weather in Taipei?"}]`
	want := chat.ReasoningDetail{Type: chat.ReasoningText, Text: thought, Signature: "c2ln", Format: chat.FormatAnthropic}

	// One answer.
	resp, b := h.post(first + "}")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first turn: %d %s", resp.StatusCode, b)
	}
	var r struct {
		Choices []struct {
			Message chat.Message `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(b, &r); err != nil || len(r.Choices) != 1 {
		t.Fatalf("%v %s", err, b)
	}
	msg := r.Choices[0].Message
	if len(msg.ReasoningDetails) != 1 || msg.ReasoningDetails[0] != want || len(msg.ToolCalls) != 1 {
		t.Fatalf("answer's reasoning_details %+v, tool calls %d; want %+v", msg.ReasoningDetails, len(msg.ToolCalls), want)
	}

	// A stream: text deltas, then the signature, merged by index.
	resp, b = h.post(first + `,"stream":true}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d %s", resp.StatusCode, b)
	}
	merged := map[int]*chat.ReasoningDetail{}
	var deltaText strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var c struct {
			Choices []struct {
				Delta chat.Delta `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("%v: %s", err, data)
		}
		for _, ch := range c.Choices {
			if ch.Delta.Reasoning != nil {
				deltaText.WriteString(*ch.Delta.Reasoning)
			}
			for _, d := range ch.Delta.ReasoningDetails {
				m := merged[d.Index]
				if m == nil {
					m = &chat.ReasoningDetail{Type: d.Type, Format: d.Format, Index: d.Index}
					merged[d.Index] = m
				}
				m.Text += d.Text
				if d.Signature != "" {
					m.Signature = d.Signature
				}
			}
		}
	}
	if len(merged) != 1 || merged[0] == nil || *merged[0] != want || deltaText.String() != thought {
		t.Fatalf("stream's reasoning_details merge to %+v (reasoning %q), want %+v", merged, deltaText.String(), want)
	}

	// The next turn, with the assistant message as the client got it.
	call, _ := json.Marshal(msg)
	next := `{` + ask + `,"messages":[{"role":"user","content":"Weather in Taipei?"},` + string(call) +
		`,{"role":"tool","tool_call_id":"toolu_1","content":"sunny"}]}`
	sentThinking := func() (thinking bool, firstBlock string) {
		var up struct {
			Thinking *struct {
				Type string `json:"type"`
			} `json:"thinking"`
			Messages []struct {
				Role    string `json:"role"`
				Content []struct {
					Type      string `json:"type"`
					Signature string `json:"signature"`
				} `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(h.fakes["anthropic"].Last().Body, &up); err != nil || len(up.Messages) != 3 {
			t.Fatalf("upstream request: %v %s", err, h.fakes["anthropic"].Last().Body)
		}
		return up.Thinking != nil, up.Messages[1].Content[0].Type
	}
	if resp, b := h.post(next); resp.StatusCode != http.StatusOK {
		t.Fatalf("next turn with reasoning_details: %d %s", resp.StatusCode, b)
	}
	if thinking, block := sentThinking(); !thinking || block != "thinking" {
		t.Fatalf("next turn: thinking %v, the assistant turn starts with %q", thinking, block)
	}
	// Without them, Claude would refuse thinking: the request goes without.
	msg.ReasoningDetails = nil
	call, _ = json.Marshal(msg)
	next = `{` + ask + `,"messages":[{"role":"user","content":"Weather in Taipei?"},` + string(call) +
		`,{"role":"tool","tool_call_id":"toolu_1","content":"sunny"}]}`
	if resp, b := h.post(next); resp.StatusCode != http.StatusOK {
		t.Fatalf("next turn without reasoning_details: %d %s", resp.StatusCode, b)
	}
	if thinking, block := sentThinking(); thinking || block != "tool_use" {
		t.Fatalf("next turn without details: thinking %v, first block %q", thinking, block)
	}
}
