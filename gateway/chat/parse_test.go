package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFullRequest(t *testing.T) {
	r, err := Parse(readTestdata(t, "full_request.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Model != "openai/gpt-4.1" || len(r.Messages) != 6 {
		t.Fatalf("model %q, %d messages", r.Model, len(r.Messages))
	}
	if r.Messages[0].Content.String() != "You are terse." || r.Messages[0].Content.IsParts() {
		t.Errorf("system content = %+v", r.Messages[0].Content)
	}
	user := r.Messages[2].Content
	if !user.IsParts() || len(user.Parts) != 5 {
		t.Fatalf("user parts = %+v", user)
	}
	if p := user.Parts[1]; p.ImageURL.URL != "https://example.com/cat.png" || p.ImageURL.Detail != "high" {
		t.Errorf("image part = %+v", p.ImageURL)
	}
	if p := user.Parts[3]; p.File.Filename != "a.pdf" || !strings.HasPrefix(p.File.FileData, "data:application/pdf") {
		t.Errorf("file part = %+v", p.File)
	}
	if p := user.Parts[4]; p.InputAudio.Format != "wav" {
		t.Errorf("audio part = %+v", p.InputAudio)
	}
	asst := r.Messages[3]
	if !asst.Content.IsNull() || len(asst.ToolCalls) != 1 || asst.ToolCalls[0].Function.Arguments != `{"city":"Taipei"}` {
		t.Errorf("assistant = %+v", asst)
	}
	if r.Messages[4].ToolCallID != "call_1" {
		t.Errorf("tool message = %+v", r.Messages[4])
	}
	if r.ToolChoice == nil || r.ToolChoice.Mode != ToolChoiceFunction || r.ToolChoice.Function != "get_weather" {
		t.Errorf("tool_choice = %+v", r.ToolChoice)
	}
	if r.ParallelToolCalls == nil || *r.ParallelToolCalls {
		t.Errorf("parallel_tool_calls = %v", r.ParallelToolCalls)
	}
	if r.ResponseFormat.JSONSchema.Name != "answer" || string(r.ResponseFormat.JSONSchema.Schema) != `{"type": "object"}` {
		t.Errorf("response_format = %+v", r.ResponseFormat.JSONSchema)
	}
	if r.MaxOutputTokens(4096) != 200 || *r.Temperature != 0.5 || *r.TopP != 0.9 || *r.Seed != 42 || *r.N != 1 || r.User != "u-1" {
		t.Errorf("scalars wrong: %+v", r)
	}
	if len(r.Stop) != 2 || r.Stop[1] != "STOP" || !r.Stream || r.IncludeUsage() {
		t.Errorf("stop %v stream %v include_usage %v", r.Stop, r.Stream, r.IncludeUsage())
	}
	for _, k := range []string{"logprobs", "reasoning_effort", "metadata"} {
		if _, ok := r.Extra[k]; !ok {
			t.Errorf("unknown field %q not kept", k)
		}
	}
	for _, k := range []string{"provider", "models", "route", "transforms", "usage"} {
		if _, ok := r.Options[k]; !ok {
			t.Errorf("option %q not kept in Options", k)
		}
		if _, ok := r.Extra[k]; ok {
			t.Errorf("option %q leaked into Extra", k)
		}
	}
}

func TestOpenAIBody(t *testing.T) {
	r, err := Parse(readTestdata(t, "full_request.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.OpenAIBody("gpt-4.1-2025-04-14")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, b)
	}
	if string(got["model"]) != `"gpt-4.1-2025-04-14"` {
		t.Errorf("model = %s", got["model"])
	}
	if string(got["stream_options"]) != `{"include_usage":true}` {
		t.Errorf("stream_options = %s", got["stream_options"])
	}
	for _, k := range []string{"provider", "models", "route", "transforms", "usage"} {
		if _, ok := got[k]; ok {
			t.Errorf("RouteFree option %q sent upstream", k)
		}
	}
	if string(got["reasoning_effort"]) != `"low"` || string(got["metadata"]) != `{"k": "v"}` {
		t.Errorf("unknown fields not passed through: %s", b)
	}
	var orig map[string]json.RawMessage
	_ = json.Unmarshal(readTestdata(t, "full_request.json"), &orig)
	if string(got["messages"]) != string(orig["messages"]) {
		t.Errorf("messages were re-encoded")
	}
}

func TestOpenAIBodyKeepsOtherStreamOptions(t *testing.T) {
	r, err := Parse([]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_obfuscation":false}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.OpenAIBody("x")
	var got struct {
		StreamOptions map[string]bool `json:"stream_options"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !got.StreamOptions["include_usage"] || got.StreamOptions["include_obfuscation"] {
		t.Errorf("stream_options = %v", got.StreamOptions)
	}
}

func TestOpenAIBodyFromTypedRequest(t *testing.T) {
	r := &Request{Model: "a/b", Messages: []Message{{Role: RoleUser, Content: TextContent("hé\n\"q\"")}},
		Extra: map[string]RawJSON{"logprobs": RawJSON("true")}}
	b, err := r.OpenAIBody("b")
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(b)
	if err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if back.Model != "b" || back.Messages[0].Content.String() != "hé\n\"q\"" || string(back.Extra["logprobs"]) != "true" {
		t.Errorf("round trip = %+v (%s)", back, b)
	}
}

func TestParseRejects(t *testing.T) {
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	cases := []struct{ body, param, contains string }{
		{`not json`, "", "not valid JSON"},
		{`[1,2]`, "", "JSON object"},
		{`null`, "", "JSON object"},
		{`{` + msgs + `}`, "model", "required"},
		{`{"model":"","` + msgs[1:] + `}`, "model", "non-empty"},
		{`{"model":7,` + msgs + `}`, "model", "string"},
		{`{"model":"m"}`, "messages", "non-empty"},
		{`{"model":"m","messages":[]}`, "messages", "non-empty"},
		{`{"model":"m","messages":{}}`, "messages", "array"},
		{`{"model":"m","messages":[3]}`, "messages[0]", "object"},
		{`{"model":"m","messages":[{"role":"robot","content":"x"}]}`, "messages[0].role", "robot"},
		{`{"model":"m","messages":[{"content":"x"}]}`, "messages[0].role", "required"},
		{`{"model":"m","messages":[{"role":"user"}]}`, "messages[0].content", "required"},
		{`{"model":"m","messages":[{"role":"user","content":5}]}`, "messages[0]", "content must be"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"video"}]}]}`, "messages[0].content[0].type", "not allowed"},
		{`{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x"}}]}]}`, "messages[0].content[0].type", "not allowed"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}]}`, "messages[0].content[0].image_url.url", "http"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{}}]}]}`, "messages[0].content[0].file", "file_data"},
		{`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c1","function":{"name":""}}]}]}`, "messages[0].tool_calls[0]", "function.name"},
		{`{"model":"m",` + msgs + `,"tools":[{"type":"function","function":{}}]}`, "tools[0].function.name", "required"},
		{`{"model":"m",` + msgs + `,"tool_choice":"always"}`, "tool_choice", "tool_choice must be"},
		{`{"model":"m",` + msgs + `,"response_format":{"type":"xml"}}`, "response_format.type", "json_schema"},
		{`{"model":"m",` + msgs + `,"response_format":{"type":"json_schema"}}`, "response_format.json_schema.name", "required"},
		{`{"model":"m",` + msgs + `,"max_tokens":1.5}`, "max_tokens", "integer"},
		{`{"model":"m",` + msgs + `,"max_tokens":0}`, "max_tokens", "from 1 to"},
		{`{"model":"m",` + msgs + `,"temperature":3}`, "temperature", "between"},
		{`{"model":"m",` + msgs + `,"stop":[1]}`, "stop", "strings"},
		{`{"model":"m",` + msgs + `,"stream":"yes"}`, "stream", "bool"},
		{`{"model":"m",` + msgs + `,"n":0}`, "n", "at least 1"},
		{`{"model":"m",` + msgs + `,"n":129}`, "n", "at most 128"},
		{`{"model":"m",` + msgs + `,"n":1000000}`, "n", "at most 128"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.body))
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: error %v is not a *ValidationError", c.body, err)
			continue
		}
		if ve.Param != c.param || !strings.Contains(ve.Error(), c.contains) {
			t.Errorf("%s:\n got param %q msg %q\nwant param %q containing %q", c.body, ve.Param, ve.Error(), c.param, c.contains)
		}
	}
}

