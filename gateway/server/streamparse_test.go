package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A usage report whose count is not a whole number of tokens (a fraction,
// an exponent, a number no integer holds, a string) once broke a stream
// that had finished: the client read finish_reason "stop", then an error
// chunk quoting the decoder ("cannot unmarshal … of type int") and the
// upstream's bytes; a Gemini stream with it on its first event failed
// over, and a whole answer was refused. Such a report is refused as an
// impossible one is: the answer goes out whole, billed by the gateway's
// own count (5 in, 2 out: NT$0.00009), the reason recorded.
func TestUnreadableUsageCountIsRefused(t *testing.T) {
	for _, kind := range []string{"openai", "anthropic", "gemini"} {
		for _, stream := range []bool{false, true} {
			for _, c := range []struct{ name, prompt, completion string }{
				{"fraction", "33.5", "5"},
				{"exponent", "5", "1e2"},
				{"overflow", "1e23", "5"},
				{"beyond int64", "5", "92233720368547758070"},
				{"string", `"33"`, "5"},
			} {
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
					out := string(b)
					for _, leak := range []string{"unmarshal", "wireUsage", "usageMetadata", "of type", `"error"`} {
						if strings.Contains(out, leak) {
							t.Fatalf("the client read %q:\n%s", leak, out)
						}
					}
					if !strings.Contains(out, "hello there") || stream && !strings.HasSuffix(out, "data: [DONE]\n\n") {
						t.Fatalf("the answer did not go out whole:\n%s", out)
					}
					if got := answerUsage(t, b).Cost.String(); got != "0.00009" {
						t.Errorf("the answer's usage costs %s, want 0.00009", got)
					}
					h.catchUp()
					evs := h.completed()
					if len(evs) != 1 {
						t.Fatalf("%d completed events", len(evs))
					}
					e := evs[0]
					if e.Outcome != domain.OutcomeCompleted || !e.Cost.Equal(dec("0.00009")) || e.Usage.Refused != domain.UsageUnreadable || !e.Usage.Estimated {
						t.Errorf("billed %s for %+v (outcome %s); want 0.00009, estimated, refused %q", e.Cost, e.Usage, e.Outcome, domain.UsageUnreadable)
					}
				})
			}
		}
	}
}

// anthropicEvent is one event of a Messages stream.
func anthropicEvent(typ, data string) string {
	return "event: " + typ + "\ndata: " + data + "\n\n"
}

