package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// threeTools declares three functions; the requests below allow two.
const threeTools = `"tools":[
	{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
	{"type":"function","function":{"name":"get_time","parameters":{"type":"object"}}},
	{"type":"function","function":{"name":"book_flight","parameters":{"type":"object"}}}]`

func allowedChoice(mode string) string {
	return `"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"` + mode + `","tools":[
		{"type":"function","function":{"name":"get_weather"}},{"type":"function","function":{"name":"get_time"}}]}}`
}

// OpenAI's allowed_tools keeps the whole tools list in the request and
// lets the model call only the listed ones. OpenAI-shaped upstreams get it
// as sent; Claude, which has no such option, is sent only the allowed
// tools with tool_choice auto or any; Gemini gets only the allowed
// declarations with mode AUTO, or all of them with mode ANY and the
// allowed names. Each answers the client as usual, whole and streamed.
func TestAllowedToolsReachEachProvider(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise})
	call := providertest.Script{ToolCalls: []providertest.ToolCall{{Name: "get_weather", Arguments: `{"city":"Taipei"}`}}}
	for _, kind := range kinds {
		h.fakes[kind].SetScript(call)
		for _, mode := range []string{"auto", "required"} {
			for _, stream := range []string{"false", "true"} {
				resp, b := h.post(`{"model":"test/` + kind + `","stream":` + stream + `,` + threeTools + `,` + allowedChoice(mode) +
					`,"parallel_tool_calls":false,"messages":[{"role":"user","content":"Weather in Taipei?"}]}`)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s %s stream %s: %d %s", kind, mode, stream, resp.StatusCode, b)
				}
				if !strings.Contains(string(b), `"get_weather"`) || !strings.Contains(string(b), `"tool_calls"`) {
					t.Fatalf("%s %s stream %s: the answer lacks the tool call: %s", kind, mode, stream, b)
				}
				m := wire(t, h.fakes[kind].Last())
				switch kind {
				case "openai":
					want(t, m, "tool_choice.type", "allowed_tools")
					want(t, m, "tool_choice.allowed_tools.mode", mode)
					want(t, m, "tool_choice.allowed_tools.tools", `[{"function":{"name":"get_weather"},"type":"function"},{"function":{"name":"get_time"},"type":"function"}]`)
					want(t, m, "tools.2.function.name", "book_flight")
					want(t, m, "parallel_tool_calls", "false")
				case "anthropic":
					want(t, m, "tools.0.name", "get_weather")
					want(t, m, "tools.1.name", "get_time")
					absent(t, m, "tools.2")
					want(t, m, "tool_choice.type", map[string]string{"auto": "auto", "required": "any"}[mode])
					want(t, m, "tool_choice.disable_parallel_tool_use", "true")
				case "gemini":
					want(t, m, "tools.0.functionDeclarations.0.name", "get_weather")
					want(t, m, "tools.0.functionDeclarations.1.name", "get_time")
					if mode == "auto" {
						absent(t, m, "tools.0.functionDeclarations.2")
						want(t, m, "toolConfig.functionCallingConfig.mode", "AUTO")
						absent(t, m, "toolConfig.functionCallingConfig.allowedFunctionNames")
					} else {
						want(t, m, "tools.0.functionDeclarations.2.name", "book_flight")
						want(t, m, "toolConfig.functionCallingConfig.mode", "ANY")
						want(t, m, "toolConfig.functionCallingConfig.allowedFunctionNames", `["get_weather","get_time"]`)
					}
				}
			}
		}
	}
	h.heldIsZero()
}

// A malformed allowed_tools, or one naming a tool the request does not
// declare, is a 400 naming the field, before any upstream is asked.
func TestAllowedToolsRefusals(t *testing.T) {
	h := newHarness(t, harnessOpts{plan: domain.PlanEnterprise})
	one := `"tools":[{"type":"function","function":{"name":"get_weather"}}]`
	for choice, param := range map[string]string{
		`{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"get_weather"}},{"type":"function","function":{"name":"delete_all"}}]}}`: "tool_choice.allowed_tools.tools[1].function.name",
		`{"type":"allowed_tools","allowed_tools":{"mode":"none","tools":[{"type":"function","function":{"name":"get_weather"}}]}}`:                                                      "tool_choice.allowed_tools.mode",
		`{"type":"allowed_tools","allowed_tools":{"tools":[{"type":"function","function":{"name":"get_weather"}}]}}`:                                                                    "tool_choice.allowed_tools.mode",
		`{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}`:                                                                                                           "tool_choice.allowed_tools.tools",
		`{"type":"allowed_tools","allowed_tools":{"mode":"required"}}`:                                                                                                                  "tool_choice.allowed_tools.tools",
		`{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":"get_weather"}}`:                                                                                                "tool_choice.allowed_tools.tools",
		`{"type":"allowed_tools"}`: "tool_choice.allowed_tools",
		`{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"custom","custom":{"name":"get_weather"}}]}}`: "tool_choice.allowed_tools.tools[0].type",
		`{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{}}]}}`:                 "tool_choice.allowed_tools.tools[0].function.name",
	} {
		for _, tools := range []string{one, ""} {
			if tools == "" && !strings.Contains(param, "function.name") {
				continue
			}
			body := `{"model":"test/anthropic",` + tools + `,"tool_choice":` + choice + `,"messages":[{"role":"user","content":"hi"}]}`
			body = strings.Replace(body, `,,`, `,`, 1)
			if tools == "" {
				// Without tools, every listed name names no tool.
				param = strings.Replace(param, "tools[1]", "tools[0]", 1)
			}
			resp, b := h.post(body)
			wantStatus(t, resp, b, http.StatusBadRequest)
			e := decodeError(t, b)
			if e.Error.Code != 400 || e.Error.Metadata["param"] != param || !strings.Contains(e.Error.Message, param) {
				t.Fatalf("%s: %s, want param %s named in the message", body, b, param)
			}
		}
	}
	for _, kind := range kinds {
		if n := len(h.fakes[kind].Received()); n != 0 {
			t.Fatalf("%s got %d requests", kind, n)
		}
	}
	h.heldIsZero()
}