// TestParseTakesUpToMaxChoices: n up to OpenAI's 128 is a request's own.
func TestParseTakesUpToMaxChoices(t *testing.T) {
	for _, n := range []int{1, 2, MaxChoices} {
		r, err := Parse([]byte(fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"hi"}],"n":%d}`, n)))
		if err != nil || r.Choices() != n {
			t.Fatalf("n %d: %v, choices %d", n, err, r.Choices())
		}
	}
	r, _ := Parse([]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	if r.Choices() != 1 {
		t.Fatalf("no n: %d choices, want 1", r.Choices())
	}
}

func TestContentMarshal(t *testing.T) {
	m := Message{Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "c", Type: "function", Function: FunctionCall{Name: "f", Arguments: "{}"}}}}
	b, _ := json.Marshal(m)
	if !strings.Contains(string(b), `"content":null`) {
		t.Errorf("null content: %s", b)
	}
	b, _ = json.Marshal(PartsContent(Part{Type: PartText, Text: "a"}))
	if string(b) != `[{"type":"text","text":"a"}]` {
		t.Errorf("parts: %s", b)
	}
	b, _ = json.Marshal(NewUsageChunk("id", "m", "p", 1, NewUsage(10, 5, 2, 1)))
	want := `{"id":"id","object":"chat.completion.chunk","created":1,"model":"m","provider":"p","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":2,"cache_write_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":1,"image_tokens":0}}}`
	if string(b) != want {
		t.Errorf("usage chunk:\n%s\nwant\n%s", b, want)
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\", "\x00\x1f\n\r\t", "中文 ✓", "\u2028\u2029", "bad\xffutf8", "<&>"} {
		var back string
		if err := json.Unmarshal(AppendString(nil, s), &back); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q: got %q want %q", s, back, wantBack)
		}
	}
}

// Assistant messages sent back with the reasoning their answer carried
// (OpenRouter's SDKs send reasoning and reasoning_details; DeepSeek-style
// clients reasoning_content) reach OpenAI-shaped upstreams without it, and
// tool messages without a name; every other field and message is copied.
func TestOpenAIBodyLeavesOutReasoningSentBack(t *testing.T) {
	r, err := Parse([]byte(`{"model":"m","messages":[{"role":"user","content":"hi","name":"ann"},` +
		`{"role":"assistant","content":"x","reasoning":"r","reasoning_content":"rc","reasoning_details":[{"type":"reasoning.text","text":"r","signature":"s"}],"tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{}"}}]},` +
		`{"role":"tool","tool_call_id":"t1","name":"f","content":"ok"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.OpenAIBody("m")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Messages []map[string]json.RawMessage `json:"messages"`
	}
	if err := json.Unmarshal(b, &got); err != nil || len(got.Messages) != 3 {
		t.Fatalf("%v: %s", err, b)
	}
	for _, k := range []string{"reasoning", "reasoning_content", "reasoning_details"} {
		if _, ok := got.Messages[1][k]; ok {
			t.Errorf("%s sent upstream: %s", k, b)
		}
	}
	if _, ok := got.Messages[2]["name"]; ok {
		t.Errorf("a tool message's name sent upstream: %s", b)
	}
	if string(got.Messages[0]["name"]) != `"ann"` || got.Messages[1]["tool_calls"] == nil || string(got.Messages[1]["content"]) != `"x"` {
		t.Errorf("other fields lost: %s", b)
	}
}

