package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// wireUpstream answers every call with the given SSE body and keeps
// the request bodies it received.
type wireUpstream struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
}

func newWireUpstream(t *testing.T, sse string) *wireUpstream {
	t.Helper()
	u := &wireUpstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		u.mu.Lock()
		u.bodies = append(u.bodies, m)
		u.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, sse)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *wireUpstream) last() map[string]any {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.bodies) == 0 {
		return nil
	}
	return u.bodies[len(u.bodies)-1]
}

// streamedToolCall is a tool call as an OpenAI SDK assembles it from
// deltas.
type streamedToolCall struct {
	ID, Type, Name, Args string
	names                int
}

// assembleToolCalls joins a stream's tool_calls deltas by index, as the
// OpenAI SDKs do, and returns them with the finish reason.
func assembleToolCalls(t *testing.T, b []byte) ([]*streamedToolCall, string) {
	t.Helper()
	var calls []*streamedToolCall
	finish := ""
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "data: {") {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
					ToolCalls []struct {
						Index    *int   `json:"index"`
						ID       string `json:"id"`
						Type     string `json:"type"`
						Function struct {
							Name      *string `json:"name"`
							Arguments *string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(line[6:]), &c); err != nil {
			t.Fatalf("bad chunk %q", line)
		}
		for _, ch := range c.Choices {
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
			for _, d := range ch.Delta.ToolCalls {
				if d.Index == nil {
					t.Fatalf("tool call delta without index: %s", line)
				}
				for len(calls) <= *d.Index {
					calls = append(calls, &streamedToolCall{})
				}
				tc := calls[*d.Index]
				if d.ID != "" {
					if tc.ID != "" && tc.ID != d.ID {
						t.Fatalf("tool call %d changed id: %s", *d.Index, line)
					}
					tc.ID = d.ID
				}
				if d.Type != "" {
					tc.Type = d.Type
				}
				if d.Function.Name != nil && *d.Function.Name != "" {
					tc.Name += *d.Function.Name
					tc.names++
				}
				if d.Function.Arguments != nil {
					tc.Args += *d.Function.Arguments
				}
			}
		}
	}
	return calls, finish
}

func sseEvents(events ...string) string {
	var b strings.Builder
	for _, e := range events {
		var m struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal([]byte(e), &m)
		if m.Type != "" {
			b.WriteString("event: " + m.Type + "\n")
		}
		b.WriteString("data: " + e + "\n\n")
	}
	return b.String()
}

// Claude answers with text and then three tool calls, the last of a tool
// without arguments, whose only input_json_delta is empty (as Anthropic
// streams a call with input {}).
const anthropicThreeTools = `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"usage":{"input_tokens":50,"output_tokens":1}}}
{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking."}}
{"type":"content_block_stop","index":0}
{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_A","name":"get_weather","input":{}}}
{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}
{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Tai"}}
{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"pei\"}"}}
{"type":"content_block_stop","index":1}
{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_B","name":"get_time","input":{}}}
{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"tz\":"}}
{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":" \"Asia/Taipei\"}"}}
{"type":"content_block_stop","index":2}
{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_C","name":"list_cities","input":{}}}
{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":""}}
{"type":"content_block_stop","index":3}
{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":40}}
{"type":"message_stop"}`

func TestStreamedAnthropicToolCallsAssembleToValidJSON(t *testing.T) {
	b := streamThreeTools(t, "anthropic", anthropicThreeTools)
	calls, finish := assembleToolCalls(t, b)
	checkToolCalls(t, b, calls, finish, []string{"toolu_A", "toolu_B", "toolu_C"},
		[]string{"get_weather", "get_time", "list_cities"}, []string{`{"city":"Taipei"}`, `{"tz":"Asia/Taipei"}`, `{}`})
}

