package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers"
)

// panicsAfter is an adapter whose streams fail inside the gateway after
// their first chunks: a defect of the gateway's own, met mid-stream.
type panicsAfter struct {
	providers.Adapter
	chunks int
}

func (p panicsAfter) Send(ctx context.Context, hc *http.Client, up providers.Upstream, req *chat.Request) (*providers.Result, error) {
	res, err := p.Adapter.Send(ctx, hc, up, req)
	if err == nil && res.Stream != nil {
		res.Stream = &panickyStream{ChunkStream: res.Stream, left: p.chunks}
	}
	return res, err
}

type panickyStream struct {
	providers.ChunkStream
	left int
}

func (s *panickyStream) Next() ([]byte, error) {
	if s.left--; s.left < 0 {
		panic("a chunk the relay cannot take")
	}
	return s.ChunkStream.Next()
}

// A panic of the gateway after content went out to the client ended the
// stream without its end and recorded the request as failed: what the
// customer received, and the provider billed, was charged to no one. The
// stream now ends with an error chunk, and the request is billed for what
// was delivered, as a stream the upstream broke is, under an outcome of
// its own; the panic is logged.
func TestAPanicMidStreamBillsWhatWasDelivered(t *testing.T) {
	up := newWireUpstream(t, sseEvents(
		`{"id":"u1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello there, "}}]}`,
		`{"id":"u1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"this is a longer answer"}}]}`,
		`{"id":"u1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" that never ends"}}]}`,
		`{"id":"u1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":12,"total_tokens":19}}`,
		`[DONE]`))
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models: map[string][]upstreamSpec{"test/compat": {{kind: "openai", baseURL: up.srv.URL}}}})
	real, err := providers.For(providers.KindOpenAI)
	if err != nil {
		t.Fatal(err)
	}
	h.srv.echo.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(ctxAdapters, map[string]providers.Adapter{providers.KindOpenAI: panicsAfter{Adapter: real, chunks: 2}})
			return next(c)
		}
	})
	st, b := h.send("POST", "/api/v1/chat/completions", map[string][]string{"Authorization": {"Bearer " + h.key}},
		`{"model":"test/compat","stream":true,"max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`)
	if st != 200 || !strings.Contains(string(b), "Hello there") {
		t.Fatalf("%d %s", st, b)
	}
	if !strings.Contains(string(b), `"finish_reason":"error"`) {
		t.Fatalf("the stream did not end with an error chunk:\n%s", b)
	}
	if !strings.Contains(h.logs.String(), "panic") {
		t.Fatalf("the panic was not logged: %s", h.logs.String())
	}
	h.catchUp()
	c, f := h.completed(), h.failed()
	if len(c) != 1 || len(f) != 0 {
		t.Fatalf("completed %+v, failed %+v: want the request billed for what was delivered", c, f)
	}
	if c[0].Outcome != domain.OutcomeGatewayFailedMid || !c[0].Usage.Estimated || c[0].Usage.Output == 0 || !c[0].Cost.IsPositive() {
		t.Fatalf("the request was recorded as %+v", c[0])
	}
	h.heldIsZero()
}
