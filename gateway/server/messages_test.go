package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// msgHarness serves an Anthropic model from an Anthropic fake and an OpenAI
// model from an OpenAI fake, so a Messages request goes natively to the
// first and through the translation to the second.
func msgHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	if o.models == nil {
		o.models = map[string][]upstreamSpec{
			"anthropic/claude-sonnet-4.6": {{fake: "anthropic", kind: "anthropic"}},
			"openai/gpt-4.1":              {{fake: "openai", kind: "openai"}},
		}
	}
	return newHarness(t, o)
}

// postMessages sends a Messages request with the key in x-api-key, as the
// Anthropic SDKs do.
func (h *harness) postMessages(path, key, body string) (*http.Response, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.http.URL+"/api/v1/messages"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("anthropic-version", "2023-06-01")
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	return m
}

// sseEvent is one event of a Messages stream.
type sseEvent struct {
	name string
	data map[string]any
}

func parseEvents(t *testing.T, b []byte) []sseEvent {
	t.Helper()
	var out []sseEvent
	var name string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			var d map[string]any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &d); err != nil {
				t.Fatalf("event %s data is not JSON: %s", name, line)
			}
			if d["type"] != name {
				t.Fatalf("event %q carries type %v", name, d["type"])
			}
			out = append(out, sseEvent{name, d})
			name = ""
		case line == "":
		default:
			t.Fatalf("unexpected stream line %q", line)
		}
	}
	return out
}

// names lists the event names without pings.
func names(evs []sseEvent) string {
	var n []string
	for _, e := range evs {
		if e.name != "ping" {
			n = append(n, e.name)
		}
	}
	return strings.Join(n, ",")
}

// checkBilled checks the single request event: usage, a positive cost equal
// to the one the client saw, and no hold left.
func checkBilled(t *testing.T, h *harness, model string, in, out int64, clientCost any) *domain.RequestCompleted {
	t.Helper()
	evs := h.completed()
	if len(evs) != 1 {
		t.Fatalf("%d request.completed events, want 1", len(evs))
	}
	ev := evs[0]
	if ev.Model != model || ev.Usage.Input != in || ev.Usage.Output != out || !ev.Cost.IsPositive() {
		t.Fatalf("event model %s usage %+v cost %s", ev.Model, ev.Usage, ev.Cost)
	}
	if clientCost != nil {
		if f, ok := clientCost.(float64); !ok || f != ev.Cost.InexactFloat64() {
			t.Fatalf("client saw cost %v, event has %s", clientCost, ev.Cost)
		}
	}
	h.heldIsZero()
	return ev
}

func TestMessagesNativeToAnthropic(t *testing.T) {
	h := msgHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"anthropic": {Text: "你好，我是 Claude。", Usage: providertest.Usage{Prompt: 30, Completion: 7, Cached: 20}},
	}})
	// A bare Anthropic name, a system prompt as blocks with cache_control,
	// top_k and a signed thinking block in the history: all reach an
	// Anthropic upstream as the client wrote them.
	body := `{"model":"claude-sonnet-4-6","max_tokens":256,"top_k":5,
		"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
		"messages":[{"role":"user","content":"hi"},
			{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"c2ln"},{"type":"text","text":"Hello"}]},
			{"role":"user","content":[{"type":"text","text":"who are you?"}]}],
		"metadata":{"user_id":"u-1"}}`
	resp, b := h.postMessages("", h.key, body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	m := decodeMap(t, b)
	want(t, m, "type", "message")
	want(t, m, "role", "assistant")
	want(t, m, "model", "anthropic/claude-sonnet-4.6")
	want(t, m, "content.0.type", "text")
	want(t, m, "content.0.text", "你好，我是 Claude。")
	want(t, m, "stop_reason", "end_turn")
	want(t, m, "usage.input_tokens", "10")
	want(t, m, "usage.cache_read_input_tokens", "20")
	want(t, m, "usage.output_tokens", "7")
	id, _ := m["id"].(string)
	if !strings.HasPrefix(id, "msg_") || "gen-"+strings.TrimPrefix(id, "msg_") != resp.Header.Get("X-Request-Id") || resp.Header.Get("Request-Id") == "" {
		t.Fatalf("id %q, X-Request-Id %q", id, resp.Header.Get("X-Request-Id"))
	}
	up := h.fakes["anthropic"].Last()
	w := wire(t, up)
	want(t, w, "model", "up-anthropic")
	want(t, w, "top_k", "5")
	want(t, w, "system.0.cache_control.type", "ephemeral")
	want(t, w, "messages.1.content.0.signature", "c2ln")
	want(t, w, "metadata.user_id", "u-1")
	if up.Header.Get("x-api-key") != "upstream-secret" || up.Header.Get("anthropic-version") != "2023-06-01" {
		t.Fatalf("upstream headers %v", up.Header)
	}
	h.noClientSecret(up)
	usage, _ := jpath(m, "usage.cost")
	checkBilled(t, h, "anthropic/claude-sonnet-4.6", 30, 7, usage)
}

