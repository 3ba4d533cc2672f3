package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

func TestAutoFailPrompt(t *testing.T) {
	s := scriptFor([]byte(`{"stream":true,"messages":[{"role":"user","content":"`+FailPrompt+`"}]}`), providertest.Script{Text: "plain"})
	if s.CutAfter == 0 || !s.ErrorEvent || s.EventCode != "503" {
		t.Fatalf("script %+v, want an error event after some content", s)
	}
	if s := scriptFor([]byte(`{"messages":[{"role":"user","content":[{"type":"text","text":"`+FailPrompt+`"}]}]}`), providertest.Script{}); !s.ErrorEvent {
		t.Fatalf("script %+v for the prompt in a text part", s)
	}
	if s := scriptFor([]byte(`{"messages":[{"role":"user","content":"hi"}]}`), providertest.Script{Text: "plain"}); s.CutAfter != 0 || s.ErrorEvent {
		t.Fatalf("script %+v for a plain request", s)
	}
}

func TestAutoScript(t *testing.T) {
	base := providertest.Script{Text: "plain"}
	weather := `{"type":"function","function":{"name":"weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"},"unit":{"type":"string","enum":["c","f"]}},"required":["city"]}}}`
	cases := []struct {
		name, body     string
		wantText, tool string
		wantArgs       map[string]any
	}{
		{"plain", `{"messages":[{"role":"user","content":"hi"}]}`, "plain", "", nil},
		{"tools", `{"messages":[{"role":"user","content":"hi"}],"tools":[` + weather + `]}`, "", "weather",
			map[string]any{"city": "Taipei", "days": 1.0, "unit": "c"}},
		{"forced second tool", `{"messages":[{"role":"user","content":"hi"}],"tools":[` + weather + `,{"type":"function","function":{"name":"extract","parameters":{"type":"object","properties":{"ok":{"type":["boolean","null"]}}}}}],"tool_choice":{"type":"function","function":{"name":"extract"}}}`,
			"", "extract", map[string]any{"ok": true}},
		{"tool result back", `{"messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"c","content":"sunny"}],"tools":[` + weather + `]}`, "plain", "", nil},
		{"tool_choice none", `{"messages":[{"role":"user","content":"hi"}],"tools":[` + weather + `],"tool_choice":"none"}`, "plain", "", nil},
		{"json schema", `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string"}},"n":{"anyOf":[{"type":"number"},{"type":"null"}]}}}}}}`,
			`{"n":22.5,"tags":["Taipei"]}`, "", nil},
	}
	for _, c := range cases {
		s := scriptFor([]byte(c.body), base)
		if s.Text != c.wantText {
			t.Errorf("%s: text %q, want %q", c.name, s.Text, c.wantText)
		}
		if c.tool == "" {
			if len(s.ToolCalls) != 0 {
				t.Errorf("%s: tool calls %v", c.name, s.ToolCalls)
			}
			continue
		}
		if len(s.ToolCalls) != 1 || s.ToolCalls[0].Name != c.tool {
			t.Fatalf("%s: tool calls %v, want one call of %s", c.name, s.ToolCalls, c.tool)
		}
		var args map[string]any
		if err := json.Unmarshal([]byte(s.ToolCalls[0].Arguments), &args); err != nil {
			t.Fatal(err)
		}
		for k, v := range c.wantArgs {
			if args[k] != v {
				t.Errorf("%s: args %v, want %s = %v", c.name, args, k, v)
			}
		}
	}
}

func TestAutoRejectsNamedToolMessages(t *testing.T) {
	for body, want := range map[string]int{
		`{"messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"c","content":"x","name":"get_weather"}]}`: 1,
		`{"messages":[{"role":"user","content":"hi","name":"alice"},{"role":"tool","tool_call_id":"c","content":"x"}]}`:       -1,
	} {
		if got := namedToolMessage([]byte(body)); got != want {
			t.Errorf("%s: %d, want %d", body, got, want)
		}
	}
}

func TestAutoScriptAnthropic(t *testing.T) {
	base := providertest.Script{Text: "plain"}
	weather := `"tools":[{"name":"weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]`
	cases := []struct {
		name, body string
		text, tool string
		thinks     bool
	}{
		{"plain", `{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}`, "plain", "", false},
		{"tools, the prompt a string", `{"messages":[{"role":"user","content":"hi"}],` + weather + `}`, "", "weather", false},
		{"tools, thinking", `{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],` + weather + `,"thinking":{"type":"enabled","budget_tokens":1024}}`, "", "weather", true},
		{"tool result back", `{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"weather","input":{}}]},` +
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"sunny"}]}],` + weather + `}`, "plain", "", false},
		{"structured output", `{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],` +
			`"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"city":{"type":"string"}},"additionalProperties":false}}}}`, `{"city":"Taipei"}`, "", false},
	}
	for _, c := range cases {
		s := anthropicScriptFor([]byte(c.body), base)
		if s.Text != c.text || (s.Reasoning != "") != c.thinks {
			t.Errorf("%s: text %q, reasoning %q", c.name, s.Text, s.Reasoning)
		}
		if got := len(s.ToolCalls) == 1 && s.ToolCalls[0].Name == c.tool && s.ToolCalls[0].Arguments == `{"city":"Taipei"}`; got != (c.tool != "") {
			t.Errorf("%s: tool calls %v", c.name, s.ToolCalls)
		}
	}
}

// The moderation trigger is answered with OpenRouter's 403, whose
// metadata names the reasons and quotes the input.
func TestAutoFlagPrompt(t *testing.T) {
	s := scriptFor([]byte(`{"messages":[{"role":"user","content":"`+FlagPrompt+`"}]}`), providertest.Script{Text: "plain"})
	var e struct {
		Error struct {
			Code     int `json:"code"`
			Metadata struct {
				Reasons      []string `json:"reasons"`
				FlaggedInput string   `json:"flagged_input"`
			} `json:"metadata"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(s.ErrorBody), &e); err != nil || s.Status != http.StatusForbidden || e.Error.Code != 403 ||
		len(e.Error.Metadata.Reasons) != 1 || e.Error.Metadata.FlaggedInput != FlagPrompt {
		t.Fatalf("script %+v (%v)", s, err)
	}
}

// The error-chunk trigger streams part of the reply, then one chunk with
// finish_reason "error", its error and usage, and nothing after it.
func TestAutoErrorChunkPrompt(t *testing.T) {
	a := autoFake{kind: providertest.KindOpenAI, base: providertest.Script{Text: "one two three four", Usage: providertest.Usage{Prompt: 10}}}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions",
		strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"`+ErrorChunkPrompt+`"}]}`)))
	events := strings.Split(strings.TrimSpace(rec.Body.String()), "\n\n")
	var text string
	for _, ev := range events[:len(events)-1] {
		var c struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(ev, "data: ")), &c); err != nil {
			t.Fatal(err)
		}
		text += c.Choices[0].Delta.Content
	}
	var last struct {
		Choices []struct {
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Usage struct {
			Completion int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(events[len(events)-1], "data: ")), &last); err != nil {
		t.Fatal(err)
	}
	if text != "one two " || last.Choices[0].FinishReason != "error" || last.Error.Code != 502 || last.Error.Message != ErrorChunkMessage || last.Usage.Completion != 2 {
		t.Fatalf("delivered %q, then %s", text, events[len(events)-1])
	}
}
