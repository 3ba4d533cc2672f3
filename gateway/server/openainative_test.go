package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// Answers as OpenAI's API writes them, and as an OpenRouter upstream does
// (with its own native_finish_reason), whole and streamed.
const (
	openAIWhole = `{"id":"chatcmpl-BqX7","object":"chat.completion","created":1751900000,"model":"gpt-4.1-mini-2025-04-14",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},` +
		`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},` +
		`"service_tier":"default","system_fingerprint":"fp_6f2eabb9a5"}`
	// n = 2, the first choice cut at max_tokens.
	openAIWholeTwo = `{"id":"chatcmpl-BqX8","object":"chat.completion","created":1751900000,"model":"gpt-4.1-mini-2025-04-14",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"length"},` +
		`{"index":1,"message":{"role":"assistant","content":"Hi.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":9,"completion_tokens":6,"total_tokens":15},"service_tier":"default","system_fingerprint":"fp_6f2eabb9a5"}`
	openAIWholeToolCall = `{"id":"chatcmpl-BqX9","object":"chat.completion","created":1751900000,"model":"gpt-4.1-mini-2025-04-14",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_Qf3","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Taipei\"}"}}],"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"tool_calls"}],` +
		`"usage":{"prompt_tokens":60,"completion_tokens":16,"total_tokens":76},"service_tier":"default","system_fingerprint":"fp_6f2eabb9a5"}`
	// DeepSeek's reasoning_content: the answer is decoded whole, not relayed.
	deepSeekWhole = `{"id":"b2a1","object":"chat.completion","created":1751900000,"model":"deepseek-reasoner",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello.","reasoning_content":"A greeting."},"logprobs":null,"finish_reason":"length"}],` +
		`"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14,"prompt_cache_hit_tokens":0,"prompt_cache_miss_tokens":9},"system_fingerprint":"fp_8802369eaa_prod0425fp8"}`
	openRouterWhole = `{"id":"gen-1751900000-abc","provider":"Anthropic","model":"anthropic/claude-sonnet-4","object":"chat.completion","created":1751900000,` +
		`"choices":[{"logprobs":null,"finish_reason":"stop","native_finish_reason":"end_turn","index":0,"message":{"role":"assistant","content":"Hello!","refusal":null,"reasoning":null}}],` +
		`"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13,"cost":0.0001,"is_byok":false}}`

	openAIStream = `data: {"id":"chatcmpl-BqXa","object":"chat.completion.chunk","created":1751900000,"model":"gpt-4.1-mini-2025-04-14","service_tier":"default","system_fingerprint":"fp_6f2eabb9a5","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"Zq"}` + "\n\n" +
		`data: {"id":"chatcmpl-BqXa","object":"chat.completion.chunk","created":1751900000,"model":"gpt-4.1-mini-2025-04-14","service_tier":"default","system_fingerprint":"fp_6f2eabb9a5","choices":[{"index":0,"delta":{"content":"Hello, \"finish_reason\":\"stop\"!"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"k3"}` + "\n\n" +
		`data: {"id":"chatcmpl-BqXa","object":"chat.completion.chunk","created":1751900000,"model":"gpt-4.1-mini-2025-04-14","service_tier":"default","system_fingerprint":"fp_6f2eabb9a5","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}],"usage":null,"obfuscation":"p"}` + "\n\n" +
		`data: {"id":"chatcmpl-BqXa","object":"chat.completion.chunk","created":1751900000,"model":"gpt-4.1-mini-2025-04-14","service_tier":"default","system_fingerprint":"fp_6f2eabb9a5","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"obfuscation":"W"}` + "\n\n" +
		"data: [DONE]\n\n"
	// n = 2: each choice ends in a chunk of its own.
	openAIStreamTwo = `data: {"id":"chatcmpl-BqXb","object":"chat.completion.chunk","created":1751900000,"model":"gpt-4.1-mini-2025-04-14","system_fingerprint":"fp_6f2eabb9a5","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n" +
		`data: {"id":"chatcmpl-BqXb","object":"chat.completion.chunk","created":1751900000,"model":"gpt-4.1-mini-2025-04-14","system_fingerprint":"fp_6f2eabb9a5","choices":[{"index":1,"delta":{"role":"assistant","content":"Hello","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n" +
		`data: {"id":"chatcmpl-BqXb","object":"chat.completion.chunk","created":1751900000,"model":"gpt-4.1-mini-2025-04-14","system_fingerprint":"fp_6f2eabb9a5","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}` + "\n\n" +
		`data: {"id":"chatcmpl-BqXb","object":"chat.completion.chunk","created":1751900000,"model":"gpt-4.1-mini-2025-04-14","system_fingerprint":"fp_6f2eabb9a5","choices":[{"index":1,"delta":{},"logprobs":null,"finish_reason":"length"}],"usage":null}` + "\n\n" +
		`data: {"id":"chatcmpl-BqXb","object":"chat.completion.chunk","created":1751900000,"model":"gpt-4.1-mini-2025-04-14","system_fingerprint":"fp_6f2eabb9a5","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}` + "\n\n" +
		"data: [DONE]\n\n"
	openAIStreamToolCall = `data: {"id":"chatcmpl-BqXc","object":"chat.completion.chunk","created":1751900000,"model":"gpt-4.1-mini-2025-04-14","system_fingerprint":"fp_6f2eabb9a5","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_Qf3","type":"function","function":{"name":"get_weather","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n" +
		`data: {"id":"chatcmpl-BqXc","object":"chat.completion.chunk","created":1751900000,"model":"gpt-4.1-mini-2025-04-14","system_fingerprint":"fp_6f2eabb9a5","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Taipei\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n" +
		`data: {"id":"chatcmpl-BqXc","object":"chat.completion.chunk","created":1751900000,"model":"gpt-4.1-mini-2025-04-14","system_fingerprint":"fp_6f2eabb9a5","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}` + "\n\n" +
		`data: {"id":"chatcmpl-BqXc","object":"chat.completion.chunk","created":1751900000,"model":"gpt-4.1-mini-2025-04-14","system_fingerprint":"fp_6f2eabb9a5","choices":[],"usage":{"prompt_tokens":60,"completion_tokens":16,"total_tokens":76}}` + "\n\n" +
		"data: [DONE]\n\n"
	openRouterStream = `data: {"id":"gen-1751900000-abd","provider":"Anthropic","model":"anthropic/claude-sonnet-4","object":"chat.completion.chunk","created":1751900000,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hello!"},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}` + "\n\n" +
		`data: {"id":"gen-1751900000-abd","provider":"Anthropic","model":"anthropic/claude-sonnet-4","object":"chat.completion.chunk","created":1751900000,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"length","native_finish_reason":"max_tokens","logprobs":null}]}` + "\n\n" +
		`data: {"id":"gen-1751900000-abd","provider":"Anthropic","model":"anthropic/claude-sonnet-4","object":"chat.completion.chunk","created":1751900000,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null,"native_finish_reason":null,"logprobs":null}],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13,"cost":0.0001,"is_byok":false}}` + "\n\n" +
		"data: [DONE]\n\n"
)

// OpenRouter's choices carry native_finish_reason for every provider, its
// answers from OpenAI included: there it is OpenAI's own finish_reason.
// An OpenAI-shaped upstream's choices were relayed as it wrote them, so
// an answer from OpenAI (which writes no native reason) had none, whole
// or in the chunk that ends a stream. An upstream that writes its own
// (another OpenRouter) keeps it.
func TestOpenAIShapedAnswersCarryNativeFinishReason(t *testing.T) {
	cases := []struct {
		name, body string
		stream     bool
		native     []string // by choice index: the native reason wanted
	}{
		{"openai", openAIWhole, false, []string{"stop"}},
		{"openai n=2", openAIWholeTwo, false, []string{"length", "stop"}},
		{"openai tool call", openAIWholeToolCall, false, []string{"tool_calls"}},
		{"deepseek decoded", deepSeekWhole, false, []string{"length"}},
		{"openrouter", openRouterWhole, false, []string{"end_turn"}},
		{"openai", openAIStream, true, []string{"length"}},
		{"openai n=2", openAIStreamTwo, true, []string{"stop", "length"}},
		{"openai tool call", openAIStreamToolCall, true, []string{"tool_calls"}},
		{"openrouter", openRouterStream, true, []string{"max_tokens"}},
	}
	for _, c := range cases {
		t.Run(c.name+map[bool]string{false: "/whole", true: "/stream"}[c.stream], func(t *testing.T) {
			ct := "application/json"
			if c.stream {
				ct = "text/event-stream"
			}
			h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
				"test/x": {{fake: "openai", kind: "openai", baseURL: rawUpstream(t, ct, c.body) + "/v1"}}}})
			resp, b := h.post(`{"model":"test/x","n":` + map[bool]string{false: "1", true: "2"}[len(c.native) == 2] +
				`,"stream":` + map[bool]string{false: "false", true: "true"}[c.stream] + `,"messages":[{"role":"user","content":"hi"}]}`)
			wantStatus(t, resp, b, 200)
			got := map[int]string{}
			for _, obj := range answerObjects(t, b, c.stream) {
				for _, choice := range obj {
					if choice.finish == nil {
						if choice.hasNative && choice.native != nil {
							t.Errorf("a choice not ended has native_finish_reason %q: %s", *choice.native, choice.raw)
						}
						continue
					}
					if !choice.hasNative || choice.native == nil {
						t.Errorf("choice ending with %q has no native_finish_reason: %s", *choice.finish, choice.raw)
						continue
					}
					if _, dup := got[choice.index]; dup {
						t.Errorf("choice %d ended twice", choice.index)
					}
					got[choice.index] = *choice.native
				}
			}
			if len(got) != len(c.native) {
				t.Fatalf("native reasons %v, want %q:\n%s", got, c.native, b)
			}
			for i, want := range c.native {
				if got[i] != want {
					t.Errorf("choice %d: native_finish_reason %q, want %q", i, got[i], want)
				}
			}
		})
	}
}

// The legacy completions endpoint carries the native reason beside the
// finish reason too, whole and streamed.
func TestLegacyCompletionsCarryNativeFinishReason(t *testing.T) {
	for _, stream := range []bool{false, true} {
		ct, body := "application/json", openAIWhole
		if stream {
			ct, body = "text/event-stream", openAIStream
		}
		h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
			"test/x": {{fake: "openai", kind: "openai", baseURL: rawUpstream(t, ct, body) + "/v1"}}}})
		s := "false"
		if stream {
			s = "true"
		}
		resp, b := h.postCompletions(`{"model":"test/x","prompt":"hi","stream":` + s + `}`)
		wantStatus(t, resp, b, 200)
		want := map[bool]string{false: "stop", true: "length"}[stream]
		ended := 0
		for _, obj := range answerObjects(t, b, stream) {
			for _, choice := range obj {
				if choice.finish == nil {
					continue
				}
				ended++
				if choice.native == nil || *choice.native != want {
					t.Errorf("stream=%v: choice %s, want native_finish_reason %q", stream, choice.raw, want)
				}
			}
		}
		if ended != 1 {
			t.Errorf("stream=%v: %d choices ended:\n%s", stream, ended, b)
		}
	}
}

