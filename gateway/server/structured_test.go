package server

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// claudeAnswer returns the answer's text content and finish reason, whole
// or streamed, and that it carries no tool call.
func claudeAnswer(t *testing.T, b []byte, stream bool) (content, finish string) {
	t.Helper()
	if !stream {
		m := decodeMap(t, b)
		c, _ := jpath(m, "choices.0.message.content")
		f, _ := jpath(m, "choices.0.finish_reason")
		if calls, ok := jpath(m, "choices.0.message.tool_calls"); ok && calls != nil {
			t.Fatalf("tool calls in a structured answer: %s", b)
		}
		content, _ = c.(string)
		finish, _ = f.(string)
		return content, finish
	}
	if calls, _ := assembleToolCalls(t, b); len(calls) > 0 {
		t.Fatalf("tool calls in a structured answer: %s", b)
	}
	var text strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "data: {") {
			continue
		}
		var ch map[string]any
		if err := json.Unmarshal([]byte(line[6:]), &ch); err != nil {
			t.Fatalf("bad chunk %q", line)
		}
		if c, ok := jpath(ch, "choices.0.delta.content"); ok {
			s, _ := c.(string)
			text.WriteString(s)
		}
		if f, ok := jpath(ch, "choices.0.finish_reason"); ok && f != nil {
			finish = f.(string)
		}
	}
	return text.String(), finish
}

