package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// postResponses sends a Responses request with the harness key.
func (h *harness) postResponses(body string) (*http.Response, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.http.URL+"/api/v1/responses", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

func respHarness(t *testing.T, script providertest.Script, o harnessOpts) *harness {
	t.Helper()
	o.models = map[string][]upstreamSpec{"openai/gpt-4.1": {{fake: "openai", kind: "openai"}}}
	o.scripts = map[string]providertest.Script{"openai": script}
	return newHarness(t, o)
}

// A response object from a plain answer: instructions and a developer
// message reach the upstream as system messages, max_output_tokens as its
// output limit; the answer carries one message with output_text, the
// usage in Responses' terms with the chat answer's cost, and exactly one
// usage event is billed for it.
func TestResponsesUnary(t *testing.T) {
	h := respHarness(t, providertest.Script{Text: "你好，世界", Usage: providertest.Usage{Prompt: 21, Completion: 5, Cached: 8}}, harnessOpts{})
	resp, b := h.postResponses(`{"model":"openai/gpt-4.1","instructions":"Be brief.","max_output_tokens":64,"temperature":0.3,
		"store":false,"user":"u-7","metadata":{"ticket":"42"},"include":["reasoning.encrypted_content"],"truncation":"auto",
		"input":[{"role":"developer","content":"Answer in Chinese."},
			{"type":"message","role":"user","content":[{"type":"input_text","text":"say hello"}]}]}`)
	wantStatus(t, resp, b, 200)
	m := decodeMap(t, b)
	want(t, m, "object", "response")
	want(t, m, "status", "completed")
	want(t, m, "model", "openai/gpt-4.1")
	want(t, m, "output.0.type", "message")
	want(t, m, "output.0.role", "assistant")
	want(t, m, "output.0.status", "completed")
	want(t, m, "output.0.content.0.type", "output_text")
	want(t, m, "output.0.content.0.text", "你好，世界")
	want(t, m, "output.0.content.0.annotations", "[]")
	want(t, m, "usage.input_tokens", "21")
	want(t, m, "usage.input_tokens_details.cached_tokens", "8")
	want(t, m, "usage.output_tokens", "5")
	want(t, m, "usage.output_tokens_details.reasoning_tokens", "0")
	want(t, m, "usage.total_tokens", "26")
	want(t, m, "metadata.ticket", "42")
	want(t, m, "max_output_tokens", "64")
	want(t, m, "store", "false")
	want(t, m, "incomplete_details", "null")
	id, _ := m["id"].(string)
	if !strings.HasPrefix(id, "resp_") || "gen-"+strings.TrimPrefix(id, "resp_") != resp.Header.Get("X-Request-Id") {
		t.Fatalf("id %q, X-Request-Id %q", id, resp.Header.Get("X-Request-Id"))
	}
	if created, _ := m["created_at"].(float64); created <= 0 {
		t.Fatalf("created_at %v", m["created_at"])
	}
	w := wire(t, h.fakes["openai"].Last())
	want(t, w, "messages.0.role", "system")
	want(t, w, "messages.0.content", "Be brief.")
	want(t, w, "messages.1.role", "system")
	want(t, w, "messages.1.content", "Answer in Chinese.")
	want(t, w, "messages.2.role", "user")
	want(t, w, "messages.2.content", "say hello")
	want(t, w, "max_completion_tokens", "64")
	want(t, w, "temperature", "0.3")
	want(t, w, "user", "u-7")
	for _, f := range []string{"input", "instructions", "max_output_tokens", "store", "metadata", "include", "truncation"} {
		absent(t, w, f)
	}
	cost, _ := jpath(m, "usage.cost")
	checkBilled(t, h, "openai/gpt-4.1", 21, 5, cost)
}

// An answer cut by the output limit is incomplete, and says why.
func TestResponsesIncomplete(t *testing.T) {
	h := respHarness(t, providertest.Script{Text: "one two", FinishReason: "length", Usage: providertest.Usage{Prompt: 4, Completion: 2}}, harnessOpts{})
	resp, b := h.postResponses(`{"model":"openai/gpt-4.1","input":"count","max_output_tokens":2}`)
	wantStatus(t, resp, b, 200)
	m := decodeMap(t, b)
	want(t, m, "status", "incomplete")
	want(t, m, "incomplete_details.reason", "max_output_tokens")
	want(t, m, "output.0.status", "incomplete")
	want(t, m, "output.0.content.0.text", "one two")
}

// respEventNames lists a stream's event names and checks that their
// sequence numbers count up from 0.
func respEventNames(t *testing.T, evs []sseEvent) []string {
	t.Helper()
	var out []string
	for i, e := range evs {
		if n, _ := e.data["sequence_number"].(float64); int(n) != i {
			t.Fatalf("event %d (%s) has sequence_number %v", i, e.name, e.data["sequence_number"])
		}
		out = append(out, e.name)
	}
	return out
}

// A stream: the typed events in the order the OpenAI SDKs expect, the text
// in deltas, and response.completed with the usage and the whole output,
// billed once.
func TestResponsesStream(t *testing.T) {
	h := respHarness(t, providertest.Script{Text: "one two three", Chunks: 3, Usage: providertest.Usage{Prompt: 9, Completion: 3}}, harnessOpts{})
	resp, b := h.postResponses(`{"model":"openai/gpt-4.1","stream":true,"input":"count"}`)
	wantStatus(t, resp, b, 200)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	evs := parseEvents(t, b)
	got := strings.Join(respEventNames(t, evs), ",")
	wantNames := "response.created,response.in_progress,response.output_item.added,response.content_part.added," +
		strings.Repeat("response.output_text.delta,", 3) +
		"response.output_text.done,response.content_part.done,response.output_item.done,response.completed"
	if got != wantNames {
		t.Fatalf("events %s\nwant %s", got, wantNames)
	}
	text := ""
	for _, e := range evs {
		if e.name == "response.output_text.delta" {
			text += e.data["delta"].(string)
		}
	}
	want(t, evs[0].data, "response.status", "in_progress")
	want(t, evs[0].data, "response.usage", "null")
	done := evs[len(evs)-4].data
	want(t, done, "text", "one two three")
	last := evs[len(evs)-1].data
	want(t, last, "response.status", "completed")
	want(t, last, "response.output.0.content.0.text", "one two three")
	want(t, last, "response.usage.input_tokens", "9")
	want(t, last, "response.usage.output_tokens", "3")
	if text != "one two three" || evs[0].data["response"].(map[string]any)["id"] != last["response"].(map[string]any)["id"] {
		t.Fatalf("text %q, ids %v / %v", text, evs[0].data["response"], last["response"])
	}
	cost, _ := jpath(last, "response.usage.cost")
	checkBilled(t, h, "openai/gpt-4.1", 9, 3, cost)
}

// A tool round trip: the call comes back as a function_call item (whole,
// or streamed as argument deltas), and the call and its output go back
// as input items, which reach the upstream as chat's tool_calls and tool
// message.
func TestResponsesToolRoundTrip(t *testing.T) {
	tools := `"tools":[{"type":"function","name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],"tool_choice":{"type":"function","name":"get_weather"}`
	for _, stream := range []bool{false, true} {
		name := "unary"
		if stream {
			name = "stream"
		}
		t.Run(name, func(t *testing.T) {
			h := respHarness(t, providertest.Script{ToolCalls: []providertest.ToolCall{{ID: "call_w1", Name: "get_weather", Arguments: `{"city":"Taipei"}`}}}, harnessOpts{})
			s := ""
			if stream {
				s = `"stream":true,`
			}
			resp, b := h.postResponses(`{"model":"openai/gpt-4.1",` + s + tools + `,"input":"Weather in Taipei?"}`)
			wantStatus(t, resp, b, 200)
			var item map[string]any
			if !stream {
				m := decodeMap(t, b)
				if out := m["output"].([]any); len(out) != 1 {
					t.Fatalf("output %v", out)
				}
				item = m["output"].([]any)[0].(map[string]any)
			} else {
				evs := parseEvents(t, b)
				args := ""
				var names []string
				for _, e := range respEventNames(t, evs) {
					if !strings.Contains(e, "output_text") && !strings.Contains(e, "content_part") {
						names = append(names, e)
					}
				}
				for _, e := range evs {
					if e.name == "response.function_call_arguments.delta" {
						args += e.data["delta"].(string)
					}
				}
				if args != `{"city":"Taipei"}` {
					t.Fatalf("argument deltas %q", args)
				}
				want(t, evs[len(evs)-3].data, "arguments", `{"city":"Taipei"}`)
				item = evs[len(evs)-1].data["response"].(map[string]any)["output"].([]any)[0].(map[string]any)
				if !strings.HasPrefix(strings.Join(names, ","), "response.created,response.in_progress,response.output_item.added,response.function_call_arguments.delta") ||
					!strings.HasSuffix(strings.Join(names, ","), "response.function_call_arguments.done,response.output_item.done,response.completed") {
					t.Fatalf("events %v", names)
				}
			}
			want(t, item, "type", "function_call")
			want(t, item, "call_id", "call_w1")
			want(t, item, "name", "get_weather")
			want(t, item, "arguments", `{"city":"Taipei"}`)
			want(t, item, "status", "completed")
			w := wire(t, h.fakes["openai"].Last())
			want(t, w, "tools.0.type", "function")
			want(t, w, "tools.0.function.name", "get_weather")
			want(t, w, "tools.0.function.parameters.required.0", "city")
			want(t, w, "tool_choice.function.name", "get_weather")

			h.fakes["openai"].SetScript(providertest.Script{Text: "It is 28°C."})
			itemJSON, _ := json.Marshal(item)
			resp, b = h.postResponses(`{"model":"openai/gpt-4.1",` + tools + `,"input":[
				{"role":"user","content":"Weather in Taipei?"},
				{"type":"reasoning","id":"rs_1","summary":[]},
				` + string(itemJSON) + `,
				{"type":"function_call_output","call_id":"call_w1","output":"28°C, sunny"}]}`)
			wantStatus(t, resp, b, 200)
			want(t, decodeMap(t, b), "output.0.content.0.text", "It is 28°C.")
			w = wire(t, h.fakes["openai"].Last())
			want(t, w, "messages.1.role", "assistant")
			want(t, w, "messages.1.tool_calls.0.id", "call_w1")
			want(t, w, "messages.1.tool_calls.0.function.name", "get_weather")
			want(t, w, "messages.1.tool_calls.0.function.arguments", `{"city":"Taipei"}`)
			want(t, w, "messages.2.role", "tool")
			want(t, w, "messages.2.tool_call_id", "call_w1")
			want(t, w, "messages.2.content", "28°C, sunny")
			if n := len(h.completed()); n != 2 {
				t.Fatalf("%d request events, want 2", n)
			}
			h.heldIsZero()
		})
	}
}

// What needs a stored response or conversation is refused before any
// upstream is asked, in the gateway's error shape naming the parameter;
// store:true is accepted (nothing is stored, and the answer says so).
func TestResponsesRefusesStoredState(t *testing.T) {
	h := respHarness(t, providertest.Script{Text: "hi"}, harnessOpts{})
	for body, param := range map[string]string{
		`{"model":"openai/gpt-4.1","input":"again","previous_response_id":"resp_123"}`:                 "previous_response_id",
		`{"model":"openai/gpt-4.1","input":"again","conversation":"conv_1"}`:                           "conversation",
		`{"model":"openai/gpt-4.1","input":[{"type":"item_reference","id":"msg_1"}]}`:                  "input.0.type",
		`{"model":"openai/gpt-4.1","input":"x","tools":[{"type":"web_search_preview"}]}`:               "tools.0.type",
		`{"model":"openai/gpt-4.1","input":[{"role":"tool","content":"x"}]}`:                           "input.0.role",
		`{"model":"openai/gpt-4.1","input":"x","max_output_tokens":0}`:                                 "max_output_tokens",
		`{"model":"openai/gpt-4.1","input":"x","max_output_tokens":1000000}`:                           "max_output_tokens",
		`{"model":"openai/gpt-4.1","input":[{"role":"user","content":[{"type":"input_audio"}]}]}`:      "input.0.content.0.type",
		`{"model":"openai/gpt-4.1","input":"x","reasoning":{"effort":"enormous"}}`:                     "reasoning.effort",
		`{"model":"openai/gpt-4.1","input":[{"type":"function_call_output","output":"no call id"}]}`:   "input.0.call_id",
		`{"model":"openai/gpt-4.1","input":"x","tool_choice":{"type":"allowed_tools","tools":[]}}`:     "tool_choice.mode",
		`{"model":"openai/gpt-4.1","input":"x","text":{"format":{"type":"json_schema","name":"out"}}}`: "text.format.schema",
	} {
		resp, b := h.postResponses(body)
		wantStatus(t, resp, b, 400)
		e := decodeError(t, b)
		if e.Error.Code != 400 || e.Error.Metadata["param"] != param || !strings.Contains(e.Error.Message, param) {
			t.Fatalf("%s: %s, want param %s named in the message", body, b, param)
		}
	}
	if n := len(h.fakes["openai"].Received()); n != 0 {
		t.Fatalf("the upstream got %d requests", n)
	}
	if n := len(h.completed()); n != 0 {
		t.Fatalf("%d request events", n)
	}
	resp, b := h.postResponses(`{"model":"openai/gpt-4.1","input":"x","store":true,"previous_response_id":null}`)
	wantStatus(t, resp, b, 200)
	want(t, decodeMap(t, b), "store", "false")
}

// With no credit the request is a 402 in the gateway's error shape before
// any upstream is asked, as for chat.
func TestResponsesNoCredit(t *testing.T) {
	h := respHarness(t, providertest.Script{Text: "hi"}, harnessOpts{credit: "0"})
	for _, stream := range []string{"false", "true"} {
		resp, b := h.postResponses(`{"model":"openai/gpt-4.1","stream":` + stream + `,"input":"hello"}`)
		wantStatus(t, resp, b, 402)
		if e := decodeError(t, b); e.Error.Code != 402 || e.Error.Message == "" {
			t.Fatalf("error %s", b)
		}
	}
	if n := len(h.fakes["openai"].Received()); n != 0 {
		t.Fatalf("the upstream got %d requests", n)
	}
	if n := len(h.completed()); n != 0 {
		t.Fatalf("%d request events", n)
	}
	// An unknown model is the chat endpoint's 400, as OpenRouter answers.
	h2 := respHarness(t, providertest.Script{Text: "hi"}, harnessOpts{})
	resp, b := h2.postResponses(`{"model":"nobody/nothing","input":"hello"}`)
	wantStatus(t, resp, b, 400)
	decodeError(t, b)
}

// The upstream breaking a stream after content went out ends it with
// response.failed and an error event that carries the gateway's error
// object; the delivered part is billed exactly as the same stream on the
// chat endpoint is.
func TestResponsesStreamUpstreamErrorMidway(t *testing.T) {
	script := providertest.Script{Text: "alpha beta gamma delta", Chunks: 4, CutAfter: 2, ErrorEvent: true,
		EventMessage: "The engine is currently overloaded", Usage: providertest.Usage{Prompt: 10, Completion: 400}}
	h := respHarness(t, script, harnessOpts{})
	resp, b := h.postResponses(`{"model":"openai/gpt-4.1","stream":true,"input":"count"}`)
	wantStatus(t, resp, b, 200)
	evs := parseEvents(t, b)
	names := respEventNames(t, evs)
	if len(names) < 2 || names[len(names)-2] != "response.failed" || names[len(names)-1] != "error" || strings.Contains(string(b), "response.completed") {
		t.Fatalf("events %v\n%s", names, b)
	}
	failed, last := evs[len(evs)-2].data, evs[len(evs)-1].data
	want(t, failed, "response.status", "failed")
	want(t, failed, "response.error.code", "server_error")
	want(t, failed, "response.output.0.status", "incomplete")
	want(t, last, "error.code", "502")
	want(t, last, "error.metadata.upstream_message", "The engine is currently overloaded")
	if msg, _ := last["message"].(string); !strings.Contains(msg, "The engine is currently overloaded") || !strings.Contains(msg, "billed for what was delivered") {
		t.Fatalf("message %q", msg)
	}
	viaResponses := h.onlyCompleted(domain.OutcomeUpstreamBrokeMid)
	h.heldIsZero()

	hc := respHarness(t, script, harnessOpts{})
	resp, b = hc.post(`{"model":"openai/gpt-4.1","stream":true,"messages":[{"role":"user","content":"count"}]}`)
	wantStatus(t, resp, b, 200)
	viaChat := hc.onlyCompleted(domain.OutcomeUpstreamBrokeMid)
	if viaResponses.Usage != viaChat.Usage || !viaResponses.Cost.Equal(viaChat.Cost) || viaResponses.FinishReason != viaChat.FinishReason {
		t.Fatalf("billed %+v %s on Responses, %+v %s on chat", viaResponses.Usage, viaResponses.Cost, viaChat.Usage, viaChat.Cost)
	}
}

// A max_output_tokens above the model's limit is refused by the pipeline's
// check, named as the client named it.
func TestResponsesOutputLimitNamed(t *testing.T) {
	h := respHarness(t, providertest.Script{Text: "hi"}, harnessOpts{})
	resp, b := h.postResponses(`{"model":"openai/gpt-4.1","input":"x","max_output_tokens":5000}`)
	wantStatus(t, resp, b, 400)
	e := decodeError(t, b)
	if e.Error.Metadata["param"] != "max_output_tokens" || !strings.HasPrefix(e.Error.Message, "max_output_tokens:") {
		t.Fatalf("error %s", b)
	}
}
