package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// OpenRouter's choices carry, for every provider, the provider's own
// finish reason beside the normalised one (native_finish_reason) and
// logprobs, null when there are none, whole and in every streamed chunk.
// Answers served by Claude and Gemini carried neither.
func TestTranslatedAnswersCarryNativeFinishReasonAndLogprobs(t *testing.T) {
	cases := []struct{ kind, stop, native, want string }{
		{"anthropic", `"stop_reason":"end_turn"`, "end_turn", "stop"},
		{"anthropic", `"stop_reason":"max_tokens"`, "max_tokens", "length"},
		{"anthropic", `"stop_reason":"stop_sequence"`, "stop_sequence", "stop"},
		{"gemini", `"finishReason":"STOP"`, "STOP", "stop"},
		{"gemini", `"finishReason":"MAX_TOKENS"`, "MAX_TOKENS", "length"},
		{"gemini", `"finishReason":"SAFETY"`, "SAFETY", "content_filter"},
	}
	for _, c := range cases {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/%s/stream=%v", c.kind, c.native, stream), func(t *testing.T) {
				ct, body := reportingAnswer(c.kind, stream, "7", "3")
				for _, orig := range []string{`"stop_reason":"end_turn"`, `"finishReason":"STOP"`} {
					body = strings.ReplaceAll(body, orig, c.stop)
				}
				h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/x": {{fake: c.kind, kind: c.kind, baseURL: rawUpstream(t, ct, body)}}}})
				resp, b := h.post(fmt.Sprintf(`{"model":"test/x","max_tokens":100,"stream":%v,"messages":[{"role":"user","content":"hi"}]}`, stream))
				wantStatus(t, resp, b, 200)
				if !stream {
					var r struct{ Choices []map[string]any }
					if err := json.Unmarshal(b, &r); err != nil || len(r.Choices) != 1 {
						t.Fatalf("answer %s: %v", b, err)
					}
					checkFinishes(t, r.Choices[0], c.native, c.want)
					return
				}
				finished := 0
				for _, line := range strings.Split(string(b), "\n") {
					data, ok := strings.CutPrefix(line, "data: ")
					if !ok || data == "[DONE]" {
						continue
					}
					var ch struct{ Choices []map[string]any }
					if err := json.Unmarshal([]byte(data), &ch); err != nil {
						t.Fatalf("chunk %s: %v", data, err)
					}
					for _, choice := range ch.Choices {
						if choice["finish_reason"] == nil {
							checkFinishes(t, choice, "", "")
							continue
						}
						finished++
						checkFinishes(t, choice, c.native, c.want)
					}
				}
				if finished != 1 {
					t.Fatalf("%d chunks with a finish reason:\n%s", finished, b)
				}
			})
		}
	}
}

// checkFinishes fails unless choice has logprobs null and the finish
// reasons given ("" for null).
func checkFinishes(t *testing.T, choice map[string]any, native, want string) {
	t.Helper()
	for key, v := range map[string]string{"finish_reason": want, "native_finish_reason": native, "logprobs": ""} {
		got, ok := choice[key]
		if !ok {
			t.Errorf("choice %v has no %s", choice, key)
			continue
		}
		if (v == "" && got != nil) || (v != "" && got != v) {
			t.Errorf("choice %v: %s = %v, want %q", choice, key, got, v)
		}
	}
}

// OpenRouter's generation record gives the provider's own finish reason as
// native_finish_reason, as its answer did; /generation gave the normalised
// one twice ("length" for Claude's max_tokens, "stop" for Gemini's STOP).
func TestGenerationKeepsTheProvidersOwnFinishReason(t *testing.T) {
	cases := []struct{ kind, stop, native, want string }{
		{"anthropic", `"stop_reason":"max_tokens"`, "max_tokens", "length"},
		{"gemini", `"finishReason":"STOP"`, "STOP", "stop"},
		{"openai", `"finish_reason":"length"`, "length", "length"},
	}
	for _, c := range cases {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", c.kind, stream), func(t *testing.T) {
				ct, body := reportingAnswer(c.kind, stream, "7", "3")
				for _, orig := range []string{`"stop_reason":"end_turn"`, `"finishReason":"STOP"`, `"finish_reason":"stop"`} {
					body = strings.ReplaceAll(body, orig, c.stop)
				}
				base := rawUpstream(t, ct, body)
				if c.kind == "openai" {
					base += "/v1"
				}
				h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/x": {{fake: c.kind, kind: c.kind, baseURL: base}}}})
				resp, b := h.post(fmt.Sprintf(`{"model":"test/x","max_tokens":100,"stream":%v,"messages":[{"role":"user","content":"hi"}]}`, stream))
				wantStatus(t, resp, b, 200)
				h.catchUp()
				code, g := h.getJSON("/api/v1/generation?id="+resp.Header.Get("X-Request-Id"), h.key)
				data, _ := g["data"].(map[string]any)
				if code != 200 || data == nil {
					t.Fatalf("generation: %d %v", code, g)
				}
				if data["finish_reason"] != c.want || data["native_finish_reason"] != c.native {
					t.Fatalf("finish_reason %v, native_finish_reason %v; want %q, %q", data["finish_reason"], data["native_finish_reason"], c.want, c.native)
				}
			})
		}
	}
}