// Claude Opus 4.5, Sonnet 4.5, Haiku 4.5 and later models constrain their
// answer to a JSON Schema (Anthropic's structured outputs,
// output_config.format), beside the client's own tools and with thinking.
// Anthropic takes a subset of JSON Schema, every object closed with
// additionalProperties false: the schema goes out as Anthropic's SDKs
// send it (objects closed, the keywords it lacks described in words), and
// the answer is the model's text. Earlier models, and schemas that
// recurse, which Anthropic refuses, answer through a forced tool; so does
// json_object, which has no schema: a tool's input is always a JSON object.
func TestClaudeStructuredOutputs(t *testing.T) {
	answer := `{"city":"Taipei","temp":28,"where":{"lat":25.03}}`
	schema := `{"type":"object","title":"Report","properties":{"city":{"type":"string","maxLength":40},"temp":{"type":"number","minimum":-90},` +
		`"where":{"$ref":"#/$defs/Place"}},"required":["city","temp","where"],` +
		`"$defs":{"Place":{"type":"object","properties":{"lat":{"type":"number"}},"required":["lat"]}}}`
	tools := `,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`
	recursive := `{"type":"object","properties":{"root":{"$ref":"#/$defs/Node"}},"$defs":{"Node":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/$defs/Node"}}}}}}`
	for _, c := range []struct {
		name, model, format, extra string
		native                     bool // output_config.format, else a forced tool
	}{
		{"schema with tools", "claude-sonnet-4-5-20250929", `{"type":"json_schema","json_schema":{"name":"report","strict":true,"schema":` + schema + `}}`, tools, true},
		{"schema with reasoning", "claude-opus-4-6", `{"type":"json_schema","json_schema":{"name":"report","schema":` + schema + `}}`, `,"max_tokens":4000,"reasoning":{"effort":"low"}`, true},
		{"schema, earlier model", "claude-sonnet-4-20250514", `{"type":"json_schema","json_schema":{"name":"report","schema":` + schema + `}}`, "", false},
		{"recursive schema", "claude-haiku-4-5", `{"type":"json_schema","json_schema":{"name":"tree","schema":` + recursive + `}}`, "", false},
		{"json_object", "claude-sonnet-4-5", `{"type":"json_object"}`, "", false},
		{"json_object, earlier model", "claude-3-5-haiku-20241022", `{"type":"json_object"}`, "", false},
	} {
		h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/anthropic": {{fake: "anthropic", kind: "anthropic", model: c.model}}},
			scripts: map[string]providertest.Script{"anthropic": {Text: answer, Chunks: 3}}})
		for _, stream := range []bool{false, true} {
			body := `{"model":"test/anthropic","stream":` + strconv.FormatBool(stream) + `,"messages":[{"role":"user","content":"Weather in Taipei as JSON"}],"response_format":` + c.format + c.extra + `}`
			resp, b := h.post(body)
			if resp.StatusCode != 200 {
				t.Fatalf("%s stream %v: %d %s", c.name, stream, resp.StatusCode, b)
			}
			content, finish := claudeAnswer(t, b, stream)
			var got, wanted any
			if json.Unmarshal([]byte(content), &got) != nil || json.Unmarshal([]byte(answer), &wanted) != nil || !jsonEqual(got, wanted) || finish != "stop" {
				t.Errorf("%s stream %v: content %q finish %q", c.name, stream, content, finish)
			}
			m := wire(t, h.fakes["anthropic"].Last())
			if !c.native {
				absent(t, m, "output_config")
				want(t, m, "tool_choice.type", "tool")
				continue
			}
			want(t, m, "output_config.format.type", "json_schema")
			want(t, m, "output_config.format.schema.additionalProperties", "false")
			want(t, m, "output_config.format.schema.$defs.Place.additionalProperties", "false")
			want(t, m, "output_config.format.schema.properties.where.$ref", "#/$defs/Place")
			absent(t, m, "output_config.format.schema.properties.temp.minimum")
			if d, _ := jpath(m, "output_config.format.schema.properties.temp.description"); !strings.Contains(d.(string), `"minimum":-90`) {
				t.Errorf("%s: the bound is not described: %v", c.name, d)
			}
			if tc, ok := jpath(m, "tool_choice.type"); ok && tc != "auto" {
				t.Errorf("%s: tool_choice %v: the client's tools must stay optional", c.name, tc)
			}
			if c.extra == tools {
				want(t, m, "tools.0.name", "get_weather")
			} else {
				want(t, m, "thinking.type", "enabled")
			}
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// A function declared strict (OpenAI's tools[].function.strict) goes to
// Claude Opus 4.5, Sonnet 4.5, Haiku 4.5 and later as Anthropic's strict
// tool use: strict true beside the input schema, rewritten into the JSON
// Schema subset Anthropic compiles (objects closed, bounds in words).
// Earlier models, and functions not declared strict, get the schema as it
// was written.
func TestClaudeStrictTools(t *testing.T) {
	params := `{"type":"object","properties":{"city":{"type":"string","maxLength":40},"days":{"type":"integer","minimum":1}},"required":["city","days"]}`
	tools := `"tools":[{"type":"function","function":{"name":"forecast","strict":true,"parameters":` + params + `}},` +
		`{"type":"function","function":{"name":"loose","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}]`
	for _, c := range []struct {
		model  string
		strict bool
	}{{"claude-sonnet-4-5-20250929", true}, {"claude-opus-4-6", true}, {"claude-sonnet-4-20250514", false}} {
		h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/anthropic": {{fake: "anthropic", kind: "anthropic", model: c.model}}}})
		for _, stream := range []bool{false, true} {
			body := `{"model":"test/anthropic","stream":` + strconv.FormatBool(stream) + `,"messages":[{"role":"user","content":"Weather in Taipei?"}],` + tools + `}`
			resp, b := h.post(body)
			if resp.StatusCode != 200 {
				t.Fatalf("%s stream %v: %d %s", c.model, stream, resp.StatusCode, b)
			}
			m := wire(t, h.fakes["anthropic"].Last())
			absent(t, m, "tools.1.strict")
			want(t, m, "tools.1.input_schema.properties.q.type", "string")
			absent(t, m, "tools.1.input_schema.additionalProperties")
			if !c.strict {
				absent(t, m, "tools.0.strict")
				want(t, m, "tools.0.input_schema.properties.days.minimum", "1")
				continue
			}
			want(t, m, "tools.0.strict", "true")
			want(t, m, "tools.0.input_schema.additionalProperties", "false")
			absent(t, m, "tools.0.input_schema.properties.days.minimum")
			want(t, m, "tools.0.input_schema.properties.city.type", "string")
		}
	}
}
