package server

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// twoUpstreams is a model served by "first" then "second", both of kind.
func twoUpstreams(kind string, first providertest.Script, cfg Config) harnessOpts {
	return harnessOpts{
		models:  map[string][]upstreamSpec{"test/fo": {{fake: "first", kind: kind}, {fake: "second", kind: kind}}},
		scripts: map[string]providertest.Script{"first": first, "second": {Text: "from the second", Chunks: 3}},
		cfg:     cfg,
	}
}

const foBody = `{"model":"test/fo","messages":[{"role":"user","content":"hi"}]}`
const foStream = `{"model":"test/fo","stream":true,"messages":[{"role":"user","content":"hi"}]}`

// answeredBySecond checks the one completed event of a failed-over request.
func (h *harness) answeredBySecond() {
	h.t.Helper()
	evs := h.completed()
	if len(evs) != 1 || evs[0].Attempts != 2 || evs[0].Provider != "second" || evs[0].Outcome != domain.OutcomeCompleted {
		h.t.Fatalf("events %+v", evs)
	}
	if n := len(h.fakes["second"].Received()); n != 1 {
		h.t.Fatalf("second upstream got %d requests", n)
	}
	h.heldIsZero()
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestFailoverToSecondUpstream(t *testing.T) {
	cases := map[string]harnessOpts{
		"503":     twoUpstreams("openai", providertest.Script{Status: 503}, Config{}),
		"429":     twoUpstreams("anthropic", providertest.Script{Status: 429}, Config{}),
		"timeout": twoUpstreams("gemini", providertest.Script{Text: "late", Delay: 2 * time.Second}, Config{FirstByteTimeout: 150 * time.Millisecond}),
	}
	refused := twoUpstreams("openai", providertest.Script{}, Config{})
	refused.models["test/fo"][0].baseURL = "http://" + closedPort(t) + "/v1"
	cases["connection refused"] = refused

	for name, o := range cases {
		for _, body := range []string{foBody, foStream} {
			stream := strings.Contains(body, "stream")
			if name == "timeout" && !stream {
				continue // a unary answer is waited for whole (unarytimeout_test.go)
			}
			t.Run(name+map[bool]string{false: "/unary", true: "/stream"}[stream], func(t *testing.T) {
				h := newHarness(t, o)
				resp, b := h.post(body)
				if resp.StatusCode != 200 {
					t.Fatalf("status %d: %s", resp.StatusCode, b)
				}
				if text := replyText(t, b, stream); text != "from the second" {
					t.Fatalf("reply %q", text)
				}
				h.answeredBySecond()
			})
		}
	}
}

// replyText extracts the content of a unary body or an SSE stream.
func replyText(t *testing.T, b []byte, stream bool) string {
	t.Helper()
	if !stream {
		var r struct {
			Choices []struct{ Message struct{ Content string } } `json:"choices"`
		}
		if err := json.Unmarshal(b, &r); err != nil || len(r.Choices) == 0 {
			t.Fatalf("bad body %s", b)
		}
		return r.Choices[0].Message.Content
	}
	var sb strings.Builder
	for _, c := range sseChunks(t, b) {
		for _, ch := range c.Choices {
			sb.WriteString(ch.Delta.Content)
		}
	}
	return sb.String()
}

type sseChunk struct {
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func sseChunks(t *testing.T, b []byte) []sseChunk {
	t.Helper()
	var out []sseChunk
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "data: {") {
			continue
		}
		var c sseChunk
		if err := json.Unmarshal([]byte(line[6:]), &c); err != nil {
			t.Fatalf("bad chunk %q", line)
		}
		out = append(out, c)
	}
	return out
}

func TestAllUpstreamsFailIs503WithProviderAndStatus(t *testing.T) {
	o := twoUpstreams("openai", providertest.Script{Status: 503}, Config{})
	o.scripts["second"] = providertest.Script{Status: 500}
	h := newHarness(t, o)
	resp, b := h.post(foBody)
	if resp.StatusCode != 503 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	e := decodeError(t, b)
	if e.Error.Metadata["provider"] != "second" || e.Error.Metadata["upstream_status"] != float64(500) {
		t.Fatalf("metadata %v", e.Error.Metadata)
	}
	if tried, _ := e.Error.Metadata["attempts"].([]any); len(tried) != 2 {
		t.Fatalf("attempts %v", e.Error.Metadata["attempts"])
	}
	h.heldIsZero()
	waitFor(t, func() bool { return len(h.failed()) == 1 })
	if f := h.failed()[0]; f.Status != 503 || f.Attempts != 2 || f.Outcome != domain.OutcomeUpstreamFailed {
		t.Fatalf("failed event %+v", f)
	}
	if len(h.completed()) != 0 {
		t.Fatal("a failed request was billed")
	}
}

