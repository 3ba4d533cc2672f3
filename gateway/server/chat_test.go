package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/projections"
)

func TestUnaryCompletionIsBilledAndRecorded(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "你好", Usage: providertest.Usage{Prompt: 1000, Completion: 500, Cached: 200}},
	}})
	resp, body := h.post(`{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var out struct {
		ID      string `json:"id"`
		Model   string `json:"model"`
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
		Usage struct {
			PromptTokens int         `json:"prompt_tokens"`
			Cost         json.Number `json:"cost"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if out.ID != resp.Header.Get("X-Request-Id") || !strings.HasPrefix(out.ID, "gen-") {
		t.Fatalf("id %q, header %q", out.ID, resp.Header.Get("X-Request-Id"))
	}
	if out.Model != "test/openai" || out.Choices[0].Message.Content != "你好" {
		t.Fatalf("unexpected response %s", body)
	}
	// (800 × 10 + 200 × 5 + 500 × 20) / 1e6 = 0.019 NTD
	if out.Usage.Cost.String() != "0.019" {
		t.Fatalf("cost %s, want 0.019", out.Usage.Cost)
	}
	evs := h.completed()
	if len(evs) != 1 {
		t.Fatalf("%d completed events", len(evs))
	}
	ev := evs[0]
	if ev.RequestID != out.ID || !ev.Cost.Equal(decimal.RequireFromString("0.019")) || ev.Usage.Cached != 200 || ev.Provider != "openai" || ev.Attempts != 1 || ev.PriceList != 1 {
		t.Fatalf("event %+v", ev)
	}
	h.heldIsZero()
	h.catchUp()
	v, _ := h.models.Balances.View(h.account, "", ev.StartedAt)
	if !v.Balance.Equal(decimal.RequireFromString("999.981")) {
		t.Fatalf("balance %s, want 999.981", v.Balance)
	}
	for _, hdr := range []string{"X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests", "X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens"} {
		if resp.Header.Get(hdr) == "" {
			t.Errorf("missing header %s", hdr)
		}
	}
}

func TestErrorsHaveTheOpenAIShape(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	cases := []struct {
		name, key, body string
		status          int
	}{
		{"malformed", h.key, `{"model":`, 400},
		{"missing model", h.key, `{"messages":[{"role":"user","content":"x"}]}`, 400},
		{"missing messages", h.key, `{"model":"test/openai"}`, 400},
		{"no key", "", `{"model":"test/openai","messages":[{"role":"user","content":"x"}]}`, 401},
		{"bad key", "sk-rf-nope", `{"model":"test/openai","messages":[{"role":"user","content":"x"}]}`, 401},
		{"unknown model", h.key, `{"model":"nobody/nothing","messages":[{"role":"user","content":"x"}]}`, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := h.postKey(c.key, c.body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			e := decodeError(t, body)
			if e.Error.Code != c.status || e.Error.Message == "" {
				t.Fatalf("error body %s", body)
			}
		})
	}
	h.heldIsZero()
	// A revoked key gets 401, as OpenRouter answers it.
	if err := h.cmds.RevokeKey(t.Context(), h.keyID); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	resp, body := h.post(`{"model":"test/openai","messages":[{"role":"user","content":"x"}]}`)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked key: %d %s", resp.StatusCode, body)
	}
	decodeError(t, body)
}

// A disabled key is refused on every endpoint until it is enabled again;
// enabling a revoked key is refused.
func TestDisabledKeyRefusedUntilEnabled(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	chatBody := `{"model":"test/openai","messages":[{"role":"user","content":"x"}]}`
	msgBody := `{"model":"test/openai","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`
	if err := h.cmds.SetKeyDisabled(t.Context(), h.keyID, true); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	resp, body := h.post(chatBody)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "this API key is disabled") {
		t.Fatalf("disabled key, chat: %d %s", resp.StatusCode, body)
	}
	if resp, body := h.postMessages("", h.key, msgBody); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("disabled key, messages: %d %s", resp.StatusCode, body)
	}
	if code, b := h.getJSON("/api/v1/key", h.key); code != http.StatusUnauthorized {
		t.Fatalf("disabled key, /key: %d %v", code, b)
	}
	h.heldIsZero()

	// Disabling twice writes nothing more; enabling lets it work again.
	if err := h.cmds.SetKeyDisabled(t.Context(), h.keyID, true); err != nil {
		t.Fatal(err)
	}
	if err := h.cmds.SetKeyDisabled(t.Context(), h.keyID, false); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	if resp, body := h.post(chatBody); resp.StatusCode != http.StatusOK {
		t.Fatalf("enabled again: %d %s", resp.StatusCode, body)
	}
	st, err := h.cmds.Key(t.Context(), h.keyID)
	if err != nil || st.Disabled {
		t.Fatalf("key state %+v, %v", st, err)
	}

	// Revoking stays final.
	if err := h.cmds.RevokeKey(t.Context(), h.keyID); err != nil {
		t.Fatal(err)
	}
	if err := h.cmds.SetKeyDisabled(t.Context(), h.keyID, false); !errors.Is(err, commands.ErrConflict) {
		t.Fatalf("enabling a revoked key: %v", err)
	}
}