func checkToolCalls(t *testing.T, b []byte, calls []*streamedToolCall, finish string, ids, names, args []string) {
	t.Helper()
	if finish != "tool_calls" {
		t.Errorf("finish_reason %q, want tool_calls", finish)
	}
	if len(calls) != len(names) {
		t.Fatalf("%d tool calls, want %d:\n%s", len(calls), len(names), b)
	}
	seen := map[string]bool{}
	for i, c := range calls {
		if c.ID == "" || seen[c.ID] || (ids != nil && c.ID != ids[i]) {
			t.Errorf("call %d: id %q", i, c.ID)
		}
		seen[c.ID] = true
		if c.Type != "function" {
			t.Errorf("call %d: type %q", i, c.Type)
		}
		if c.Name != names[i] || c.names != 1 {
			t.Errorf("call %d: name %q sent %d times, want %q once", i, c.Name, c.names, names[i])
		}
		var got, want any
		if err := json.Unmarshal([]byte(c.Args), &got); err != nil {
			t.Errorf("call %d (%s): arguments %q are not JSON: %v", i, c.Name, c.Args, err)
			continue
		}
		_ = json.Unmarshal([]byte(args[i]), &want)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("call %d: arguments %s, want %s", i, gb, wb)
		}
	}
}

const geminiTools = `{"candidates":[{"content":{"role":"model","parts":[{"text":"Checking."}]},"index":0}],"usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":2},"responseId":"r1"}
{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Taipei"}}},{"functionCall":{"name":"get_time","args":{"tz":"Asia/Taipei"}}}]},"index":0}],"usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":20},"responseId":"r1"}
{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"list_cities"}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":30,"totalTokenCount":80},"responseId":"r1"}`

func TestStreamedGeminiFunctionCallsAssemble(t *testing.T) {
	b := streamThreeTools(t, "gemini", geminiTools)
	calls, finish := assembleToolCalls(t, b)
	checkToolCalls(t, b, calls, finish, nil,
		[]string{"get_weather", "get_time", "list_cities"}, []string{`{"city":"Taipei"}`, `{"tz":"Asia/Taipei"}`, `{}`})
}