// An upstream's 400 is about the client's input: the client gets a 400 with
// the upstream's message (not a 5xx its SDK would retry), and no failover.
func TestUpstream400Is400WithoutFailover(t *testing.T) {
	h := newHarness(t, twoUpstreams("anthropic", providertest.Script{Status: 400, ErrorMessage: "messages: bad role"}, Config{}))
	resp, b := h.post(foBody)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	e := decodeError(t, b)
	if e.Error.Metadata["upstream_status"] != float64(400) || e.Error.Metadata["provider"] != "first" ||
		e.Error.Metadata["upstream_message"] != "messages: bad role" || !strings.Contains(e.Error.Message, "bad role") {
		t.Fatalf("error %+v", e.Error)
	}
	if n := len(h.fakes["second"].Received()); n != 0 {
		t.Fatalf("a 400 failed over: second got %d requests", n)
	}
	h.heldIsZero()
}

func TestStreamCutMidwayEndsWithErrorChunkAndNoFailover(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			h := newHarness(t, twoUpstreams(kind, providertest.Script{Text: "alpha beta gamma delta epsilon zeta", Chunks: 6, CutAfter: 3}, Config{}))
			resp, b := h.post(foStream)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			chunks := sseChunks(t, b)
			last := chunks[len(chunks)-1]
			if last.Error == nil || last.Error.Code != 502 || len(last.Choices) != 1 || last.Choices[0].FinishReason != "error" {
				t.Fatalf("last chunk %+v in %s", last, b)
			}
			if strings.Contains(string(b), "[DONE]") {
				t.Fatal("a cut stream ended with [DONE]")
			}
			if text := replyText(t, b, true); text == "" || strings.Contains(text, "zeta") {
				t.Fatalf("delivered %q", text)
			}
			if n := len(h.fakes["second"].Received()); n != 0 {
				t.Fatalf("a stream failed over after content: second got %d requests", n)
			}
			evs := h.completed()
			if len(evs) != 1 || evs[0].Outcome != domain.OutcomeUpstreamBrokeMid || evs[0].FinishReason != "error" ||
				!evs[0].Usage.Estimated || evs[0].Usage.Output <= 0 || evs[0].Attempts != 1 || evs[0].Provider != "first" {
				t.Fatalf("events %+v", evs)
			}
			h.heldIsZero()
		})
	}
}

func TestCircuitBreakerSkipsAFailingUpstream(t *testing.T) {
	h := newHarness(t, twoUpstreams("openai", providertest.Script{Status: 503}, Config{}))
	// The harness's breaker opens after 3 failures.
	for i := 0; i < 3; i++ {
		if resp, b := h.post(foBody); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, b)
		}
	}
	if n := len(h.fakes["first"].Received()); n != 3 {
		t.Fatalf("first got %d requests", n)
	}
	resp, b := h.post(foBody)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if n := len(h.fakes["first"].Received()); n != 3 {
		t.Fatalf("the open breaker let a request through: first got %d", n)
	}
	evs := h.completed()
	if last := evs[len(evs)-1]; last.Attempts != 1 || last.Provider != "second" {
		t.Fatalf("event %+v", last)
	}
	h.heldIsZero()
}

func TestKeepAlivesWhileWaitingThenFailover(t *testing.T) {
	h := newHarness(t, twoUpstreams("openai", providertest.Script{Status: 503, Delay: 300 * time.Millisecond}, Config{KeepAlive: 20 * time.Millisecond}))
	resp, b := h.post(foStream)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	s := string(b)
	ka := strings.Index(s, ": keep-alive\n\n")
	data := strings.Index(s, "data: ")
	if ka < 0 || data < ka {
		t.Fatalf("no keep-alive before the data: %q", s)
	}
	if !strings.HasSuffix(s, "data: [DONE]\n\n") || replyText(t, b, true) != "from the second" {
		t.Fatalf("stream %q", s)
	}
	h.answeredBySecond()
}

// waitFor polls a condition written in the background (failure events).
func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("condition not met within 5 s")
}