// The Responses API's allowed_tools (flat: mode and tools beside type,
// each tool {"type":"function","name":…}) is chat's: an OpenAI-shaped
// upstream gets chat's form, Claude only the allowed tools; the answer
// echoes the client's own tool_choice. One naming an undeclared or
// non-function tool is a 400 naming it.
func TestResponsesAllowedTools(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"openai/gpt-4.1": {{fake: "openai", kind: "openai"}},
		"test/anthropic": {{fake: "anthropic", kind: "anthropic"}},
	}})
	tools := `"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}},{"type":"function","name":"book_flight"}]`
	choice := `"tool_choice":{"type":"allowed_tools","mode":"required","tools":[{"type":"function","name":"get_weather"}]}`
	for _, model := range []string{"openai/gpt-4.1", "test/anthropic"} {
		resp, b := h.postResponses(`{"model":"` + model + `","input":"Weather in Taipei?",` + tools + `,` + choice + `}`)
		wantStatus(t, resp, b, 200)
		m := decodeMap(t, b)
		want(t, m, "status", "completed")
		want(t, m, "tool_choice.type", "allowed_tools")
		want(t, m, "tool_choice.tools.0.name", "get_weather")
	}
	w := wire(t, h.fakes["openai"].Last())
	want(t, w, "tool_choice.type", "allowed_tools")
	want(t, w, "tool_choice.allowed_tools.mode", "required")
	want(t, w, "tool_choice.allowed_tools.tools", `[{"function":{"name":"get_weather"},"type":"function"}]`)
	want(t, w, "tools.1.function.name", "book_flight")
	w = wire(t, h.fakes["anthropic"].Last())
	want(t, w, "tools.0.name", "get_weather")
	absent(t, w, "tools.1")
	want(t, w, "tool_choice.type", "any")

	sent := len(h.fakes["openai"].Received())
	for choice, param := range map[string]string{
		`{"type":"allowed_tools","mode":"auto","tools":[{"type":"function","name":"delete_all"}]}`: "tool_choice.tools.0.name",
		`{"type":"allowed_tools","mode":"auto","tools":[{"type":"function"}]}`:                     "tool_choice.tools.0.name",
		`{"type":"allowed_tools","mode":"auto","tools":[{"type":"mcp","server_label":"wiki"}]}`:    "tool_choice.tools.0.type",
		`{"type":"allowed_tools","mode":"auto","tools":[]}`:                                        "tool_choice.tools",
		`{"type":"allowed_tools","mode":"any","tools":[{"type":"function","name":"get_weather"}]}`: "tool_choice.mode",
	} {
		resp, b := h.postResponses(`{"model":"openai/gpt-4.1","input":"x",` + tools + `,"tool_choice":` + choice + `}`)
		wantStatus(t, resp, b, 400)
		e := decodeError(t, b)
		if e.Error.Code != 400 || e.Error.Metadata["param"] != param || !strings.Contains(e.Error.Message, param) {
			t.Fatalf("%s: %s, want param %s named in the message", choice, b, param)
		}
	}
	if n := len(h.fakes["openai"].Received()); n != sent {
		t.Fatalf("the upstream got %d more requests", n-sent)
	}
}

// Anthropic's Messages API has no allowed_tools: on /messages such a
// tool_choice is refused, naming tool_choice.type, before any call.
func TestMessagesRefusesAllowedTools(t *testing.T) {
	h := msgHarness(t, harnessOpts{})
	resp, b := h.postMessages("", h.key, `{"model":"openai/gpt-4.1","max_tokens":64,
		"tools":[{"name":"get_weather","input_schema":{"type":"object"}}],
		"tool_choice":{"type":"allowed_tools","mode":"auto","tools":[{"type":"function","name":"get_weather"}]},
		"messages":[{"role":"user","content":"hi"}]}`)
	wantStatus(t, resp, b, 400)
	m := decodeMap(t, b)
	want(t, m, "type", "error")
	want(t, m, "error.type", "invalid_request_error")
	if msg, _ := jpath(m, "error.message"); !strings.Contains(msg.(string), "tool_choice.type") {
		t.Fatalf("the refusal does not name tool_choice.type: %s", b)
	}
	if n := len(h.fakes["openai"].Received()); n != 0 {
		t.Fatalf("the upstream got %d requests", n)
	}
}
