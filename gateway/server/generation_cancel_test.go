package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// TestGenerationOfAbortedRequestIsCancelled: a request the client aborts
// reads back from /generation as OpenRouter reports it, cancelled and with
// no finish reason (the model never finished), streamed or not; a stream
// the upstream breaks stays finish_reason "error", not cancelled.
func TestGenerationOfAbortedRequestIsCancelled(t *testing.T) {
	generation := func(h *harness, id string) map[string]any {
		t.Helper()
		h.catchUp()
		code, gr := h.getJSON("/api/v1/generation?id="+id, h.key)
		if code != http.StatusOK {
			t.Fatalf("/generation: %d %v", code, gr)
		}
		g, _ := gr["data"].(map[string]any)
		return g
	}

	t.Run("stream aborted", func(t *testing.T) {
		h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
			"openai": {Text: "a b c d e f g h i j", Chunks: 10, ChunkDelay: 50 * time.Millisecond},
		}})
		resp, _ := openStream(t, h.http.URL, h.key, chatBody("test/openai", 1000, true))
		id := resp.Header.Get("X-Request-Id")
		resp.Body.Close()
		h.waitHeldZero()
		h.onlyCompleted(domain.OutcomeClientDisconnected)
		g := generation(h, id)
		if g["cancelled"] != true || g["finish_reason"] != nil || g["native_finish_reason"] != nil || g["streamed"] != true {
			t.Fatalf("aborted stream: cancelled %v finish_reason %v native_finish_reason %v streamed %v",
				g["cancelled"], g["finish_reason"], g["native_finish_reason"], g["streamed"])
		}
	})

	t.Run("unary aborted", func(t *testing.T) {
		h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
			"openai": {Text: "late", Delay: 2 * time.Second},
		}})
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.http.URL+"/api/v1/chat/completions",
			strings.NewReader(chatBody("test/openai", 1000, false)))
		req.Header.Set("Authorization", "Bearer "+h.key)
		go func() {
			eventually(t, "the request reaches the upstream", func() bool { return h.running.Load() > 0 })
			time.Sleep(100 * time.Millisecond)
			cancel()
		}()
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("the aborted request was answered: %d", resp.StatusCode)
		}
		f := h.waitFailed(1)[0]
		if f.Outcome != domain.OutcomeClientDisconnected {
			t.Fatalf("failure event %+v", f)
		}
		g := generation(h, f.RequestID)
		if g["cancelled"] != true || g["finish_reason"] != nil || g["native_finish_reason"] != nil || g["streamed"] != false {
			t.Fatalf("aborted request: cancelled %v finish_reason %v native_finish_reason %v streamed %v",
				g["cancelled"], g["finish_reason"], g["native_finish_reason"], g["streamed"])
		}
	})

	t.Run("upstream broke", func(t *testing.T) {
		h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
			"openai": {Text: "one two three four", Chunks: 4, CutAfter: 2},
		}})
		resp, b := h.post(chatBody("test/openai", 1000, true))
		wantStatus(t, resp, b, http.StatusOK)
		h.onlyCompleted(domain.OutcomeUpstreamBrokeMid)
		g := generation(h, resp.Header.Get("X-Request-Id"))
		if g["cancelled"] != false || g["finish_reason"] != "error" || g["native_finish_reason"] != "error" {
			t.Fatalf("broken stream: cancelled %v finish_reason %v native_finish_reason %v",
				g["cancelled"], g["finish_reason"], g["native_finish_reason"])
		}
	})
}

// A request.completed event of a stream the client left that records
// finish_reason "error" (the gateway's word, not the upstream's) reads
// back cancelled, with no finish reason; a broken upstream's stays error.
func TestGenerationOfRecordedDisconnectIsCancelled(t *testing.T) {
	for _, c := range []struct {
		outcome, finish string
		cancelled       bool
		want            any
	}{
		{domain.OutcomeClientDisconnected, "error", true, nil},
		{domain.OutcomeClientDisconnected, "length", true, "length"},
		{domain.OutcomeUpstreamBrokeMid, "error", false, "error"},
		{domain.OutcomeCompleted, "stop", false, "stop"},
	} {
		g := generationData(Generation{ID: "gen-x", Outcome: c.outcome, FinishReason: c.finish, Streamed: true})
		if g["cancelled"] != c.cancelled || g["finish_reason"] != c.want || g["native_finish_reason"] != c.want {
			t.Errorf("%s with %q: cancelled %v finish_reason %v native_finish_reason %v", c.outcome, c.finish,
				g["cancelled"], g["finish_reason"], g["native_finish_reason"])
		}
	}
}
