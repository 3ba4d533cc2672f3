package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

const anthropicCacheStream = `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"usage":{"input_tokens":100,"cache_read_input_tokens":800,"cache_creation_input_tokens":300,"output_tokens":1}}}
{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}
{"type":"content_block_stop","index":0}
{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":500}}
{"type":"message_stop"}`

const anthropicCacheMessage = `{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":100,"cache_read_input_tokens":800,"cache_creation_input_tokens":300,"output_tokens":500}}`

// usageDetails is the usage object of an answer or of a stream's last
// chunk with usage.
type usageDetails struct {
	PromptTokens        int                    `json:"prompt_tokens"`
	PromptTokensDetails map[string]json.Number `json:"prompt_tokens_details"`
	Cost                json.Number            `json:"cost"`
}

func answerUsage(t *testing.T, b []byte) usageDetails {
	t.Helper()
	var v struct {
		Usage *usageDetails `json:"usage"`
	}
	body := string(b)
	if strings.HasPrefix(body, "data: ") {
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "data: {") && strings.Contains(l, `"usage"`) {
				body = l[6:]
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil || v.Usage == nil {
		t.Fatalf("no usage in %s", b)
	}
	return *v.Usage
}

// claudeUpstreams starts two upstreams that answer as Anthropic does: one
// streams the events of stream (a line each), the other answers message
// whole. It returns their base URLs.
func claudeUpstreams(t *testing.T, stream, message string) (streamURL, unaryURL string) {
	t.Helper()
	st := newWireUpstream(t, sseEvents(strings.Split(stream, "\n")...))
	unary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(message))
	}))
	t.Cleanup(unary.Close)
	return st.srv.URL, unary.URL
}

// OpenRouter's usage gives the prompt tokens written to the prompt cache as
// prompt_tokens_details.cache_write_tokens (tools that show prompt caching,
// Cline among them, read it). Anthropic reports them; the other providers
// write none.
func TestUsageReportsCacheWrites(t *testing.T) {
	streamURL, unaryURL := claudeUpstreams(t, anthropicCacheStream, anthropicCacheMessage)
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise, models: map[string][]upstreamSpec{
		"test/claude-stream": {{fake: "cs", kind: "anthropic", baseURL: streamURL}},
		"test/claude":        {{fake: "cu", kind: "anthropic", baseURL: unaryURL}},
		"test/openai":        {{fake: "openai", kind: "openai"}},
		"test/gemini":        {{fake: "gemini", kind: "gemini"}},
	}})
	for _, c := range []struct {
		model  string
		stream bool
		write  string
		cached string
		prompt int
	}{
		{"test/claude-stream", true, "300", "800", 1200},
		{"test/claude", false, "300", "800", 1200},
		{"test/openai", false, "0", "0", 10},
		{"test/openai", true, "0", "0", 10},
		{"test/gemini", true, "0", "0", 10},
	} {
		body := `{"model":"` + c.model + `","messages":[{"role":"user","content":"hi"}]` +
			map[bool]string{true: `,"stream":true}`, false: `}`}[c.stream]
		resp, b := h.post(body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c.model, resp.StatusCode, b)
		}
		u := answerUsage(t, b)
		if u.PromptTokens != c.prompt || u.PromptTokensDetails["cached_tokens"].String() != c.cached ||
			u.PromptTokensDetails["cache_write_tokens"].String() != c.write {
			t.Errorf("%s stream %v: prompt %d, details %v; want prompt %d, cached %s, cache_write_tokens %s",
				c.model, c.stream, u.PromptTokens, u.PromptTokensDetails, c.prompt, c.cached, c.write)
		}
	}
	// A price list without a cache-write price bills cache writes as
	// prompt tokens: 400 at NT$10 and 800 cached at NT$5 per million, 500
	// out at NT$20.
	for _, e := range h.completed()[:2] {
		if !e.Cost.Equal(dec("0.018")) || e.Usage.Input != 1200 || e.Usage.Cached != 800 {
			t.Errorf("billed %s for %+v", e.Cost, e.Usage)
		}
	}
}

