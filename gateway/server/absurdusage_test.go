package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// rawUpstream answers every request with body, whatever was asked.
func rawUpstream(t *testing.T, contentType, body string) string {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(up.Close)
	return up.URL
}

// reportingAnswer is kind's answer "hello there", whole or streamed, whose
// usage report has prompt and completion as its input and output counts
// (raw JSON, so that each may carry sibling members after it).
func reportingAnswer(kind string, stream bool, prompt, completion string) (contentType, body string) {
	switch kind {
	case "openai":
		u := `"usage":{"prompt_tokens":` + prompt + `,"completion_tokens":` + completion + `}`
		if !stream {
			return "application/json", `{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hello there"},"finish_reason":"stop"}],` + u + `}`
		}
		return "text/event-stream", `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"hello there"},"finish_reason":null}]}` + "\n\n" +
			`data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n" +
			`data: {"id":"c","object":"chat.completion.chunk","choices":[],` + u + "}\n\ndata: [DONE]\n\n"
	case "anthropic":
		if !stream {
			return "application/json", `{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"hello there"}],"stop_reason":"end_turn","usage":{"input_tokens":` + prompt + `,"output_tokens":` + completion + `}}`
		}
		return "text/event-stream", "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"c\",\"content\":[],\"usage\":{\"input_tokens\":" + prompt + ",\"output_tokens\":1}}}\n\n" +
			"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hello there\"}}\n\n" +
			"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":" + completion + "}}\n\n" +
			"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	}
	body = `{"candidates":[{"content":{"role":"model","parts":[{"text":"hello there"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":` + prompt + `,"candidatesTokenCount":` + completion + `}}`
	if stream {
		return "text/event-stream", "data: " + body + "\n\n"
	}
	return "application/json", body
}

// An upstream that reports impossible usage (negative counts, 2^63
// tokens, more output than max_tokens allowed, cached tokens above the
// prompt, reasoning above the completion) once charged a customer minus
// NT$999 or NT$184 trillion. Its report is refused: the answer is billed
// by the gateway's own count of it (5 tokens in, 2 out: NT$0.00009 at
// 10/20 per million), as when an upstream reports nothing, and the event
// says why. A possible report is still billed as reported.
func TestImpossibleUpstreamUsageIsBilledByOwnCount(t *testing.T) {
	type report struct{ name, prompt, completion, refused string }
	common := []report{
		{"negative prompt", "-100000000", "5", domain.UsageNegative},
		{"negative completion", "5", "-5", domain.UsageNegative},
		{"2^63 completion", "5", "9223372036854775807", domain.UsageOutputTooLarge},
		{"beyond max_tokens", "5", "1000000000", domain.UsageOutputTooLarge},
		{"2^63 prompt", "9223372036854775000", "5", domain.UsageInputTooLarge},
		{"possible", "7", "100", ""},
	}
	extra := map[string][]report{
		"openai": {
			{"cached above prompt", `5,"prompt_tokens_details":{"cached_tokens":50}`, "5", domain.UsagePartsTooLarge},
			{"reasoning above completion", "5", `5,"completion_tokens_details":{"reasoning_tokens":50}`, domain.UsagePartsTooLarge},
		},
		"gemini": {{"cached above prompt", `5,"cachedContentTokenCount":50`, "5", domain.UsagePartsTooLarge}},
	}
	for _, kind := range []string{"openai", "anthropic", "gemini"} {
		for _, stream := range []bool{false, true} {
			for _, c := range append(common, extra[kind]...) {
				t.Run(fmt.Sprintf("%s/stream=%v/%s", kind, stream, c.name), func(t *testing.T) {
					ct, body := reportingAnswer(kind, stream, c.prompt, c.completion)
					base := rawUpstream(t, ct, body)
					if kind == "openai" {
						base += "/v1"
					}
					h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/x": {{fake: kind, kind: kind, baseURL: base}}}})
					resp, b := h.post(fmt.Sprintf(`{"model":"test/x","max_tokens":100,"stream":%v,"messages":[{"role":"user","content":"hi"}]}`, stream))
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("status %d: %s", resp.StatusCode, b)
					}
					want, estimated := "0.00009", true
					if c.refused == "" {
						want, estimated = "0.00207", false // 7 in, 100 out
					}
					if got := answerUsage(t, b).Cost.String(); got != want {
						t.Errorf("the answer's usage costs %s, want %s", got, want)
					}
					h.catchUp()
					evs := h.completed()
					if len(evs) != 1 {
						t.Fatalf("%d completed events", len(evs))
					}
					e := evs[0]
					if !e.Cost.Equal(dec(want)) || e.Usage.Refused != c.refused || e.Usage.Estimated != estimated {
						t.Errorf("billed %s for %+v; want %s, refused %q", e.Cost, e.Usage, want, c.refused)
					}
				})
			}
		}
	}
}

// The gateway's own count never bills more output than the request
// allowed, even when the upstream wrote past max_tokens.
func TestOwnCountStopsAtMaxTokens(t *testing.T) {
	long := strings.Repeat("word ", 200)
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			ct, body := reportingAnswer("gemini", stream, "5", "-1")
			body = strings.Replace(body, "hello there", long, 1)
			h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/x": {{fake: "gemini", kind: "gemini", baseURL: rawUpstream(t, ct, body)}}}})
			resp, b := h.post(fmt.Sprintf(`{"model":"test/x","max_tokens":10,"stream":%v,"messages":[{"role":"user","content":"hi"}]}`, stream))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			h.catchUp()
			evs := h.completed()
			if len(evs) != 1 || evs[0].Usage.Output != 10 || evs[0].Usage.Refused != domain.UsageNegative {
				t.Fatalf("billed %+v", evs)
			}
		})
	}
}

// Without max_tokens, the bound is the model's own output limit (4,096 in
// the test catalog): a report beyond it is refused, one at it believed.
func TestUsageBeyondTheModelsLimitIsRefused(t *testing.T) {
	for completion, refused := range map[string]string{"4097": domain.UsageOutputTooLarge, "4096": ""} {
		ct, body := reportingAnswer("openai", false, "5", completion)
		h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/x": {{fake: "openai", kind: "openai", baseURL: rawUpstream(t, ct, body) + "/v1"}}}})
		if resp, b := h.post(`{"model":"test/x","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		h.catchUp()
		if evs := h.completed(); len(evs) != 1 || evs[0].Usage.Refused != refused || refused == "" && evs[0].Usage.Output != 4096 {
			t.Fatalf("%s reported: billed %+v", completion, evs[0].Usage)
		}
	}
}

// A catalog may leave a model's context length and output limit out:
// then only what the request itself bounds (max_tokens) is checked, and a
// large report for a request without max_tokens is billed as reported,
// where it was refused as beyond a limit of zero.
func TestUsageOfAModelWithoutLimitsIsBilledAsReported(t *testing.T) {
	for _, c := range []struct {
		body, refused string
		output        int64
	}{
		{`{"model":"test/bare","messages":[{"role":"user","content":"hi"}]}`, "", 50000},
		{`{"model":"test/bare","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`, domain.UsageOutputTooLarge, 2},
	} {
		ct, body := reportingAnswer("openai", false, "200000", "50000")
		h := newHarness(t, harnessOpts{
			models:   map[string][]upstreamSpec{"test/bare": {{fake: "openai", kind: "openai", baseURL: rawUpstream(t, ct, body) + "/v1"}}},
			noLimits: map[string]bool{"test/bare": true},
		})
		if resp, b := h.post(c.body); resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		h.catchUp()
		evs := h.completed()
		if len(evs) != 1 || evs[0].Usage.Refused != c.refused || evs[0].Usage.Output != c.output || c.refused == "" && evs[0].Usage.Input != 200000 {
			t.Fatalf("%s: billed %+v, want output %d refused %q", c.body, evs[0].Usage, c.output, c.refused)
		}
	}
}

// An embeddings upstream's input count is bounded as a chat one's is: more
// than the input and the model's context could hold is refused and the
// input counted by the gateway ("hello world": 2 tokens).
func TestEmbeddingsUsageBeyondTheInputIsRefused(t *testing.T) {
	for _, reported := range []string{"9223372036854775807", "100001"} {
		body := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,0.25]}],"model":"e","usage":{"prompt_tokens":` + reported + `,"total_tokens":1}}`
		h := embedHarness(t, harnessOpts{models: map[string][]upstreamSpec{
			"openai/text-embedding-3-small": {{fake: "openai", kind: "openai", baseURL: rawUpstream(t, "application/json", body) + "/v1"}},
		}})
		resp, b := h.postEmbeddings(`{"model":"openai/text-embedding-3-small","input":"hello world"}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		h.catchUp()
		if evs := h.completed(); len(evs) != 1 || evs[0].Usage.Input != 2 || evs[0].Usage.Refused != domain.UsageInputTooLarge || !evs[0].Cost.Equal(dec("0.00002")) {
			t.Fatalf("%s reported: billed %s for %+v", reported, evs[0].Cost, evs[0].Usage)
		}
	}
}