func TestMessagesTranslatedToOpenAI(t *testing.T) {
	h := msgHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "Hi from GPT", FinishReason: "length", Usage: providertest.Usage{Prompt: 12, Completion: 3}},
	}})
	body := `{"model":"openai/gpt-4.1","max_tokens":3,"system":"Be brief.","stop_sequences":["END"],"temperature":0.5,
		"messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]}]}`
	resp, b := h.postMessages("", h.key, body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	m := decodeMap(t, b)
	want(t, m, "content.0.text", "Hi from GPT")
	want(t, m, "stop_reason", "max_tokens")
	want(t, m, "usage.input_tokens", "12")
	want(t, m, "usage.output_tokens", "3")
	w := wire(t, h.fakes["openai"].Last())
	want(t, w, "model", "up-openai")
	want(t, w, "messages.0.role", "system")
	want(t, w, "messages.0.content", "Be brief.")
	want(t, w, "messages.1.content.1.image_url.url", "data:image/png;base64,iVBORw0KGgo=")
	want(t, w, "stop.0", "END")
	want(t, w, "max_completion_tokens", "3") // OpenAI's own API: the name every model takes
	want(t, w, "temperature", "0.5")
	absent(t, w, "system")
	absent(t, w, "stop_sequences")
	usage, _ := jpath(m, "usage.cost")
	checkBilled(t, h, "openai/gpt-4.1", 12, 3, usage)
}

func TestMessagesStreamTranslated(t *testing.T) {
	h := msgHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "one two three", Chunks: 3, Usage: providertest.Usage{Prompt: 9, Completion: 3}},
	}})
	resp, b := h.postMessages("", h.key, `{"model":"openai/gpt-4.1","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"count"}]}`)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	evs := parseEvents(t, b)
	if got := names(evs); got != "message_start,content_block_start,content_block_delta,content_block_delta,content_block_delta,content_block_stop,message_delta,message_stop" {
		t.Fatalf("events %s\n%s", got, b)
	}
	var text strings.Builder
	for _, e := range evs {
		if e.name == "content_block_delta" {
			want(t, e.data, "delta.type", "text_delta")
			want(t, e.data, "index", "0")
			text.WriteString(e.data["delta"].(map[string]any)["text"].(string))
		}
	}
	if text.String() != "one two three" {
		t.Fatalf("text %q", text.String())
	}
	start := evs[0].data
	want(t, start, "message.role", "assistant")
	want(t, start, "message.model", "openai/gpt-4.1")
	if id, _ := jpath(start, "message.id"); !strings.HasPrefix(id.(string), "msg_") {
		t.Fatalf("message id %v", id)
	}
	var delta map[string]any
	for _, e := range evs {
		if e.name == "message_delta" {
			delta = e.data
		}
	}
	want(t, delta, "delta.stop_reason", "end_turn")
	want(t, delta, "usage.input_tokens", "9")
	want(t, delta, "usage.output_tokens", "3")
	cost, _ := jpath(delta, "usage.cost")
	ev := checkBilled(t, h, "openai/gpt-4.1", 9, 3, cost)
	if !ev.Stream {
		t.Fatal("event not marked as a stream")
	}
	// The upstream was asked for its usage, and got no Anthropic field.
	w := wire(t, h.fakes["openai"].Last())
	want(t, w, "stream_options.include_usage", "true")
}