// Anthropic's message_delta comes after every content block and carries
// the cumulative output count: it counts all that was delivered. An error
// event or a cut after it, before message_stop, once billed the larger of
// it and the gateway's own count (17 for a report of 5); the report is
// billed as it stands.
func TestAnthropicMessageDeltaCountIsFinal(t *testing.T) {
	words := "one two three four five six seven eight nine ten eleven twelve"
	head := anthropicEvent("message_start", `{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"c","content":[],"usage":{"input_tokens":33,"output_tokens":1}}}`) +
		anthropicEvent("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`) +
		anthropicEvent("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"`+words+`"}}`) +
		anthropicEvent("content_block_stop", `{"type":"content_block_stop","index":0}`) +
		anthropicEvent("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}`)
	for name, tail := range map[string]string{
		"error event": anthropicEvent("error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`),
		"cut":         "",
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/x": {{fake: "anthropic", kind: "anthropic", baseURL: rawUpstream(t, "text/event-stream", head+tail)}}}})
			resp, b := h.post(`{"model":"test/x","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
			wantStatus(t, resp, b, 200)
			h.catchUp()
			evs := h.completed()
			if len(evs) != 1 {
				t.Fatalf("%d completed events", len(evs))
			}
			if u := evs[0].Usage; evs[0].Outcome != domain.OutcomeUpstreamBrokeMid || u.Input != 33 || u.Output != 5 || u.Estimated {
				t.Fatalf("billed %+v (outcome %s); want 33 in and 5 out as reported", u, evs[0].Outcome)
			}
		})
	}
}

// The same for a Messages request relayed to Claude as it came.
func TestAnthropicNativeMessageDeltaCountIsFinal(t *testing.T) {
	body := anthropicEvent("message_start", `{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"c","content":[],"usage":{"input_tokens":33,"output_tokens":1}}}`) +
		anthropicEvent("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`) +
		anthropicEvent("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"one two three four five six seven eight nine ten eleven twelve"}}`) +
		anthropicEvent("content_block_stop", `{"type":"content_block_stop","index":0}`) +
		anthropicEvent("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}`)
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/x": {{fake: "anthropic", kind: "anthropic", baseURL: rawUpstream(t, "text/event-stream", body)}}}})
	resp, b := h.postMessages("", h.key, `{"model":"test/x","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	wantStatus(t, resp, b, 200)
	h.catchUp()
	evs := h.completed()
	if len(evs) != 1 {
		t.Fatalf("%d completed events", len(evs))
	}
	if u := evs[0].Usage; evs[0].Outcome != domain.OutcomeUpstreamBrokeMid || u.Input != 33 || u.Output != 5 || u.Estimated {
		t.Fatalf("billed %+v (outcome %s); want 33 in and 5 out as reported", u, evs[0].Outcome)
	}
}

// An error chunk whose error is a plain string (TGI's and vLLM's
// {"error":"CUDA out of memory"}) once reached the client as "error event
// in stream". Its message is passed on, a key in it redacted.
func TestStreamErrorAsPlainStringKeepsItsMessage(t *testing.T) {
	body := openAIChunk(`{"role":"assistant","content":""}`, "") +
		openAIChunk(`{"content":"one two three four"}`, "") +
		`data: {"error":"CUDA out of memory (key sk-proj-abcdefghijklmnopqrstuvwx)","error_type":"generation"}` + "\n\n"
	out, ev, _ := streamFrom(t, body)
	if !strings.Contains(out, "CUDA out of memory") || strings.Contains(out, "error event in stream") || strings.Contains(out, "abcdefghijklmnop") {
		t.Fatalf("the client read:\n%s", out)
	}
	if !strings.Contains(out, `"finish_reason":"error"`) || !strings.Contains(out, `"error_type":`) || strings.Contains(out, "[DONE]") {
		t.Fatalf("no OpenRouter mid-stream error chunk:\n%s", out)
	}
	if ev.Outcome != domain.OutcomeUpstreamBrokeMid {
		t.Fatalf("outcome %s", ev.Outcome)
	}
}

// Gemini's finish reasons that are no natural stop (a function call the
// model could not form, an unknown reason) once became "stop"; they are
// "error", as OpenRouter reports a generation that ended in error, and
// the image filters' are "content_filter".
func TestGeminiFinishReasonsAreNormalised(t *testing.T) {
	for native, want := range map[string]string{
		"MALFORMED_FUNCTION_CALL":  "error",
		"OTHER":                    "error",
		"IMAGE_PROHIBITED_CONTENT": "content_filter",
		"STOP":                     "stop",
	} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", native, stream), func(t *testing.T) {
				ct, body := reportingAnswer("gemini", stream, "7", "3")
				body = strings.Replace(body, `"finishReason":"STOP"`, `"finishReason":"`+native+`"`, 1)
				h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/x": {{fake: "gemini", kind: "gemini", baseURL: rawUpstream(t, ct, body)}}}})
				resp, b := h.post(fmt.Sprintf(`{"model":"test/x","max_tokens":100,"stream":%v,"messages":[{"role":"user","content":"hi"}]}`, stream))
				wantStatus(t, resp, b, 200)
				if !strings.Contains(string(b), `"finish_reason":"`+want+`"`) {
					t.Fatalf("want finish_reason %q:\n%s", want, b)
				}
				h.catchUp()
				if evs := h.completed(); len(evs) != 1 || evs[0].FinishReason != want || evs[0].Outcome != domain.OutcomeCompleted {
					t.Fatalf("recorded %+v", evs)
				}
			})
		}
	}
}

// With n > 1, Gemini streams its candidates side by side. A cut while one
// of them still writes is not a finished stream because another finished
// first: the last report did not count what followed it, and the output
// is counted from what was delivered.
func TestGeminiCutWhileACandidateWritesIsNotFinal(t *testing.T) {
	words := "one two three four five six seven eight nine ten eleven twelve"
	ev := func(s string) string { return "data: " + s + "\n\n" }
	body := ev(`{"candidates":[{"index":0,"content":{"role":"model","parts":[{"text":"a"}]}},{"index":1,"content":{"role":"model","parts":[{"text":"b"}]}}],"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":2}}`) +
		ev(`{"candidates":[{"index":0,"content":{"role":"model","parts":[{"text":" c"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":3}}`) +
		ev(`{"candidates":[{"index":1,"content":{"role":"model","parts":[{"text":" `+words+`"}]}}]}`)
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/x": {{fake: "gemini", kind: "gemini", baseURL: rawUpstream(t, "text/event-stream", body)}}}})
	resp, b := h.post(`{"model":"test/x","max_tokens":100,"n":2,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	wantStatus(t, resp, b, 200)
	h.catchUp()
	evs := h.completed()
	if len(evs) != 1 {
		t.Fatalf("%d completed events", len(evs))
	}
	if u := evs[0].Usage; evs[0].Outcome != domain.OutcomeUpstreamBrokeMid || !u.Estimated || u.Output <= 3 {
		t.Fatalf("billed %+v (outcome %s); want the delivered output counted, estimated", u, evs[0].Outcome)
	}
}

// An embeddings answer whose count is not a whole number of tokens is
// billed by the gateway's own count of the input ("hello world": 2
// tokens), the reason recorded, where it once failed the request.
func TestEmbeddingsUnreadableUsageIsRefused(t *testing.T) {
	for _, reported := range []string{"2.5", "1e23", `"2"`} {
		body := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,0.25]}],"model":"e","usage":{"prompt_tokens":` + reported + `,"total_tokens":1}}`
		h := embedHarness(t, harnessOpts{models: map[string][]upstreamSpec{
			"openai/text-embedding-3-small": {{fake: "openai", kind: "openai", baseURL: rawUpstream(t, "application/json", body) + "/v1"}},
		}})
		resp, b := h.postEmbeddings(`{"model":"openai/text-embedding-3-small","input":"hello world"}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s reported: %d %s", reported, resp.StatusCode, b)
		}
		h.catchUp()
		if evs := h.completed(); len(evs) != 1 || evs[0].Usage.Input != 2 || evs[0].Usage.Refused != domain.UsageUnreadable || !evs[0].Usage.Estimated {
			t.Fatalf("%s reported: billed %+v", reported, evs)
		}
	}
}