// TestParseNamesWrongTypes: a field of the wrong JSON type is named in the
// request's own terms, with what was sent described by its kind (a number
// as written), never by the text that follows it in the body, which may be
// a long tools array or a prompt.
func TestParseNamesWrongTypes(t *testing.T) {
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	secret := `{"type":"function","function":{"name":"f","description":"a private description"}}`
	cases := []struct{ body, param, want string }{
		{`{"model":"m",` + msgs + `,"tool_choice":5}`, "tool_choice", `tool_choice: tool_choice must be "none", "auto", "required", {"type":"function","function":{"name":...}} or {"type":"allowed_tools","allowed_tools":{...}}`},
		{`{"model":"m",` + msgs + `,"stop":5}`, "stop", "stop: must be a string or an array of strings"},
		{`{"model":"m",` + msgs + `,"tools":[5,` + secret + `]}`, "tools[0]", "tools[0]: must be of type object, got 5"},
		{`{"model":"m",` + msgs + `,"tools":[{"type":"function","function":{"name":true}},` + secret + `]}`, "tools[0].function.name", "tools[0].function.name: must be of type string, got true"},
		{`{"model":"m",` + msgs + `,"tools":[` + secret + `,{"type":"function","function":{"name":["x"]}}]}`, "tools[1].function.name", "tools[1].function.name: must be of type string, got an array"},
		{`{"model":"m",` + msgs + `,"temperature":"hot"}`, "temperature", "temperature: must be of type number, got a string"},
		{`{"model":"m",` + msgs + `,"response_format":{"type":{"a":"b"}}}`, "response_format.type", "response_format.type: must be of type string, got an object"},
		{`{"model":"m",` + msgs + `,"max_tokens":1e30}`, "max_tokens", "max_tokens: must be of type integer, got 1e30"},
		{`{"model":"m",` + msgs + `,"max_tokens":99999999999999999999}`, "max_tokens", "max_tokens: must be an integer from -9223372036854775808 to 9223372036854775807, got 99999999999999999999"},
		{`{"model":"m","messages":[{"role":5,"content":"hi"}]}`, "messages[0].role", "messages[0].role: must be of type string, got a number"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.body))
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: error %v is not a *ValidationError", c.body, err)
			continue
		}
		if ve.Param != c.param || ve.Error() != c.want {
			t.Errorf("%s:\n got param %q msg %q\nwant param %q msg %q", c.body, ve.Param, ve.Error(), c.param, c.want)
		}
		if strings.Contains(ve.Error(), "private") {
			t.Errorf("%s: the error repeats the body: %q", c.body, ve.Error())
		}
	}
}