func TestMessagesStreamNativeWithThinking(t *testing.T) {
	h := msgHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"anthropic": {Reasoning: "Let me think.", Text: "42", Chunks: 2, Usage: providertest.Usage{Prompt: 15, Completion: 40}},
	}})
	resp, b := h.postMessages("", h.key, `{"model":"anthropic/claude-sonnet-4.6","max_tokens":4096,"stream":true,
		"thinking":{"type":"enabled","budget_tokens":2048},"messages":[{"role":"user","content":"meaning of life?"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	evs := parseEvents(t, b)
	if got := names(evs); got != "message_start,content_block_start,content_block_delta,content_block_delta,content_block_stop,content_block_start,content_block_delta,content_block_delta,content_block_stop,message_delta,message_stop" {
		t.Fatalf("events %s\n%s", got, b)
	}
	want(t, evs[0].data, "message.model", "anthropic/claude-sonnet-4.6")
	if id, _ := jpath(evs[0].data, "message.id"); "gen-"+strings.TrimPrefix(id.(string), "msg_") != resp.Header.Get("X-Request-Id") {
		t.Fatalf("message id %v", id)
	}
	var thinking, signature string
	for _, e := range evs {
		if e.name != "content_block_delta" {
			continue
		}
		switch d := e.data["delta"].(map[string]any); d["type"] {
		case "thinking_delta":
			thinking += d["thinking"].(string)
		case "signature_delta":
			signature += d["signature"].(string)
		}
	}
	if thinking != "Let me think." || signature != "c2ln" {
		t.Fatalf("thinking %q signature %q", thinking, signature)
	}
	w := wire(t, h.fakes["anthropic"].Last())
	want(t, w, "thinking.type", "enabled")
	want(t, w, "thinking.budget_tokens", "2048")
	want(t, w, "stream", "true")
	checkBilled(t, h, "anthropic/claude-sonnet-4.6", 15, 40, nil)
}

func TestMessagesToolRoundTrip(t *testing.T) {
	for _, tc := range []struct{ model, fake string }{
		{"anthropic/claude-sonnet-4.6", "anthropic"},
		{"openai/gpt-4.1", "openai"},
	} {
		for _, stream := range []bool{false, true} {
			name := tc.fake
			if stream {
				name += "-stream"
			}
			t.Run(name, func(t *testing.T) {
				h := msgHarness(t, harnessOpts{scripts: map[string]providertest.Script{
					tc.fake: {Text: "Checking.", ToolCalls: []providertest.ToolCall{{ID: "toolu_w1", Name: "get_weather", Arguments: `{"city":"Taipei"}`}}},
				}})
				tools := `"tools":[{"name":"get_weather","description":"Weather now","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],"tool_choice":{"type":"auto"}`
				s := ""
				if stream {
					s = `"stream":true,`
				}
				resp, b := h.postMessages("", h.key, `{"model":"`+tc.model+`","max_tokens":100,`+s+tools+`,"messages":[{"role":"user","content":"Weather in Taipei?"}]}`)
				if resp.StatusCode != 200 {
					t.Fatalf("status %d: %s", resp.StatusCode, b)
				}
				var id, name, input, stop, text string
				if !stream {
					m := decodeMap(t, b)
					want(t, m, "content.0.type", "text")
					text = m["content"].([]any)[0].(map[string]any)["text"].(string)
					want(t, m, "content.1.type", "tool_use")
					blk := m["content"].([]any)[1].(map[string]any)
					id, name = blk["id"].(string), blk["name"].(string)
					in, _ := json.Marshal(blk["input"])
					input, stop = string(in), m["stop_reason"].(string)
				} else {
					for _, e := range parseEvents(t, b) {
						switch e.name {
						case "content_block_start":
							if cb := e.data["content_block"].(map[string]any); cb["type"] == "tool_use" {
								id, name = cb["id"].(string), cb["name"].(string)
							}
						case "content_block_delta":
							d := e.data["delta"].(map[string]any)
							if d["type"] == "input_json_delta" {
								input += d["partial_json"].(string)
							} else if d["type"] == "text_delta" {
								text += d["text"].(string)
							}
						case "message_delta":
							stop = e.data["delta"].(map[string]any)["stop_reason"].(string)
						}
					}
				}
				if text != "Checking." || id != "toolu_w1" || name != "get_weather" || input != `{"city":"Taipei"}` || stop != "tool_use" {
					t.Fatalf("text %q tool %q %q %q stop %q\n%s", text, id, name, input, stop, b)
				}
				// The result goes back; the upstream sees it in its own terms.
				h.fakes[tc.fake].SetScript(providertest.Script{Text: "It is 28°C."})
				resp, b = h.postMessages("", h.key, `{"model":"`+tc.model+`","max_tokens":100,`+tools+`,"messages":[
					{"role":"user","content":"Weather in Taipei?"},
					{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_w1","name":"get_weather","input":{"city":"Taipei"}}]},
					{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_w1","content":[{"type":"text","text":"28°C, sunny"}]}]}]}`)
				if resp.StatusCode != 200 {
					t.Fatalf("status %d: %s", resp.StatusCode, b)
				}
				want(t, decodeMap(t, b), "content.0.text", "It is 28°C.")
				w := wire(t, h.fakes[tc.fake].Last())
				if tc.fake == "openai" {
					want(t, w, "messages.1.tool_calls.0.id", "toolu_w1")
					want(t, w, "messages.1.tool_calls.0.function.arguments", `{"city":"Taipei"}`)
					want(t, w, "messages.2.role", "tool")
					want(t, w, "messages.2.tool_call_id", "toolu_w1")
					want(t, w, "messages.2.content", "28°C, sunny")
					want(t, w, "tools.0.function.name", "get_weather")
					want(t, w, "tool_choice", "auto")
				} else {
					want(t, w, "messages.2.content.0.type", "tool_result")
					want(t, w, "messages.2.content.0.tool_use_id", "toolu_w1")
				}
				if n := len(h.completed()); n != 2 {
					t.Fatalf("%d request events, want 2", n)
				}
			})
		}
	}
}