// OpenAI's own tool-calling example sends the tool results back without
// tools: the model is to answer from them. Anthropic refuses tool_use and
// tool_result blocks in a request that defines no tools, so the gateway
// declares the tools the conversation used, and lets the model call none.
func TestToolResultsWithoutToolsReachClaude(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	history := `"messages":[{"role":"user","content":"weather in Taipei and Tainan?"},
	{"role":"assistant","content":null,"tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Taipei\"}"}},
	{"id":"toolu_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tainan\"}"}},
	{"id":"toolu_3","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
	{"role":"tool","tool_call_id":"toolu_1","content":"25C"},{"role":"tool","tool_call_id":"toolu_2","content":"30C"},
	{"role":"tool","tool_call_id":"toolu_3","content":"noon"}]`
	for _, stream := range []string{"", `"stream":true,`} {
		resp, b := h.post(`{"model":"test/anthropic",` + stream + history + `}`)
		if resp.StatusCode != 200 || !strings.Contains(string(b), "Hello from the fake.") {
			t.Fatalf("%s: %d %s", stream, resp.StatusCode, b)
		}
		got := h.fakes["anthropic"].Received()
		m := wire(t, got[len(got)-1])
		want(t, m, "tool_choice.type", "none")
		tools, _ := json.Marshal(m["tools"])
		if string(tools) != `[{"input_schema":{"type":"object"},"name":"get_weather"},{"input_schema":{"type":"object"},"name":"get_time"}]` {
			t.Fatalf("tools declared: %s", tools)
		}
	}
	// A request with tools of its own sends those, and its tool_choice.
	resp, b := h.post(`{"model":"test/anthropic",` + history + `,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("with tools: %d %s", resp.StatusCode, b)
	}
	got := h.fakes["anthropic"].Received()
	m := wire(t, got[len(got)-1])
	absent(t, m, "tool_choice")
	want(t, m, "tools.0.input_schema.properties.city.type", "string")
}

// Tool-call IDs written by other providers (OpenAI-compatible hosts write
// "call_abc.123", Kimi "functions.get_weather:0") break Anthropic's pattern
// ^[a-zA-Z0-9_-]+$, a 400 there. They go to Claude rewritten, each ID the
// same way in its tool_use and its tool_result, and two IDs that differ
// stay different.
func TestForeignToolCallIDsReachClaude(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ids := []string{"call_abc.123", "functions.get_weather:0", "call_abc_123", "toolu_01A-b"}
	var calls, results []string
	for i, id := range ids {
		calls = append(calls, `{"id":"`+id+`","type":"function","function":{"name":"get_weather","arguments":"{\"n\":`+strconv.Itoa(i)+`}"}}`)
		results = append(results, `{"role":"tool","tool_call_id":"`+id+`","content":"result `+strconv.Itoa(i)+`"}`)
	}
	body := `{"model":"test/anthropic","messages":[{"role":"user","content":"weather?"},
		{"role":"assistant","content":null,"tool_calls":[` + strings.Join(calls, ",") + `]},` + strings.Join(results, ",") + `,
		{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc.123","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},
		{"role":"tool","tool_call_id":"call_abc.123","content":"again"}],
		"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}`
	for _, stream := range []bool{false, true} {
		m := sentToClaude(t, h, body, stream)
		seen := map[string]string{} // ID sent → the client's
		for i, id := range ids {
			use, _ := jpath(m, "messages.1.content."+strconv.Itoa(i)+".id")
			res, _ := jpath(m, "messages.2.content."+strconv.Itoa(i)+".tool_use_id")
			if use != res {
				t.Fatalf("%s: tool_use id %v, tool_result tool_use_id %v", id, use, res)
			}
			if other, dup := seen[use.(string)]; dup {
				t.Fatalf("%s and %s both sent as %v", other, id, use)
			}
			seen[use.(string)] = id
			if id == "call_abc_123" || id == "toolu_01A-b" {
				want(t, m, "messages.1.content."+strconv.Itoa(i)+".id", id) // a valid ID goes as it is
			}
		}
		// The same ID later in the conversation is rewritten the same way.
		first, _ := jpath(m, "messages.1.content.0.id")
		want(t, m, "messages.3.content.0.id", first.(string))
		want(t, m, "messages.4.content.0.tool_use_id", first.(string))
	}
}

// A client of OpenAI's API sets no max_tokens and expects the model's whole
// answer; Anthropic requires one. A stream asks Claude for the output cap
// the gateway holds credit for (the model's max_output, else 32,768), at
// most 32,000, which every Claude model since 3.7 takes; not a small
// default that cuts long answers and tool calls short. A non-streamed
// answer arrives whole, within the unary timeout: it gets as much as
// Claude writes in that time at Anthropic's own reckoning (the SDKs refuse
// a non-streamed max_tokens above 128,000 tokens an hour's worth of 10
// minutes, 21,333), within the model's cap; Opus 4 and 4.1, slower, 8,192
// as those SDKs allow them.
func TestClaudeWithoutMaxTokensGetsTheModelsCap(t *testing.T) {
	for _, c := range []struct {
		unary time.Duration // the gateway's unary timeout; 0 the default
		cap   int64
		up    string // the upstream's model name
		body  string
		want  string
	}{
		{0, 64000, "", `{"model":"test/anthropic","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "32000"},
		{0, 8192, "", `{"model":"test/anthropic","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "8192"},
		{0, 64000, "", `{"model":"test/anthropic","stream":true,"max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`, "100"},
		{0, 64000, "", `{"model":"test/anthropic","messages":[{"role":"user","content":"hi"}]}`, "21333"},
		{0, 8192, "", `{"model":"test/anthropic","messages":[{"role":"user","content":"hi"}]}`, "8192"},
		{0, 32000, "claude-opus-4-1-20250805", `{"model":"test/anthropic","messages":[{"role":"user","content":"hi"}]}`, "8192"},
		{0, 64000, "claude-opus-4-5", `{"model":"test/anthropic","messages":[{"role":"user","content":"hi"}]}`, "21333"},
		{3 * time.Minute, 64000, "", `{"model":"test/anthropic","messages":[{"role":"user","content":"hi"}]}`, "6400"},
		{3 * time.Minute, 64000, "", `{"model":"test/anthropic","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "32000"},
		{0, 64000, "claude-3-5-haiku-20241022", `{"model":"test/anthropic","messages":[{"role":"user","content":"hi"}]}`, "4096"},
	} {
		h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
			"test/anthropic": {{fake: "anthropic", kind: "anthropic", model: c.up}},
		}, cfg: Config{UnaryTimeout: c.unary}})
		// The harness's catalog gives every model max_output 4096: raise it.
		m, _ := h.srv.deps.Router.Catalog().Get("test/anthropic")
		m.MaxOutput = c.cap
		resp, b := h.post(c.body)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		got := h.fakes["anthropic"].Received()
		if sent := wire(t, got[len(got)-1]); fmt.Sprint(sent["max_tokens"]) != c.want {
			t.Errorf("unary timeout %s, cap %d, model %q, %s: max_tokens %v, want %s", c.unary, c.cap, c.up, c.body, sent["max_tokens"], c.want)
		}
	}
}

// Chat apps send temperature and top_p together (top_p 1 by default);
// Claude's models since Sonnet 4.5 refuse the two together. The gateway
// keeps temperature, as it ignores other parameters a model does not take.
func TestClaudeTakesTemperatureWithTopP(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for body, sent := range map[string][2]string{
		`{"model":"test/anthropic","temperature":0.7,"top_p":1,"messages":[{"role":"user","content":"hi"}]}`:                 {"0.7", ""},
		`{"model":"test/anthropic","stream":true,"temperature":0.2,"top_p":0.9,"messages":[{"role":"user","content":"hi"}]}`: {"0.2", ""},
		`{"model":"test/anthropic","top_p":0.9,"messages":[{"role":"user","content":"hi"}]}`:                                 {"", "0.9"},
	} {
		resp, b := h.post(body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", body, resp.StatusCode, b)
		}
		got := h.fakes["anthropic"].Received()
		m := wire(t, got[len(got)-1])
		for i, field := range []string{"temperature", "top_p"} {
			if sent[i] == "" {
				absent(t, m, field)
			} else {
				want(t, m, field, sent[i])
			}
		}
	}
}

// streamThreeTools streams a request offering three tools through an
// upstream of kind that answers with events (one per line), and returns
// the client's stream.
func streamThreeTools(t *testing.T, kind, events string) []byte {
	t.Helper()
	up := newWireUpstream(t, sseEvents(strings.Split(events, "\n")...))
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/tools": {{fake: "tools", kind: kind, baseURL: up.srv.URL}}}})
	resp, b := h.post(`{"model":"test/tools","stream":true,"messages":[{"role":"user","content":"weather?"}],
		"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
		{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"tz":{"type":"string"}}}}},
		{"type":"function","function":{"name":"list_cities","parameters":{"type":"object","properties":{}}}}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	return b
}

// Gemini has no switch for parallel function calls. A request with
// parallel_tool_calls false gets one call, the model's first, as OpenAI
// would give it, whole or streamed, with its thought signature; without
// the flag every call comes back.
func TestGeminiParallelToolCallsFalseKeepsTheFirstCall(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{"gemini": {Reasoning: "Two cities.",
		ToolCalls: []providertest.ToolCall{{Name: "get_weather", Arguments: `{"city":"Taipei"}`}, {Name: "get_time", Arguments: `{"tz":"Asia/Taipei"}`}}}}})
	tools := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
		{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"tz":{"type":"string"}}}}}]`
	for _, c := range []struct {
		parallel string
		names    []string
	}{{`"parallel_tool_calls":false,`, []string{"get_weather"}}, {`"parallel_tool_calls":true,`, []string{"get_weather", "get_time"}}, {"", []string{"get_weather", "get_time"}}} {
		for _, stream := range []bool{false, true} {
			body := `{"model":"test/gemini",` + c.parallel + `"stream":` + strconv.FormatBool(stream) + `,"messages":[{"role":"user","content":"weather and time?"}],` + tools + `}`
			resp, b := h.post(body)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", body, resp.StatusCode, b)
			}
			var names, ids []string
			var finish string
			signedFor := ""
			if stream {
				calls, f := assembleToolCalls(t, b)
				for _, tc := range calls {
					names, ids = append(names, tc.Name), append(ids, tc.ID)
				}
				finish = f
				for _, line := range strings.Split(string(b), "\n") {
					if strings.Contains(line, `"reasoning.encrypted"`) {
						var ch map[string]any
						_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ch)
						id, _ := jpath(ch, "choices.0.delta.reasoning_details.0.id")
						signedFor, _ = id.(string)
					}
				}
			} else {
				m := decodeMap(t, b)
				msg, _ := jpath(m, "choices.0.message")
				for i := range msg.(map[string]any)["tool_calls"].([]any) {
					n, _ := jpath(msg, "tool_calls."+strconv.Itoa(i)+".function.name")
					id, _ := jpath(msg, "tool_calls."+strconv.Itoa(i)+".id")
					names, ids = append(names, n.(string)), append(ids, id.(string))
				}
				f, _ := jpath(m, "choices.0.finish_reason")
				finish = f.(string)
				for _, d := range msg.(map[string]any)["reasoning_details"].([]any) {
					if d.(map[string]any)["type"] == "reasoning.encrypted" {
						signedFor, _ = d.(map[string]any)["id"].(string)
					}
				}
			}
			if strings.Join(names, ",") != strings.Join(c.names, ",") || finish != "tool_calls" {
				t.Errorf("%s stream %v: calls %v, finish %q; want %v, tool_calls", c.parallel, stream, names, finish, c.names)
			}
			if len(ids) == 0 || signedFor != ids[0] {
				t.Errorf("%s stream %v: the signature names %q, the first call is %v", c.parallel, stream, signedFor, ids)
			}
		}
	}
}

// Some OpenAI-shaped hosts write tool calls with an empty ID, and their
// clients send the conversation on as it is; Anthropic refuses an empty
// tool_use id. Such a call goes to Claude with an ID made up from its
// place among the conversation's calls without one, and each result
// without an ID answers the earliest of those calls not yet answered: the
// call and its result agree, two calls stay apart, and the same
// conversation (a prefix Claude may have cached) gets the same IDs again.
func TestEmptyToolCallIDsReachClaude(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	call := func(n int) string {
		return `{"id":"","type":"function","function":{"name":"get_weather","arguments":"{\"n\":` + strconv.Itoa(n) + `}"}}`
	}
	body := `{"model":"test/anthropic","messages":[{"role":"user","content":"weather?"},
		{"role":"assistant","content":null,"tool_calls":[` + call(0) + `,` + call(1) + `]},
		{"role":"tool","tool_call_id":"","content":"result 0"},{"role":"tool","tool_call_id":"","content":"result 1"},
		{"role":"assistant","content":null,"tool_calls":[` + call(2) + `]},
		{"role":"tool","tool_call_id":"","content":"result 2"}],
		"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}`
	var first []any
	for _, stream := range []bool{false, true} {
		m := sentToClaude(t, h, body, stream)
		var ids []any
		for _, p := range [][2]string{{"messages.1.content.0.id", "messages.2.content.0.tool_use_id"},
			{"messages.1.content.1.id", "messages.2.content.1.tool_use_id"},
			{"messages.3.content.0.id", "messages.4.content.0.tool_use_id"}} {
			use, _ := jpath(m, p[0])
			res, _ := jpath(m, p[1])
			if s, _ := use.(string); s == "" || use != res {
				t.Fatalf("stream %v: tool_use id %v, tool_result tool_use_id %v", stream, use, res)
			}
			ids = append(ids, use)
		}
		if ids[0] == ids[1] || ids[1] == ids[2] || ids[0] == ids[2] {
			t.Fatalf("stream %v: calls sent with the same ID: %v", stream, ids)
		}
		if first == nil {
			first = ids
		} else if fmt.Sprint(first) != fmt.Sprint(ids) {
			t.Errorf("the same conversation got other IDs: %v, then %v", first, ids)
		}
	}
}

