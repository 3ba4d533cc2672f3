package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/tokens"
)

// openAIChunk is an OpenAI stream event: a chunk whose first choice's delta
// is delta, with usage (raw JSON) when it is not empty.
func openAIChunk(delta, usage string) string {
	c := `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":` + delta + `,"finish_reason":null}]`
	if usage != "" {
		c += `,"usage":` + usage
	}
	return "data: " + c + "}\n\n"
}

func openAIUsage(prompt, completion int) string {
	return fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}`, prompt, completion, prompt+completion)
}

// streamFrom sends a streamed request to a model served by an OpenAI-kind
// upstream answering body, and returns what the client read and the
// request's one completed event.
func streamFrom(t *testing.T, body string) (string, *domain.RequestCompleted, *harness) {
	t.Helper()
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/x": {{fake: "openai", kind: "openai", baseURL: rawUpstream(t, "text/event-stream", body) + "/v1"}}}})
	resp, b := h.post(`{"model":"test/x","max_tokens":1000,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	wantStatus(t, resp, b, 200)
	h.catchUp()
	evs := h.completed()
	if len(evs) != 1 {
		t.Fatalf("%d completed events", len(evs))
	}
	h.heldIsZero()
	return string(b), evs[0], h
}

// A host may report usage before its content is over (a count on its
// opening chunk, as a proxy translating Anthropic's message_start sends).
// That report does not count the content after it: it once billed 1
// output token for a reply of dozens, cut or whole. The output is counted
// from what was delivered, the prompt kept as reported.
func TestStreamUsageReportedEarlyBillsWhatWasDelivered(t *testing.T) {
	words := "one two three four five six seven eight nine ten eleven twelve"
	for name, end := range map[string]string{"cut": "", "whole": openAIChunk(`{}`, "") + "data: [DONE]\n\n"} {
		t.Run(name, func(t *testing.T) {
			body := openAIChunk(`{"role":"assistant","content":""}`, openAIUsage(33, 1))
			for range 3 {
				body += openAIChunk(fmt.Sprintf(`{"content":%q}`, words+" "), "")
			}
			out, ev, _ := streamFrom(t, body+end)
			outcome, finish := domain.OutcomeCompleted, ""
			if end == "" {
				outcome, finish = domain.OutcomeUpstreamBrokeMid, "error"
				if strings.Contains(out, "[DONE]") || !strings.Contains(out, `"finish_reason":"error"`) {
					t.Fatalf("a cut stream ended without its error chunk:\n%s", out)
				}
			}
			want := int64(tokens.Count(strings.Repeat(words+" ", 3)))
			u := ev.Usage
			if ev.Outcome != outcome || ev.FinishReason != finish || u.Input != 33 || u.Output != want || !u.Estimated {
				t.Fatalf("billed %+v (outcome %s, finish %q); want 33 in as reported and %d out as delivered, estimated", u, ev.Outcome, ev.FinishReason, want)
			}
			if !ev.Cost.Equal(defaultPrice().Cost(u)) {
				t.Fatalf("cost %s for %+v", ev.Cost, u)
			}
		})
	}
}

// A host that reports its running count on every chunk (vLLM's
// continuous usage stats) and is then cut is billed its last count as it
// stands: nothing was delivered after it. So is one that reports on its
// last content chunk and finishes in a chunk of its own.
func TestStreamUsageReportedWithTheLastContentBillsTheReport(t *testing.T) {
	running := openAIChunk(`{"role":"assistant","content":""}`, openAIUsage(33, 0)) +
		openAIChunk(`{"content":"one two three "}`, openAIUsage(33, 40)) +
		openAIChunk(`{"content":"four five six"}`, openAIUsage(33, 80))
	for name, c := range map[string]struct{ body, outcome string }{
		"running, cut":     {running, domain.OutcomeUpstreamBrokeMid},
		"then finish only": {running + openAIChunk(`{}`, "") + "data: [DONE]\n\n", domain.OutcomeCompleted},
	} {
		t.Run(name, func(t *testing.T) {
			_, ev, _ := streamFrom(t, c.body)
			if u := ev.Usage; ev.Outcome != c.outcome || u.Input != 33 || u.Output != 80 || u.Estimated {
				t.Fatalf("billed %+v (outcome %s); want the last report, 33 in and 80 out", u, ev.Outcome)
			}
		})
	}
}

// An error chunk that carries the upstream's usage (an OpenRouter-like
// host ending a generation with finish_reason "error" and its count) is
// billed as reported, not by the gateway's own count.
func TestStreamErrorChunkWithUsageBillsTheReport(t *testing.T) {
	body := openAIChunk(`{"role":"assistant","content":""}`, "") +
		openAIChunk(`{"content":"one two three four"}`, "") +
		`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"error"}],` +
		`"error":{"code":502,"message":"Provider disconnected"},"usage":` + openAIUsage(33, 44) + "}\n\n"
	out, ev, _ := streamFrom(t, body)
	if !strings.Contains(out, "Provider disconnected") {
		t.Fatalf("the upstream's error is not passed on:\n%s", out)
	}
	if u := ev.Usage; ev.Outcome != domain.OutcomeUpstreamBrokeMid || ev.FinishReason != "error" || u.Input != 33 || u.Output != 44 || u.Estimated {
		t.Fatalf("billed %+v (outcome %s, finish %q); want 33 in and 44 out as reported", u, ev.Outcome, ev.FinishReason)
	}
}