func TestMessagesErrors(t *testing.T) {
	check := func(t *testing.T, resp *http.Response, b []byte, status int, typ string) {
		t.Helper()
		if resp.StatusCode != status {
			t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, b)
		}
		m := decodeMap(t, b)
		want(t, m, "type", "error")
		want(t, m, "error.type", typ)
		if msg, _ := jpath(m, "error.message"); msg == "" || msg == nil {
			t.Fatalf("no message: %s", b)
		}
	}
	ok := `{"model":"openai/gpt-4.1","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`

	t.Run("401", func(t *testing.T) {
		h := msgHarness(t, harnessOpts{})
		resp, b := h.postMessages("", "", ok)
		check(t, resp, b, 401, "authentication_error")
		resp, b = h.postMessages("", "sk-rf-wrong", ok)
		check(t, resp, b, 401, "authentication_error")
		if len(h.fakes["openai"].Received()) != 0 {
			t.Fatal("an upstream was called")
		}
	})
	t.Run("bearer", func(t *testing.T) {
		// Authorization: Bearer works as well as x-api-key.
		h := msgHarness(t, harnessOpts{})
		req, _ := http.NewRequest("POST", h.http.URL+"/api/v1/messages", strings.NewReader(ok))
		req.Header.Set("Authorization", "Bearer "+h.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("402", func(t *testing.T) {
		h := msgHarness(t, harnessOpts{credit: "0"})
		resp, b := h.postMessages("", h.key, ok)
		check(t, resp, b, 402, "billing_error")
		want(t, decodeMap(t, b), "error.metadata.cause", "credits")
		if len(h.fakes["openai"].Received()) != 0 {
			t.Fatal("an upstream was called")
		}
	})
	t.Run("429", func(t *testing.T) {
		h := msgHarness(t, harnessOpts{cfg: Config{Now: frozenClock()}})
		var resp *http.Response
		var b []byte
		for i := 0; i < 11; i++ {
			resp, b = h.postMessages("", h.key, ok)
			if resp.StatusCode != 200 {
				break
			}
		}
		check(t, resp, b, 429, "rate_limit_error")
		if resp.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
	})
	t.Run("unknown model", func(t *testing.T) {
		h := msgHarness(t, harnessOpts{})
		resp, b := h.postMessages("", h.key, `{"model":"claude-nonexistent-9","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`)
		check(t, resp, b, 404, "not_found_error")
	})
	t.Run("invalid", func(t *testing.T) {
		h := msgHarness(t, harnessOpts{})
		for _, body := range []string{
			`{"model":"openai/gpt-4.1","messages":[{"role":"user","content":"hi"}]}`,
			`{"model":"openai/gpt-4.1","max_tokens":10,"messages":[]}`,
			`{"model":"openai/gpt-4.1","max_tokens":10,"messages":[{"role":"system","content":"hi"}]}`,
			`{"model":"openai/gpt-4.1","max_tokens":10,"messages":[{"role":"user","content":[{"type":"video"}]}]}`,
			`{"model":"openai/gpt-4.1","max_tokens":1000,"thinking":{"type":"enabled","budget_tokens":2000},"messages":[{"role":"user","content":"hi"}]}`,
			`not json`,
		} {
			resp, b := h.postMessages("", h.key, body)
			check(t, resp, b, 400, "invalid_request_error")
		}
		if len(h.fakes["openai"].Received()) != 0 {
			t.Fatal("an upstream was called")
		}
	})
	t.Run("upstream error", func(t *testing.T) {
		h := msgHarness(t, harnessOpts{scripts: map[string]providertest.Script{"anthropic": {Status: 503, ErrorMessage: "busy"}}})
		resp, b := h.postMessages("", h.key, `{"model":"anthropic/claude-sonnet-4.6","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`)
		check(t, resp, b, 503, "overloaded_error")
		if len(h.completed()) != 0 {
			t.Fatal("a failed request was billed")
		}
		h.waitHeldZero()
	})
}

func TestMessagesCountTokens(t *testing.T) {
	h := msgHarness(t, harnessOpts{})
	count := func(body string) int {
		t.Helper()
		resp, b := h.postMessages("/count_tokens", h.key, body)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		var r struct {
			InputTokens int `json:"input_tokens"`
		}
		if err := json.Unmarshal(b, &r); err != nil || r.InputTokens <= 0 {
			t.Fatalf("body %s", b)
		}
		return r.InputTokens
	}
	short := count(`{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"hi"}]}`)
	long := count(`{"model":"claude-sonnet-4-6","system":"You are a careful assistant.","messages":[{"role":"user","content":"hi there, how are you doing today?"}]}`)
	withTools := count(`{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"hi"}],"tools":[{"name":"get_weather","description":"Weather now","input_schema":{"type":"object"}}]}`)
	if !(long > short && withTools > short) {
		t.Fatalf("counts short %d long %d tools %d", short, long, withTools)
	}
	resp, b := h.postMessages("/count_tokens", "", `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 401 || !strings.Contains(string(b), "authentication_error") {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	resp, _ = h.postMessages("/count_tokens", h.key, `{"model":"nope/nope","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 404 {
		t.Fatalf("unknown model: status %d", resp.StatusCode)
	}
	// Counting is free: nothing is recorded and no upstream is called.
	if len(h.completed()) != 0 || len(h.fakes["anthropic"].Received()) != 0 {
		t.Fatal("count_tokens billed or called an upstream")
	}
}

func TestMessagesServerToolsNativeOnly(t *testing.T) {
	h := msgHarness(t, harnessOpts{})
	tools := `"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":2}]`
	req, _ := http.NewRequest("POST", h.http.URL+"/api/v1/messages", strings.NewReader(
		`{"model":"claude-sonnet-4-6","max_tokens":50,`+tools+`,"messages":[{"role":"user","content":"news?"}]}`))
	req.Header.Set("x-api-key", h.key)
	req.Header.Set("anthropic-version", "2023-06-01")
	req.Header.Set("anthropic-beta", "interleaved-thinking-2025-05-14")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("native: status %d", resp.StatusCode)
	}
	up := h.fakes["anthropic"].Last()
	want(t, wire(t, up), "tools.0.type", "web_search_20250305")
	if up.Header.Get("anthropic-beta") != "interleaved-thinking-2025-05-14" {
		t.Fatalf("beta header %q", up.Header.Get("anthropic-beta"))
	}
	// A model without an Anthropic upstream cannot run a server tool.
	r2, b := h.postMessages("", h.key, `{"model":"openai/gpt-4.1","max_tokens":50,`+tools+`,"messages":[{"role":"user","content":"news?"}]}`)
	if r2.StatusCode != 400 || !strings.Contains(string(b), "web_search_20250305") {
		t.Fatalf("status %d: %s", r2.StatusCode, b)
	}
}

func TestMessagesThinkingTranslatedToGemini(t *testing.T) {
	h := msgHarness(t, harnessOpts{
		models:  map[string][]upstreamSpec{"google/gemini-2.5-flash": {{fake: "gemini", kind: "gemini"}}},
		scripts: map[string]providertest.Script{"gemini": {Text: "42", Usage: providertest.Usage{Prompt: 8, Completion: 30, Reasoning: 28}}},
	})
	resp, b := h.postMessages("", h.key, `{"model":"google/gemini-2.5-flash","max_tokens":4096,"stop_sequences":["###"],
		"thinking":{"type":"enabled","budget_tokens":2048},"messages":[{"role":"user","content":"meaning of life?"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	m := decodeMap(t, b)
	want(t, m, "content.0.text", "42")
	want(t, m, "usage.output_tokens", "30")
	w := wire(t, h.fakes["gemini"].Last())
	want(t, w, "generationConfig.thinkingConfig.thinkingBudget", "2048")
	want(t, w, "generationConfig.maxOutputTokens", "4096")
	want(t, w, "generationConfig.stopSequences.0", "###")
	ev := checkBilled(t, h, "google/gemini-2.5-flash", 8, 30, nil)
	if ev.Usage.Reasoning != 28 {
		t.Fatalf("reasoning tokens %d", ev.Usage.Reasoning)
	}
}

func TestMessagesModelNames(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]string{
		"claude-sonnet-4-6":          "anthropic/claude-sonnet-4.6",
		"claude-sonnet-4.6":          "anthropic/claude-sonnet-4.6",
		"claude-sonnet-4-5-20250929": "anthropic/claude-sonnet-4.5",
		"claude-haiku-4-5":           "anthropic/claude-haiku-4.5",
		"claude-opus-4-5-latest":     "anthropic/claude-opus-4.5",
		"anthropic/claude-opus-4.5":  "anthropic/claude-opus-4.5",
		"openai/gpt-4.1":             "openai/gpt-4.1",
		"claude-3-opus-20240229":     "claude-3-opus-20240229", // no entry: left for the 404
	} {
		if got := catalogModel(cat, name); got != id {
			t.Errorf("%s → %s, want %s", name, got, id)
		}
	}
}

func TestMessagesStreamCutMidway(t *testing.T) {
	h := msgHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "one two three four", Chunks: 4, CutAfter: 2},
	}})
	resp, b := h.postMessages("", h.key, `{"model":"openai/gpt-4.1","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"count"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	evs := parseEvents(t, b)
	last := evs[len(evs)-1]
	if last.name != "error" || strings.Contains(names(evs), "message_stop") {
		t.Fatalf("events %s\n%s", names(evs), b)
	}
	want(t, last.data, "error.type", "api_error")
	// What was delivered is billed, counted by the gateway.
	evs2 := h.completed()
	if len(evs2) != 1 || evs2[0].Outcome != domain.OutcomeUpstreamBrokeMid || evs2[0].Usage.Output <= 0 || !evs2[0].Usage.Estimated {
		t.Fatalf("events %+v", evs2)
	}
	h.heldIsZero()
}

// Reasoning text from a translated upstream (DeepSeek-style
// reasoning_content) reaches an Anthropic client as a thinking block, first
// in the answer and first in the stream, before the text.
func TestMessagesTranslatedThinking(t *testing.T) {
	h := msgHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "the answer", Chunks: 2, Reasoning: "weighing it up", Usage: providertest.Usage{Prompt: 9, Completion: 8, Reasoning: 4}},
	}})
	resp, b := h.postMessages("", h.key, `{"model":"openai/gpt-4.1","max_tokens":50,"messages":[{"role":"user","content":"think"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	m := decodeMap(t, b)
	want(t, m, "content.0.type", "thinking")
	want(t, m, "content.0.thinking", "weighing it up")
	want(t, m, "content.1.type", "text")
	want(t, m, "content.1.text", "the answer")

	resp, b = h.postMessages("", h.key, `{"model":"openai/gpt-4.1","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"think"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("stream status %d: %s", resp.StatusCode, b)
	}
	var thinking, text strings.Builder
	first := ""
	for _, e := range parseEvents(t, b) {
		if e.name != "content_block_delta" {
			continue
		}
		d := e.data["delta"].(map[string]any)
		if first == "" {
			first = d["type"].(string)
		}
		switch d["type"] {
		case "thinking_delta":
			thinking.WriteString(d["thinking"].(string))
		case "text_delta":
			text.WriteString(d["text"].(string))
		}
	}
	if first != "thinking_delta" || thinking.String() != "weighing it up" || text.String() != "the answer" {
		t.Fatalf("stream: first delta %q, thinking %q, text %q\n%s", first, thinking.String(), text.String(), b)
	}
}

// A count whose client has left stops rather than running to its end:
// nobody is waiting for it.
func TestCountTokensStopsWhenTheClientLeaves(t *testing.T) {
	h := msgHarness(t, harnessOpts{})
	body := `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"` + strings.Repeat("台北天氣晴 ", 50000) + `"}]}`
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, "POST", "/api/v1/messages/count_tokens", strings.NewReader(body))
	req.Header.Set("x-api-key", h.key)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	if strings.Contains(rec.Body.String(), "input_tokens") {
		t.Fatalf("counted for a client that had left: %d %s", rec.Code, rec.Body)
	}
	// The same body with its client still there is counted.
	resp, b := h.postMessages("/count_tokens", h.key, body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "input_tokens") {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
}

// An OpenAI-shaped host that reports prompt-cache writes (OpenRouter's
// cache_write_tokens) has them reported as Anthropic does: in
// cache_creation_input_tokens, outside input_tokens, in a whole answer and
// in a stream's message_delta.
func TestMessagesTranslatedCacheUsage(t *testing.T) {
	usage := providertest.Usage{Prompt: 100, Cached: 20, CacheWrite: 30, Completion: 5}
	for _, stream := range []bool{false, true} {
		h := msgHarness(t, harnessOpts{scripts: map[string]providertest.Script{
			"openai": {Text: "cached", Usage: usage},
		}})
		body := `{"model":"openai/gpt-4.1","max_tokens":50,"stream":` + map[bool]string{false: "false", true: "true"}[stream] +
			`,"system":[{"type":"text","text":"a long prompt","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}]}`
		resp, b := h.postMessages("", h.key, body)
		if resp.StatusCode != 200 {
			t.Fatalf("stream %v: status %d: %s", stream, resp.StatusCode, b)
		}
		var u map[string]any
		if !stream {
			u = decodeMap(t, b)
		} else {
			for _, e := range parseEvents(t, b) {
				if e.name == "message_delta" {
					u = e.data
				}
			}
			if u == nil {
				t.Fatalf("no message_delta: %s", b)
			}
		}
		want(t, u, "usage.input_tokens", "50")
		want(t, u, "usage.cache_read_input_tokens", "20")
		want(t, u, "usage.cache_creation_input_tokens", "30")
		want(t, u, "usage.output_tokens", "5")
		ev := checkBilled(t, h, "openai/gpt-4.1", 100, 5, nil)
		if ev.Usage.Cached != 20 {
			t.Fatalf("stream %v: event cached %d, want 20", stream, ev.Usage.Cached)
		}
	}
}

// A Messages client's structured output (output_config.format, a JSON
// Schema the answer must follow) reaches a model served by an OpenAI-shaped
// upstream as response_format json_schema, strict when the schema meets
// OpenAI's strict rules (every object closed, every property required),
// and a Gemini model as its response schema; the answer is the JSON text.
func TestMessagesStructuredOutputToTranslatedUpstreams(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	closed := `{"type":"object","properties":{"city":{"type":"string"},"temp":{"type":"number"}},"required":["city","temp"],"additionalProperties":false}`
	open := `{"type":"object","properties":{"city":{"type":"string"},"temp":{"type":"number"}},"required":["city"],"additionalProperties":false}`
	for _, c := range []struct {
		model, schema, strict string
	}{{"test/openai", closed, "true"}, {"test/openai", open, "false"}, {"test/gemini", closed, ""}} {
		for _, stream := range []bool{false, true} {
			body := `{"model":"` + c.model + `","max_tokens":200,"stream":` + strconv.FormatBool(stream) +
				`,"messages":[{"role":"user","content":"Weather in Taipei as JSON"}],"output_config":{"format":{"type":"json_schema","schema":` + c.schema + `}}}`
			resp, b := h.postMessages("", h.key, body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", c.model, resp.StatusCode, b)
			}
			m := wire(t, h.fakes[strings.TrimPrefix(c.model, "test/")].Last())
			if c.model == "test/gemini" {
				want(t, m, "generationConfig.responseMimeType", "application/json")
				want(t, m, "generationConfig.responseSchema.required", `["city","temp"]`)
				continue
			}
			want(t, m, "response_format.type", "json_schema")
			want(t, m, "response_format.json_schema.schema.properties.city.type", "string")
			want(t, m, "response_format.json_schema.strict", c.strict)
		}
	}
}

// A Messages client's strict tool (Anthropic's strict tool use, "strict":
// true beside the input schema) reaches an OpenAI-shaped upstream as
// function.strict when its schema keeps OpenAI's strict rules (every object
// closed, every property required; OpenAI refuses a strict schema that
// does not), a Gemini upstream as a plain function declaration (Gemini has
// no per-function strict), and a Claude upstream exactly as sent.
func TestMessagesStrictTools(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	closed := `{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city","days"],"additionalProperties":false}`
	optional := `{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"],"additionalProperties":false}`
	loose := `{"name":"loose","input_schema":{"type":"object","properties":{"q":{"type":"string"}}}}`
	for _, c := range []struct {
		model, schema string
		strict        bool // function.strict expected on an OpenAI-shaped upstream
	}{
		{"test/openai", closed, true}, {"test/openai", optional, false},
		{"test/gemini", closed, false}, {"test/anthropic", closed, false}, {"test/anthropic", optional, false},
	} {
		for _, stream := range []bool{false, true} {
			body := `{"model":"` + c.model + `","max_tokens":200,"stream":` + strconv.FormatBool(stream) +
				`,"messages":[{"role":"user","content":"Weather in Taipei?"}],"tools":[{"name":"forecast","strict":true,"input_schema":` + c.schema + `},` + loose + `]}`
			resp, b := h.postMessages("", h.key, body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s stream %v: %d %s", c.model, stream, resp.StatusCode, b)
			}
			m := wire(t, h.fakes[strings.TrimPrefix(c.model, "test/")].Last())
			switch c.model {
			case "test/openai":
				want(t, m, "tools.0.function.name", "forecast")
				want(t, m, "tools.0.function.parameters.required", mustCompact(t, c.schema, "required"))
				if c.strict {
					want(t, m, "tools.0.function.strict", "true")
				} else {
					absent(t, m, "tools.0.function.strict")
				}
				absent(t, m, "tools.1.function.strict")
			case "test/gemini":
				want(t, m, "tools.0.functionDeclarations.0.name", "forecast")
				absent(t, m, "tools.0.functionDeclarations.0.strict")
				absent(t, m, "tools.0.functionDeclarations.0.parameters.additionalProperties")
			case "test/anthropic":
				// The native relay: the client's own tools, strict and schema as sent.
				want(t, m, "tools.0.strict", "true")
				want(t, m, "tools.0.input_schema.required", mustCompact(t, c.schema, "required"))
				want(t, m, "tools.0.input_schema.additionalProperties", "false")
				absent(t, m, "tools.1.strict")
				absent(t, m, "tools.1.input_schema.additionalProperties")
			}
		}
	}
}

// mustCompact returns a member of a JSON object as compact JSON.
func mustCompact(t *testing.T, obj, key string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(obj), &m); err != nil {
		t.Fatal(err)
	}
	return string(m[key])
}