// sentToClaude posts body, unary or streamed, and returns the request the
// Anthropic fake received for it.
func sentToClaude(t *testing.T, h *harness, body string, stream bool) map[string]any {
	t.Helper()
	b := strings.Replace(body, `{"model"`, `{"stream":`+strconv.FormatBool(stream)+`,"model"`, 1)
	resp, out := h.post(b)
	if resp.StatusCode != 200 {
		t.Fatalf("stream %v: %d %s", stream, resp.StatusCode, out)
	}
	got := h.fakes["anthropic"].Received()
	return wire(t, got[len(got)-1])
}

// Some OpenAI-compatible hosts (Mistral's API, SGLang, Gemini's
// OpenAI-compatible endpoint) stream tool calls without the delta's
// "index", which OpenAI's schema requires and by which every SDK joins the
// pieces: without it the OpenAI SDK drops the calls and the AI SDK keeps
// one. The gateway numbers them, as OpenRouter does: a delta with an id
// not seen yet opens the next call, one without continues the current.
func TestStreamedToolCallsWithoutIndexAreNumbered(t *testing.T) {
	chunk := func(delta string) string {
		return `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":` + delta + `,"finish_reason":null}]}`
	}
	end := `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`
	for name, events := range map[string][]string{
		"whole calls, two in one delta": {
			chunk(`{"role":"assistant","tool_calls":[{"id":"a1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Taipei\"}"}},{"id":"a2","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"Asia/Taipei\"}"}}]}`),
			chunk(`{"tool_calls":[{"id":"a3","type":"function","function":{"name":"list_cities","arguments":"{}"}}]}`),
			end},
		"arguments in pieces": {
			chunk(`{"role":"assistant","tool_calls":[{"id":"a1","type":"function","function":{"name":"get_weather","arguments":""}}]}`),
			chunk(`{"tool_calls":[{"function":{"arguments":"{\"city\":"}}]}`),
			chunk(`{"tool_calls":[{"function":{"arguments":"\"Taipei\"}"}}]}`),
			chunk(`{"tool_calls":[{"id":"a2","type":"function","function":{"name":"get_time","arguments":"{\"tz\""}}]}`),
			chunk(`{"tool_calls":[{"function":{"arguments":":\"Asia/Taipei\"}"}}]}`),
			chunk(`{"tool_calls":[{"id":"a3","type":"function","function":{"name":"list_cities","arguments":"{}"}}]}`),
			end},
		"id repeated on every piece": {
			chunk(`{"role":"assistant","tool_calls":[{"id":"a1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}`),
			chunk(`{"tool_calls":[{"id":"a1","function":{"arguments":"\"Taipei\"}"}}]}`),
			chunk(`{"tool_calls":[{"id":"a2","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"Asia/Taipei\"}"}}]}`),
			chunk(`{"tool_calls":[{"id":"a3","type":"function","function":{"name":"list_cities","arguments":"{}"}}]}`),
			end},
	} {
		t.Run(name, func(t *testing.T) {
			b := streamThreeTools(t, "openai", strings.Join(append(events, "[DONE]"), "\n"))
			calls, finish := assembleToolCalls(t, b)
			checkToolCalls(t, b, calls, finish, []string{"a1", "a2", "a3"},
				[]string{"get_weather", "get_time", "list_cities"}, []string{`{"city":"Taipei"}`, `{"tz":"Asia/Taipei"}`, `{}`})
		})
	}
}