// A model priced for cache writes (Anthropic charges 1.25 × its input
// price for them) bills the tokens its upstream wrote to the cache at that
// price, unary and streamed, and the answer's cost says so.
func TestCacheWritesBillAtTheirPrice(t *testing.T) {
	streamURL, unaryURL := claudeUpstreams(t, anthropicCacheStream, anthropicCacheMessage)
	price := defaultPrice()
	write := dec("12.5")
	price.CacheWrite = &write
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models: map[string][]upstreamSpec{
			"test/claude-stream": {{fake: "cs", kind: "anthropic", baseURL: streamURL}},
			"test/claude":        {{fake: "cu", kind: "anthropic", baseURL: unaryURL}},
		},
		prices: map[string]domain.ModelPrice{"test/claude-stream": price, "test/claude": price},
	})
	// 100 uncached at NT$10, 800 cached at NT$5, 300 written at NT$12.5
	// and 500 out at NT$20 per million: 0.001 + 0.004 + 0.00375 + 0.01.
	for _, c := range []struct {
		model  string
		stream bool
	}{{"test/claude", false}, {"test/claude-stream", true}} {
		body := `{"model":"` + c.model + `","messages":[{"role":"user","content":"hi"}]` +
			map[bool]string{true: `,"stream":true}`, false: `}`}[c.stream]
		resp, b := h.post(body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c.model, resp.StatusCode, b)
		}
		if u := answerUsage(t, b); u.Cost.String() != "0.01875" {
			t.Errorf("%s: answer's cost %s, want 0.01875", c.model, u.Cost)
		}
	}
	evs := h.completed()
	if len(evs) != 2 {
		t.Fatalf("%d completed events", len(evs))
	}
	for _, e := range evs {
		if !e.Cost.Equal(dec("0.01875")) || e.Usage.CacheWrite != 300 || e.Usage.Cached != 800 || e.Usage.Input != 1200 {
			t.Errorf("%s billed %s for %+v", e.Model, e.Cost, e.Usage)
		}
	}
}