func TestStreamRelaysChunksThenUsageThenDone(t *testing.T) {
	for _, kind := range []string{"openai", "anthropic", "gemini"} {
		t.Run(kind, func(t *testing.T) {
			h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
				kind: {Text: "one two three four", Chunks: 4, Usage: providertest.Usage{Prompt: 100, Completion: 40}},
			}})
			resp, body := h.post(`{"model":"test/` + kind + `","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			s := string(body)
			if !strings.HasSuffix(s, "data: [DONE]\n\n") {
				t.Fatalf("stream does not end with [DONE]: %q", s)
			}
			var text strings.Builder
			var cost string
			for _, line := range strings.Split(s, "\n") {
				if !strings.HasPrefix(line, "data: {") {
					continue
				}
				var c struct {
					ID      string `json:"id"`
					Choices []struct {
						Delta struct{ Content string } `json:"delta"`
					} `json:"choices"`
					Usage *struct {
						Cost json.Number `json:"cost"`
					} `json:"usage"`
				}
				if err := json.Unmarshal([]byte(line[6:]), &c); err != nil {
					t.Fatalf("bad chunk %q: %v", line, err)
				}
				if c.ID != resp.Header.Get("X-Request-Id") {
					t.Fatalf("chunk id %q, request id %q", c.ID, resp.Header.Get("X-Request-Id"))
				}
				for _, ch := range c.Choices {
					text.WriteString(ch.Delta.Content)
				}
				if c.Usage != nil {
					cost = c.Usage.Cost.String()
				}
			}
			if text.String() != "one two three four" {
				t.Fatalf("relayed text %q", text.String())
			}
			// (100 × 10 + 40 × 20) / 1e6 = 0.0018
			if cost != "0.0018" {
				t.Fatalf("usage chunk cost %q", cost)
			}
			evs := h.completed()
			if len(evs) != 1 || evs[0].Outcome != domain.OutcomeCompleted || !evs[0].Stream || evs[0].Usage.Output != 40 {
				t.Fatalf("events %+v", evs)
			}
			h.heldIsZero()
		})
	}
}

func TestSilentUpstreamStreamIsCutAfterIdleTimeout(t *testing.T) {
	// The role chunk and the first content come at once, then silence.
	h := newHarness(t, harnessOpts{
		cfg: Config{StreamIdleTimeout: 150 * time.Millisecond},
		scripts: map[string]providertest.Script{
			"openai": {Text: "a b c d", Chunks: 4, ChunkDelay: 2 * time.Second, DelayFrom: 3},
		}})
	resp, body := h.post(`{"model":"test/openai","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"finish_reason":"error"`) {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "[DONE]") || strings.Count(string(body), `"content":`) >= 4 {
		t.Fatalf("the silent upstream was waited for to the end: %s", body)
	}
	evs := h.completed()
	if len(evs) != 1 || evs[0].Outcome != domain.OutcomeUpstreamBrokeMid || !evs[0].Usage.Estimated {
		t.Fatalf("events %+v", evs)
	}
	h.heldIsZero()
}

// An upstream that opens its stream and then writes nothing for the idle
// timeout has delivered nothing: the request fails as an upstream too slow
// for its first byte, with no cost, rather than a stream billed for nothing.
func TestStreamSilentBeforeContentTimesOut(t *testing.T) {
	h := newHarness(t, harnessOpts{
		cfg: Config{StreamIdleTimeout: 150 * time.Millisecond},
		scripts: map[string]providertest.Script{
			"openai": {Text: "a b c d", Chunks: 4, ChunkDelay: 2 * time.Second, DelayFrom: 2},
		}})
	resp, body := h.post(`{"model":"test/openai","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusGatewayTimeout || strings.Contains(string(body), "data: ") {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if f := h.waitFailed(1); len(f) != 1 || len(h.completed()) != 0 {
		t.Fatalf("failed %+v, completed %+v", f, h.completed())
	}
	h.heldIsZero()
}

// failingStore is a store whose appends fail while down is set.
type failingStore struct {
	eventstore.Store
	down atomic.Bool
}

func (f *failingStore) Append(ctx context.Context, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	if f.down.Load() {
		return eventstore.AppendResult{}, errors.New("store unreachable")
	}
	return f.Store.Append(ctx, stream, exp, evs...)
}

func TestStoreOutageRefusesBeforeCallingUpstreams(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fs := &failingStore{Store: st}
	h := newHarness(t, harnessOpts{store: fs})
	body := `{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`
	fs.down.Store(true)
	resp, b := h.post(body)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("append failing: status %d %s", resp.StatusCode, b)
	}
	calls := len(h.fakes["openai"].Received())
	resp, b = h.post(body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "event store") {
		t.Fatalf("store down: status %d %s", resp.StatusCode, b)
	}
	if len(h.fakes["openai"].Received()) != calls {
		t.Fatal("an upstream was called while the store was down")
	}
	h.heldIsZero()
	// Back up: the refused request's failure event reaches the store again
	// and the next request is served.
	fs.down.Store(false)
	h.srv.Drain()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, b = h.post(body)
		if resp.StatusCode == http.StatusOK || time.Now().After(deadline) {
			break
		}
		h.srv.Drain()
		time.Sleep(50 * time.Millisecond)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after recovery: status %d %s", resp.StatusCode, b)
	}
}

func TestGenerationOutOfTheRecentIndexIsReadFromTheStore(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "ok", Usage: providertest.Usage{Prompt: 7, Completion: 3}},
	}})
	resp, _ := h.post(`{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`)
	id := resp.Header.Get("X-Request-Id")
	// A directory whose memory index is empty: only the store knows it.
	empty := Projected{M: projections.NewModels(nil), Store: h.store}
	g, ok := empty.Generation(id)
	if !ok || g.TokensPrompt != 7 || g.TokensOut != 3 || g.AccountID != h.account || g.Status != 200 {
		t.Fatalf("generation from the store: %+v %v", g, ok)
	}
	if _, ok := empty.Generation("gen-0193a1b2c3d47e5f8a9b0c1d2e3f4a5b"); ok {
		t.Fatal("an unknown request must not be found")
	}
}

// A request its upstream's provider cannot take (a reasoning budget that
// does not fit under max_tokens, n > 1 for Anthropic) is the client's to
// fix: a 400 naming the parameter, nothing sent upstream, nothing held, a
// rejected request on record. An upstream further down the list that can
// take it answers instead.
func TestUntranslatableRequestIs400(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/anthropic": {{fake: "anthropic", kind: "anthropic"}},
		"test/mixed":     {{fake: "anthropic", kind: "anthropic"}, {fake: "openai", kind: "openai"}},
	}})
	for _, c := range []struct{ body, param string }{
		{`{"model":"test/anthropic","max_tokens":500,"reasoning_effort":"high","messages":[{"role":"user","content":"hi"}]}`, "max_tokens"},
		{`{"model":"test/anthropic","n":2,"messages":[{"role":"user","content":"hi"}]}`, ""},
	} {
		resp, body := h.post(c.body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
		}
		e := decodeError(t, body)
		if e.Error.Code != 400 || e.Error.Metadata["upstream_status"] != nil {
			t.Fatalf("error body %s", body)
		}
		if got, _ := e.Error.Metadata["param"].(string); got != c.param {
			t.Fatalf("param %q, want %q: %s", got, c.param, body)
		}
	}
	if n := len(h.fakes["anthropic"].Received()); n != 0 {
		t.Fatalf("the anthropic upstream received %d requests", n)
	}
	h.heldIsZero()
	for _, f := range h.waitFailed(2) {
		if f.Status != 400 || f.Outcome != domain.OutcomeRejected {
			t.Fatalf("recorded %d %s, want 400 %s", f.Status, f.Outcome, domain.OutcomeRejected)
		}
	}
	// With an OpenAI upstream behind it, the same request is answered there.
	resp, body := h.post(`{"model":"test/mixed","n":2,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d, want 200 from the second upstream: %s", resp.StatusCode, body)
	}
	if n := len(h.fakes["openai"].Received()); n != 1 {
		t.Fatalf("the openai upstream received %d requests, want 1", n)
	}
}
