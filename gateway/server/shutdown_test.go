package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// cuttable serves h's gateway as serve does: every request's context
// derives from a base that the shutdown, once its grace is over, cancels
// with ErrShuttingDown as the cause before it closes the connections. cut
// does that cancelling.
func (h *harness) cuttable() (url string, cut func()) {
	base, cancel := context.WithCancelCause(context.Background())
	srv := httptest.NewUnstartedServer(h.srv)
	srv.Config.BaseContext = func(net.Listener) context.Context { return base }
	srv.Start()
	h.t.Cleanup(srv.Close)
	h.t.Cleanup(func() { cancel(nil) })
	return srv.URL, func() { cancel(ErrShuttingDown) }
}

// waitReceived waits until the fake upstream has n requests.
func (h *harness) waitReceived(fake string, n int) {
	h.t.Helper()
	eventually(h.t, "the upstream request", func() bool { return len(h.fakes[fake].Received()) >= n })
}

type reply struct {
	status int
	body   []byte
	err    error
}

// cutWhileUpstreamThinks sends a request whose upstream answers late and
// cuts it, by the shutdown, once the upstream has it.
func cutWhileUpstreamThinks(h *harness, path, body string) reply {
	h.t.Helper()
	url, cut := h.cuttable()
	done := make(chan reply, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+h.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- reply{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- reply{resp.StatusCode, b, err}
	}()
	h.waitReceived("openai", 1)
	cut()
	select {
	case r := <-done:
		return r
	case <-time.After(10 * time.Second):
		h.t.Fatal("no answer after the shutdown cut the request")
	}
	return reply{}
}

// TestShutdownCutBeforeTheFirstByte: a request still waiting for its
// upstream when the shutdown cuts it gets a 503 in the OpenAI shape, and is
// recorded as cut by the shutdown, not as a client that left; nothing is
// charged.
func TestShutdownCutBeforeTheFirstByte(t *testing.T) {
	late := map[string]providertest.Script{"openai": {Text: "late", Delay: 5 * time.Second}}
	for _, stream := range []bool{false, true} {
		h := newHarness(t, harnessOpts{scripts: late})
		r := cutWhileUpstreamThinks(h, "/api/v1/chat/completions", chatBody("test/openai", 1000, stream))
		if r.err != nil || r.status != http.StatusServiceUnavailable {
			t.Fatalf("stream %v: status %d, %v: %s", stream, r.status, r.err, r.body)
		}
		if e := decodeError(t, r.body); e.Error.Code != http.StatusServiceUnavailable || !strings.Contains(e.Error.Message, "shutting down") {
			t.Fatalf("stream %v: error %+v", stream, e)
		}
		if f := h.noCharge(http.StatusServiceUnavailable, domain.OutcomeShutdown); f.Reason != "shutting_down" {
			t.Fatalf("stream %v: failure %+v", stream, f)
		}
	}
}

// TestShutdownCutAfterKeepAlives: a stream whose 200 went out with
// keep-alive comments ends with the error chunk, code 503.
func TestShutdownCutAfterKeepAlives(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{"openai": {Text: "late", Delay: 5 * time.Second}},
		cfg: Config{KeepAlive: 20 * time.Millisecond}})
	url, cut := h.cuttable()
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/chat/completions", strings.NewReader(chatBody("test/openai", 1000, true)))
	req.Header.Set("Authorization", "Bearer "+h.key)
	resp, err := http.DefaultClient.Do(req) // returns with the first keep-alive
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	cut()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, %v: %s", resp.StatusCode, err, b)
	}
	chunks := sseChunks(t, b)
	if len(chunks) == 0 || chunks[len(chunks)-1].Error == nil || chunks[len(chunks)-1].Error.Code != http.StatusServiceUnavailable {
		t.Fatalf("want a last error chunk with code 503: %s", b)
	}
	h.noCharge(http.StatusServiceUnavailable, domain.OutcomeShutdown)
}

// TestShutdownCutMidStream: a stream cut by the shutdown mid-way ends with
// the error chunk (code 503, no [DONE]) and is billed for what was
// delivered, recorded with outcome shutdown.
func TestShutdownCutMidStream(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "a b c d e f g h i j", Chunks: 10, ChunkDelay: 100 * time.Millisecond, Usage: providertest.Usage{Prompt: 10, Completion: 1000}},
	}})
	url, cut := h.cuttable()
	_, r := openStream(t, url, h.key, chatBody("test/openai", 1000, true))
	cut()
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("the cut stream's end: %v", err)
	}
	chunks := sseChunks(t, rest)
	if len(chunks) == 0 || chunks[len(chunks)-1].Error == nil || chunks[len(chunks)-1].Error.Code != http.StatusServiceUnavailable ||
		strings.Contains(string(rest), "[DONE]") {
		t.Fatalf("want a last error chunk with code 503 and no [DONE]: %s", rest)
	}
	e := h.onlyCompleted(domain.OutcomeShutdown)
	u := e.Usage
	if !u.Estimated || u.Output <= 0 || u.Output >= 1000 || e.FinishReason != "error" {
		t.Fatalf("event %+v", e)
	}
	if want := defaultPrice().Cost(u); !e.Cost.Equal(want) || !e.Cost.IsPositive() {
		t.Fatalf("cost %s, want %s for the delivered %d tokens", e.Cost, want, u.Output)
	}
}

// TestShutdownCutEmbeddings: an embeddings request cut by the shutdown is
// a 503 too, recorded as such.
func TestShutdownCutEmbeddings(t *testing.T) {
	h := embedHarness(t, harnessOpts{scripts: map[string]providertest.Script{"openai": {Text: "late", Delay: 5 * time.Second}}})
	r := cutWhileUpstreamThinks(h, "/api/v1/embeddings", `{"model":"openai/text-embedding-3-small","input":"hello"}`)
	if r.err != nil || r.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, %v: %s", r.status, r.err, r.body)
	}
	h.noCharge(http.StatusServiceUnavailable, domain.OutcomeShutdown)
}