// finishes is what a test reads of one choice.
type finishes struct {
	index          int
	finish, native *string
	hasNative      bool
	raw            string
}

// answerObjects returns the choices of a whole answer, or of each chunk of
// a stream, failing on a choice that names native_finish_reason twice.
func answerObjects(t *testing.T, b []byte, stream bool) [][]finishes {
	t.Helper()
	bodies := []string{string(b)}
	if stream {
		bodies = nil
		for _, line := range strings.Split(string(b), "\n") {
			if data, ok := strings.CutPrefix(line, "data: "); ok && data != "[DONE]" {
				bodies = append(bodies, data)
			}
		}
	}
	var out [][]finishes
	for _, body := range bodies {
		var r struct{ Choices []json.RawMessage }
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		var cs []finishes
		for _, raw := range r.Choices {
			if n := strings.Count(string(raw), `"native_finish_reason"`); n > 1 {
				t.Errorf("native_finish_reason %d times in %s", n, raw)
			}
			var f struct {
				Index        int     `json:"index"`
				FinishReason *string `json:"finish_reason"`
				Native       *string `json:"native_finish_reason"`
			}
			var keys map[string]json.RawMessage
			if json.Unmarshal(raw, &f) != nil || json.Unmarshal(raw, &keys) != nil {
				t.Fatalf("choice %s", raw)
			}
			_, has := keys["native_finish_reason"]
			cs = append(cs, finishes{f.Index, f.FinishReason, f.Native, has, string(raw)})
		}
		out = append(out, cs)
	}
	return out
}