// Anthropic's search_result block names its source as a string (a URL or
// an identifier), where image and document blocks take a source object: a
// request carrying one, in a user turn or in a tool's result, was refused
// with a 400 for a Claude model, whose API takes it.
func TestSearchResultBlocksReachClaude(t *testing.T) {
	h := msgHarness(t, harnessOpts{})
	result := `{"type":"search_result","source":"https://example.com/tw-tax","title":"營業稅","content":[{"type":"text","text":"5 %"}],"citations":{"enabled":true}}`
	for name, content := range map[string]string{
		"user turn":   `[` + result + `,{"type":"text","text":"What is the rate?"}]`,
		"tool result": `[{"type":"tool_result","tool_use_id":"toolu_1","content":[` + result + `]}]`,
	} {
		body := `{"model":"claude-sonnet-4-6","max_tokens":50,"tools":[{"name":"search","input_schema":{"type":"object"}}],"messages":[`
		if name == "tool result" {
			body += `{"role":"user","content":"rate?"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"search","input":{"q":"tax"}}]},`
		}
		body += `{"role":"user","content":` + content + `}]}`
		resp, b := h.postMessages("", h.key, body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d: %s", name, resp.StatusCode, b)
		}
		up := wire(t, h.fakes["anthropic"].Last())
		last := len(up["messages"].([]any)) - 1
		if !strings.Contains(fmt.Sprint(up["messages"].([]any)[last]), "https://example.com/tw-tax") {
			t.Fatalf("%s: the block did not reach Claude: %v", name, up["messages"])
		}
	}
	// A model without an Anthropic upstream is told the block type, as
	// for any block its upstreams cannot take, not that the content is
	// malformed.
	resp, b := h.postMessages("", h.key, `{"model":"openai/gpt-4.1","max_tokens":50,"messages":[{"role":"user","content":[`+result+`]}]}`)
	if resp.StatusCode != 400 || !strings.Contains(string(b), `search_result`) {
		t.Fatalf("translated: status %d: %s", resp.StatusCode, b)
	}
	// An image's source named as a string is still refused, saying why.
	resp, b = h.postMessages("", h.key, `{"model":"claude-sonnet-4-6","max_tokens":50,"messages":[{"role":"user","content":[{"type":"image","source":"https://example.com/a.png"}]}]}`)
	if resp.StatusCode != 400 || !strings.Contains(string(b), `must be an object`) {
		t.Fatalf("image with a string source: status %d: %s", resp.StatusCode, b)
	}
}

// count_tokens refuses a server tool for a model whose upstreams cannot run
// one, with /messages' own 400: it counted such a body.
func TestCountTokensRefusesServerToolsMessagesRefuses(t *testing.T) {
	h := msgHarness(t, harnessOpts{})
	body := `{"model":"openai/gpt-4.1","max_tokens":50,"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":2}],"messages":[{"role":"user","content":"news?"}]}`
	msgResp, msgBody := h.postMessages("", h.key, body)
	countResp, countBody := h.postMessages("/count_tokens", h.key, body)
	if msgResp.StatusCode != 400 || countResp.StatusCode != 400 || string(countBody) != string(msgBody) {
		t.Fatalf("/messages %d %s; count_tokens %d %s", msgResp.StatusCode, msgBody, countResp.StatusCode, countBody)
	}
	// A Claude model counts it.
	if resp, b := h.postMessages("/count_tokens", h.key, strings.Replace(body, "openai/gpt-4.1", "claude-sonnet-4-6", 1)); resp.StatusCode != 200 {
		t.Fatalf("Claude: %d %s", resp.StatusCode, b)
	}
}