// The models list gives the cache-write price where one is set, per token
// as OpenRouter's input_cache_write and per million beside the others;
// without one, input_cache_write is the input price, which it bills at.
// The one-hour price has no OpenRouter field: it is given per million.
func TestModelsListCacheWritePrice(t *testing.T) {
	price := defaultPrice()
	write, hour := dec("12.5"), dec("25")
	price.CacheWrite, price.CacheWrite1h = &write, &hour
	h := newHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{"test/claude": {{fake: "anthropic", kind: "anthropic"}}, "test/openai": {{fake: "openai", kind: "openai"}}},
		prices: map[string]domain.ModelPrice{"test/claude": price, "test/openai": defaultPrice()},
	})
	resp, err := http.Get(h.http.URL + "/api/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Data []struct {
			ID      string `json:"id"`
			Pricing struct {
				Write      string            `json:"input_cache_write"`
				PerMillion map[string]string `json:"per_million"`
			} `json:"pricing"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	want := map[string][3]string{"test/claude": {"0.0000125", "12.5", "25"}, "test/openai": {"0.00001", "", ""}}
	for _, m := range list.Data {
		w, ok := want[m.ID]
		if !ok {
			continue
		}
		delete(want, m.ID)
		if m.Pricing.Write != w[0] || m.Pricing.PerMillion["cache_write"] != w[1] || m.Pricing.PerMillion["cache_write_1h"] != w[2] {
			t.Errorf("%s: input_cache_write %q, per million %v; want %q, cache_write %q and cache_write_1h %q", m.ID, m.Pricing.Write, m.Pricing.PerMillion, w[0], w[1], w[2])
		}
	}
	if len(want) > 0 {
		t.Errorf("not listed: %v", want)
	}
}

// Anthropic reports how its cache writes split by lifetime; the one-hour
// ones (cache_control ttl "1h") cost 2 × input, the five-minute ones
// 1.25 ×.
const (
	anthropic1hUsage  = `"usage":{"input_tokens":100,"cache_read_input_tokens":800,"cache_creation_input_tokens":300,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200},"output_tokens":500}`
	anthropic1hStream = `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"usage":{"input_tokens":100,"cache_read_input_tokens":800,"cache_creation_input_tokens":300,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200},"output_tokens":1}}}
{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}
{"type":"content_block_stop","index":0}
{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":500}}
{"type":"message_stop"}`
)

// Tokens written to the cache for an hour bill at the one-hour price, on
// the chat API and on the Messages API (whose answers from Claude keep
// Anthropic's cache_creation breakdown), unary and streamed; the usage
// event keeps their count.
func TestOneHourCacheWritesBillAtTheirPrice(t *testing.T) {
	streamURL, unaryURL := claudeUpstreams(t, anthropic1hStream,
		`{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn",`+anthropic1hUsage+`}`)
	price := defaultPrice()
	write, hour := dec("12.5"), dec("20")
	price.CacheWrite, price.CacheWrite1h = &write, &hour
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise,
		models: map[string][]upstreamSpec{
			"test/claude-stream": {{fake: "cs", kind: "anthropic", baseURL: streamURL}},
			"test/claude":        {{fake: "cu", kind: "anthropic", baseURL: unaryURL}},
		},
		prices: map[string]domain.ModelPrice{"test/claude-stream": price, "test/claude": price},
	})
	// 100 uncached at NT$10, 800 cached at NT$5, 100 written for five
	// minutes at NT$12.5, 200 for an hour at NT$20 and 500 out at NT$20
	// per million: 0.001 + 0.004 + 0.00125 + 0.004 + 0.01.
	const want = "0.02025"
	system := `[{"type":"text","text":"a long system prompt","cache_control":{"type":"ephemeral","ttl":"1h"}}]`
	for _, c := range []struct {
		model  string
		stream bool
	}{{"test/claude", false}, {"test/claude-stream", true}} {
		body := `{"model":"` + c.model + `","messages":[{"role":"system","content":` + system + `},{"role":"user","content":"hi"}]` +
			map[bool]string{true: `,"stream":true}`, false: `}`}[c.stream]
		resp, b := h.post(body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c.model, resp.StatusCode, b)
		}
		if u := answerUsage(t, b); u.Cost.String() != want || u.PromptTokensDetails["cache_write_tokens"] != "300" {
			t.Errorf("%s: answer's usage %+v, want cost %s and 300 written", c.model, u, want)
		}
		msg := `{"model":"` + c.model + `","max_tokens":500,"system":` + system + `,"messages":[{"role":"user","content":"hi"}]` +
			map[bool]string{true: `,"stream":true}`, false: `}`}[c.stream]
		resp, b = h.postMessages("", h.key, msg)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s messages: %d %s", c.model, resp.StatusCode, b)
		}
		if !strings.Contains(string(b), `"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200}`) {
			t.Errorf("%s messages: the answer lost cache_creation: %s", c.model, b)
		}
		if !c.stream && !strings.Contains(string(b), `"cost":`+want) {
			t.Errorf("%s messages: the answer's cost is not %s: %s", c.model, want, b)
		}
	}
	evs := h.completed()
	if len(evs) != 4 {
		t.Fatalf("%d completed events", len(evs))
	}
	for _, e := range evs {
		if !e.Cost.Equal(dec(want)) || e.Usage.CacheWrite != 300 || e.Usage.CacheWrite1h != 200 || e.Usage.Cached != 800 || e.Usage.Input != 1200 {
			t.Errorf("%s billed %s for %+v, want %s", e.Model, e.Cost, e.Usage, want)
		}
	}
}
