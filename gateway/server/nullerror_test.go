package server

import (
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A host that writes every member of its chunks, an absent error as
// "error": null, streams a healthy answer: it once ended every such
// stream with an error chunk (a 502 before content, when its opening
// chunk carried the null) and billed it by the gateway's own count. The
// stream ends with its usage and [DONE], billed as reported, and no
// relayed chunk carries the null, which OpenRouter's chunks never have.
func TestStreamChunksWithNullErrorAreHealthy(t *testing.T) {
	withNull := func(chunk string) string {
		return strings.Replace(chunk, `"object":"chat.completion.chunk",`, `"object":"chat.completion.chunk","error":null,`, 1)
	}
	body := withNull(openAIChunk(`{"role":"assistant","content":""}`, "")) +
		withNull(openAIChunk(`{"content":"one two three"}`, "")) +
		withNull(`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\n") +
		withNull(`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":`+openAIUsage(33, 44)+"}\n\n") +
		"data: [DONE]\n\n"
	if strings.Count(body, `"error":null`) != 4 {
		t.Fatalf("the fixture lost its nulls:\n%s", body)
	}
	out, ev, _ := streamFrom(t, body)
	if !strings.HasSuffix(out, "data: [DONE]\n\n") || strings.Contains(out, `"error"`) || !strings.Contains(out, "one two three") {
		t.Fatalf("the client read:\n%s", out)
	}
	if u := ev.Usage; ev.Outcome != domain.OutcomeCompleted || ev.FinishReason != "stop" || u.Input != 33 || u.Output != 44 || u.Estimated {
		t.Fatalf("billed %+v (outcome %s, finish %q); want a completed stream, 33 in and 44 out as reported", u, ev.Outcome, ev.FinishReason)
	}
	if got := answerUsage(t, []byte(out)); got.PromptTokens != 33 || got.Cost.String() != ev.Cost.String() || !ev.Cost.Equal(defaultPrice().Cost(ev.Usage)) {
		t.Fatalf("the usage chunk says %+v", got)
	}
}