// TestParseSyntaxErrorsSayWhereNotWhat: a body that is not JSON is refused
// naming the first fault and its byte offset, never the text around it
// (the prompt a control character sits in).
func TestParseSyntaxErrorsSayWhereNotWhat(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\x01my private prompt\"}]}",
			`request body is not valid JSON: invalid character '\x01' in string literal (at byte 52)`},
		{"", "request body is not valid JSON: unexpected end of JSON input"},
		{`{"model":"m","messages":[{"role":"user","content":"my private prompt"}]`, "request body is not valid JSON: unexpected end of JSON input"},
		{`{"model":"m"} {"messages":"my private prompt"}`, "request body is not valid JSON: invalid character '{' after top-level value (at byte 14)"},
	} {
		_, err := Parse([]byte(c.body))
		if err == nil || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.body, err, c.want)
		}
	}
}

// allowed_tools parses to its mode and names, and a request built in code
// with them writes OpenAI's shape again; CallableTools keeps the listed
// tools in the request's order.
func TestAllowedToolsRoundTrip(t *testing.T) {
	r, err := Parse([]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}],
		"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}},{"type":"function","function":{"name":"c"}}],
		"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"c"}},{"type":"function","function":{"name":"a"}}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if tc := r.ToolChoice; tc.Mode != ToolChoiceRequired || strings.Join(tc.Allowed, ",") != "c,a" {
		t.Fatalf("tool choice %+v", tc)
	}
	var names []string
	for _, tl := range r.CallableTools() {
		names = append(names, tl.Function.Name)
	}
	if strings.Join(names, ",") != "a,c" {
		t.Fatalf("callable tools %v, want a,c", names)
	}
	b, err := json.Marshal(r.ToolChoice)
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"c"}},{"type":"function","function":{"name":"a"}}]}}`
	if string(b) != wantJSON {
		t.Fatalf("marshalled %s, want %s", b, wantJSON)
	}
	if r.ToolChoice = nil; len(r.CallableTools()) != 3 {
		t.Fatal("without a tool choice every tool is callable")
	}
}
