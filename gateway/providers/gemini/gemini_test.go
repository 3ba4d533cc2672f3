package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/internal/core"
	pt "github.com/routefree/routefree/gateway/providers/providertest"
)

func upstream(srv *pt.Server) core.Upstream {
	return core.Upstream{Provider: "google", Kind: core.KindGemini, BaseURL: srv.BaseURL, Model: "gemini-2.5-flash", APIKey: "AIza-up"}
}

func send(t *testing.T, srv *pt.Server, body string) (*core.Result, request) {
	t.Helper()
	res, err := Adapter{}.Send(context.Background(), nil, upstream(srv), pt.Parse(t, body))
	if err != nil {
		t.Fatal(err)
	}
	var sent request
	if err := json.Unmarshal(srv.Last().Body, &sent); err != nil {
		t.Fatal(err)
	}
	return res, sent
}

func TestTextAndRequestTranslation(t *testing.T) {
	srv := pt.NewGemini(t, pt.Script{Text: "晴天", Reasoning: "thinking…", Usage: pt.Usage{Prompt: 200, Completion: 60, Cached: 150, Reasoning: 45}})
	res, sent := send(t, srv, `{"model":"google/gemini-2.5-flash","messages":[{"role":"system","content":"Be brief."},`+
		`{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"https://example.com/p/cat.webp?x=1"}},`+
		`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0="}}]},`+
		`{"role":"assistant","content":"A"},{"role":"assistant","content":"cat"},{"role":"user","content":"sure?"}],`+
		`"temperature":0.4,"top_p":0.8,"max_tokens":256,"stop":["X"],"seed":7,"n":1}`)
	got := srv.Last()
	if got.Path != "/v1beta/models/gemini-2.5-flash:generateContent" || got.Header.Get("x-goog-api-key") != "AIza-up" {
		t.Errorf("path %q headers %v", got.Path, got.Header)
	}
	if sent.SystemInstruction == nil || sent.SystemInstruction.Parts[0].Text != "Be brief." {
		t.Errorf("system = %+v", sent.SystemInstruction)
	}
	if len(sent.Contents) != 3 || sent.Contents[1].Role != "model" || len(sent.Contents[1].Parts) != 2 {
		t.Fatalf("contents = %+v", sent.Contents)
	}
	p := sent.Contents[0].Parts
	if p[1].FileData == nil || p[1].FileData.MimeType != "image/webp" || p[1].FileData.FileURI != "https://example.com/p/cat.webp?x=1" {
		t.Errorf("url image = %+v", p[1].FileData)
	}
	if p[2].InlineData == nil || p[2].InlineData.MimeType != "image/png" || p[3].InlineData.MimeType != "application/pdf" {
		t.Errorf("inline = %+v %+v", p[2].InlineData, p[3].InlineData)
	}
	g := sent.GenerationConfig
	if *g.Temperature != 0.4 || *g.TopP != 0.8 || *g.MaxOutputTokens != 256 || g.StopSequences[0] != "X" || *g.Seed != 7 || *g.CandidateCount != 1 {
		t.Errorf("generationConfig = %+v", g)
	}
	r := res.Response
	if r.Choices[0].Message.Content.String() != "晴天" || r.Choices[0].FinishReason != "stop" {
		t.Errorf("choice = %+v (thoughts must not leak)", r.Choices[0])
	}
	if u := r.Usage; u.PromptTokens != 200 || u.CachedTokens() != 150 || u.CompletionTokens != 60 || u.ReasoningTokens() != 45 || u.TotalTokens != 260 {
		t.Errorf("usage = %+v", u)
	}
}

func TestToolsBothWays(t *testing.T) {
	srv := pt.NewGemini(t, pt.Script{ToolCalls: []pt.ToolCall{{Name: "get_weather", Arguments: `{"city":"Taipei"}`}}})
	res, sent := send(t, srv, `{"model":"g","messages":[{"role":"user","content":"weather?"},`+
		`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tainan\"}"}}]},`+
		`{"role":"tool","tool_call_id":"c1","content":"28C"}],`+
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":["string","null"]}},"additionalProperties":false}}}],`+
		`"tool_choice":{"type":"function","function":{"name":"get_weather"}}}`)
	if fc := sent.Contents[1].Parts[0].FunctionCall; fc == nil || fc.Name != "get_weather" || string(fc.Args) != `{"city":"Tainan"}` {
		t.Errorf("functionCall = %+v", sent.Contents[1])
	}
	if fr := sent.Contents[2].Parts[0].FunctionResponse; fr == nil || fr.Name != "get_weather" || string(fr.Response) != `{"content":"28C"}` || sent.Contents[2].Role != "user" {
		t.Errorf("functionResponse = %+v", sent.Contents[2])
	}
	params := string(sent.Tools[0].FunctionDeclarations[0].Parameters)
	if strings.Contains(params, "additionalProperties") || !strings.Contains(params, `"nullable":true`) {
		t.Errorf("parameters not sanitized: %s", params)
	}
	tc := sent.ToolConfig.FunctionCallingConfig
	if tc.Mode != "ANY" || tc.AllowedFunctionNames[0] != "get_weather" {
		t.Errorf("toolConfig = %+v", tc)
	}
	ch := res.Response.Choices[0]
	if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 || ch.Message.ToolCalls[0].Function.Arguments != `{"city":"Taipei"}` || ch.Message.ToolCalls[0].ID == "" {
		t.Errorf("choice = %+v", ch)
	}
}

func TestJSONSchema(t *testing.T) {
	srv := pt.NewGemini(t, pt.Script{Text: `{"ok":true}`})
	res, sent := send(t, srv, `{"model":"g","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"r","strict":true,`+
		`"schema":{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false,"$schema":"x"}}}}`)
	g := sent.GenerationConfig
	if g.ResponseMimeType != "application/json" || !strings.Contains(string(g.ResponseSchema), `"required":["ok"]`) || strings.Contains(string(g.ResponseSchema), "additionalProperties") {
		t.Errorf("generationConfig = %s / %s", g.ResponseMimeType, g.ResponseSchema)
	}
	if res.Response.Choices[0].Message.Content.String() != `{"ok":true}` {
		t.Errorf("content = %q", res.Response.Choices[0].Message.Content.String())
	}
}

func TestStreamCountsCumulativeUsageOnce(t *testing.T) {
	text := strings.Repeat("雨", 40)
	srv := pt.NewGemini(t, pt.Script{Text: text, Chunks: 8, Reasoning: "hmm", Usage: pt.Usage{Prompt: 90, Completion: 70, Cached: 30, Reasoning: 20}})
	res, _ := send(t, srv, `{"model":"google/gemini","messages":[{"role":"user","content":"x"}],"stream":true}`)
	if got := srv.Last(); got.Path != "/v1beta/models/gemini-2.5-flash:streamGenerateContent" || got.RawQuery != "alt=sse" {
		t.Errorf("path %q?%q", got.Path, got.RawQuery)
	}
	s := res.Stream
	defer s.Close()
	s.SetIdentity("gen-g", 1700000000)
	chunks, err := pt.Drain(t, s)
	if err != io.EOF {
		t.Fatal(err)
	}
	if pt.Content(chunks) != text || chunks[0].ID != "gen-g" || chunks[0].Choices[0].Delta.Role != "assistant" {
		t.Errorf("content %q first %+v", pt.Content(chunks), chunks[0])
	}
	u, ok := s.Usage()
	if !ok || u.PromptTokens != 90 || u.CompletionTokens != 70 || u.ReasoningTokens() != 20 || u.CachedTokens() != 30 {
		t.Errorf("usage = %+v %v (must be the last report, not a sum)", u, ok)
	}
	if s.FinishReason() != "stop" {
		t.Errorf("finish %q", s.FinishReason())
	}
}

func TestStreamToolCall(t *testing.T) {
	srv := pt.NewGemini(t, pt.Script{Text: "checking", ToolCalls: []pt.ToolCall{{Name: "f", Arguments: `{"a":1}`}, {Name: "g", Arguments: `{}`}}})
	res, _ := send(t, srv, `{"model":"g","messages":[{"role":"user","content":"x"}],"stream":true,"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}}]}`)
	chunks, err := pt.Drain(t, res.Stream)
	if err != io.EOF {
		t.Fatal(err)
	}
	var names []string
	for _, c := range chunks {
		for _, tc := range c.Choices[0].Delta.ToolCalls {
			names = append(names, tc.Function.Name+tc.Function.Arguments+string(rune('0'+*tc.Index)))
		}
	}
	if strings.Join(names, ",") != `f{"a":1}0,g{}1` || res.Stream.FinishReason() != "tool_calls" {
		t.Errorf("tool calls %v finish %q", names, res.Stream.FinishReason())
	}
}

func TestErrorsAndCut(t *testing.T) {
	for _, c := range []struct {
		status    int
		retryable bool
	}{{503, true}, {429, true}, {500, true}, {400, false}} {
		srv := pt.NewGemini(t, pt.Script{Status: c.status, ErrorMessage: "quota"})
		_, err := Adapter{}.Send(context.Background(), nil, upstream(srv), pt.Parse(t, `{"model":"g","messages":[{"role":"user","content":"x"}]}`))
		var ue *core.UpstreamError
		if !errors.As(err, &ue) || ue.Status != c.status || core.Retryable(err) != c.retryable || ue.Message != "quota" {
			t.Errorf("%d: %v", c.status, err)
		}
	}
	srv := pt.NewGemini(t, pt.Script{Text: "abcdef", Chunks: 6, CutAfter: 2})
	res, _ := send(t, srv, `{"model":"g","messages":[{"role":"user","content":"x"}],"stream":true}`)
	chunks, err := pt.Drain(t, res.Stream)
	if !errors.Is(err, core.ErrStreamCut) || pt.Content(chunks) != "ab" {
		t.Errorf("cut: %q, %v", pt.Content(chunks), err)
	}
	if _, ok := res.Stream.Usage(); ok {
		t.Error("cut stream claims final usage")
	}
	srv = pt.NewGemini(t, pt.Script{Text: "abcdef", Chunks: 6, CutAfter: 2, ErrorEvent: true})
	res, _ = send(t, srv, `{"model":"g","messages":[{"role":"user","content":"x"}],"stream":true}`)
	_, err = pt.Drain(t, res.Stream)
	var ue *core.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 503 {
		t.Errorf("error event: %v", err)
	}
}

// A streamed call's thought signature follows it as an encrypted detail
// naming the call, and the thought summary comes as a text detail.
func TestStreamThoughtSignature(t *testing.T) {
	srv := pt.NewGemini(t, pt.Script{Reasoning: "Look it up.", ToolCalls: []pt.ToolCall{{Name: "f", Arguments: `{}`}}})
	res, _ := send(t, srv, `{"model":"g","messages":[{"role":"user","content":"x"}],"stream":true,"reasoning_effort":"low","tools":[{"type":"function","function":{"name":"f"}}]}`)
	chunks, err := pt.Drain(t, res.Stream)
	if err != io.EOF {
		t.Fatal(err)
	}
	var callID string
	var details []chat.ReasoningDetail
	for _, c := range chunks {
		for _, tc := range c.Choices[0].Delta.ToolCalls {
			callID = tc.ID
		}
		details = append(details, c.Choices[0].Delta.ReasoningDetails...)
	}
	if len(details) != 2 || details[0].Type != chat.ReasoningText || details[0].Text != "Look it up." ||
		details[1] != (chat.ReasoningDetail{Type: chat.ReasoningEncrypted, Data: "Z2VtaW5p", ID: callID, Format: chat.FormatGemini, Index: 1}) || callID == "" {
		t.Fatalf("details %+v, call %q", details, callID)
	}
}

// Gemini returns at most 8 candidates: n above that is the client's to fix,
// refused before any call, and not a reason to fail over as an outage.
func TestCandidatesAreAtMostEight(t *testing.T) {
	srv := pt.NewGemini(t, pt.Script{Text: "ok"})
	_, err := Adapter{}.Send(context.Background(), nil, upstream(srv), pt.Parse(t, `{"model":"g","messages":[{"role":"user","content":"x"}],"n":9}`))
	var ve *chat.ValidationError
	if !errors.As(err, &ve) || ve.Param != "n" || !strings.Contains(ve.Error(), "at most 8") || core.Retryable(err) {
		t.Fatalf("n 9: %v", err)
	}
	if n := len(srv.Received()); n != 0 {
		t.Fatalf("the upstream received %d requests", n)
	}
	_, sent := send(t, srv, `{"model":"g","messages":[{"role":"user","content":"x"}],"n":8}`)
	if c := sent.GenerationConfig.CandidateCount; c == nil || *c != 8 {
		t.Fatalf("n 8 sent as candidateCount %v", c)
	}
}

// Pydantic, openai-go's examples and zod with shared parts write nested
// models as $defs and $ref, which Gemini's schema does not take: the
// definitions are written out where they are used, so the model still
// sees every nested field. A recursive definition is written out three
// levels deep; below that, the property that recurses is left out.
func TestJSONSchemaReferencesWrittenOut(t *testing.T) {
	srv := pt.NewGemini(t, pt.Script{Text: `{"name":"A"}`})
	_, sent := send(t, srv, `{"model":"g","messages":[{"role":"user","content":"x"}],`+
		`"tools":[{"type":"function","function":{"name":"tree","parameters":{"$defs":{"Node":{"type":"object","properties":{"name":{"type":"string"},`+
		`"children":{"type":"array","items":{"$ref":"#/$defs/Node"}}},"required":["name","children"]}},"$ref":"#/$defs/Node"}}}],`+
		`"response_format":{"type":"json_schema","json_schema":{"name":"Person","strict":true,"schema":{`+
		`"$defs":{"Address":{"type":"object","title":"Address","properties":{"city":{"type":"string"},"zip":{"type":"string"}},"required":["city","zip"],"additionalProperties":false}},`+
		`"type":"object","properties":{"name":{"type":"string"},"home":{"$ref":"#/$defs/Address","description":"where they live"},`+
		`"past":{"type":"array","items":{"$ref":"#/$defs/Address"}},"work":{"allOf":[{"$ref":"#/$defs/Address"}]}},`+
		`"required":["name","home","past"],"additionalProperties":false}}}}`)
	var person map[string]any
	if err := json.Unmarshal(sent.GenerationConfig.ResponseSchema, &person); err != nil {
		t.Fatal(err)
	}
	address := `{"properties":{"city":{"type":"string"},"zip":{"type":"string"}},"required":["city","zip"],"title":"Address","type":"object"}`
	for path, want := range map[string]string{
		"properties.past.items": address,
		"properties.work":       address,
		"properties.home": `{"description":"where they live","properties":{"city":{"type":"string"},"zip":{"type":"string"}},` +
			`"required":["city","zip"],"title":"Address","type":"object"}`,
		"required": `["name","home","past"]`,
	} {
		if got := schemaAt(person, path); got != want {
			t.Errorf("responseSchema %s = %s, want %s", path, got, want)
		}
	}
	if s := string(sent.GenerationConfig.ResponseSchema); strings.Contains(s, "$ref") || strings.Contains(s, "$defs") || strings.Contains(s, "allOf") {
		t.Errorf("responseSchema keeps references: %s", s)
	}

	var tree map[string]any
	if err := json.Unmarshal(sent.Tools[0].FunctionDeclarations[0].Parameters, &tree); err != nil {
		t.Fatal(err)
	}
	deepest := "properties.children.items.properties.children.items"
	if got := schemaAt(tree, deepest+".properties.name.type"); got != "string" {
		t.Errorf("third level of the tree: %s (parameters %s)", got, sent.Tools[0].FunctionDeclarations[0].Parameters)
	}
	if got := schemaAt(tree, deepest+".properties.children"); got != "" {
		t.Errorf("the tree recurses past three levels: %s", got)
	}
	if got := schemaAt(tree, deepest+".required"); got != `["name"]` {
		t.Errorf("deepest required = %s", got)
	}
}

// schemaAt renders the value at a dotted path of a decoded schema ("" when
// absent).
func schemaAt(v any, path string) string {
	for _, step := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		if v, ok = m[step]; !ok {
			return ""
		}
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Definitions that each use the next ten times would be written out as
// 10^12 copies; the written schema stays small.
func TestJSONSchemaReferencesBounded(t *testing.T) {
	defs := map[string]any{"D12": map[string]any{"type": "string"}}
	for i := 11; i >= 0; i-- {
		props := map[string]any{}
		for j := 0; j < 10; j++ {
			props[fmt.Sprint("p", j)] = map[string]any{"$ref": fmt.Sprintf("#/$defs/D%d", i+1)}
		}
		defs[fmt.Sprint("D", i)] = map[string]any{"type": "object", "properties": props}
	}
	schema, _ := json.Marshal(map[string]any{"$defs": defs, "$ref": "#/$defs/D0"})
	srv := pt.NewGemini(t, pt.Script{Text: `{}`})
	start := time.Now()
	_, sent := send(t, srv, `{"model":"g","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":`+string(schema)+`}}}`)
	if n := len(sent.GenerationConfig.ResponseSchema); n == 0 || n > 200_000 || time.Since(start) > 5*time.Second {
		t.Fatalf("written schema: %d bytes in %v", n, time.Since(start))
	}
}

// A tool without arguments declares an object with no properties (the AI
// SDK's z.object({}), LangChain's and Pydantic's empty models), which
// Gemini refuses; it goes out without parameters, and an empty nested
// object as a bare object.
func TestToolWithoutArguments(t *testing.T) {
	srv := pt.NewGemini(t, pt.Script{Text: "ok"})
	_, sent := send(t, srv, `{"model":"g","messages":[{"role":"user","content":"x"}],"tools":[`+
		`{"type":"function","function":{"name":"now","parameters":{"type":"object","properties":{},"required":[],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}}},`+
		`{"type":"function","function":{"name":"set","parameters":{"type":"object","properties":{"key":{"type":"string"},"options":{"type":"object","properties":{}}},"required":["key"]}}}]}`)
	decls := sent.Tools[0].FunctionDeclarations
	if decls[0].Name != "now" || decls[0].Parameters != nil {
		t.Errorf("now: parameters %s", decls[0].Parameters)
	}
	if got := string(decls[1].Parameters); got != `{"properties":{"key":{"type":"string"},"options":{"type":"object"}},"required":["key"],"type":"object"}` {
		t.Errorf("set: parameters %s", got)
	}
}

// Tool calls without an ID (some clients send them so) are answered by
// results without one in the order they were made: each result carries
// its own call's function name, not the last one's.
func TestToolResultsWithoutIDsAnswerTheirCalls(t *testing.T) {
	srv := pt.NewGemini(t, pt.Script{Text: "ok"})
	_, sent := send(t, srv, `{"model":"g","messages":[{"role":"user","content":"weather and time?"},`+
		`{"role":"assistant","content":null,"tool_calls":[{"id":"","type":"function","function":{"name":"get_weather","arguments":"{}"}},`+
		`{"id":"","type":"function","function":{"name":"get_time","arguments":"{}"}}]},`+
		`{"role":"tool","tool_call_id":"","content":"28C"},{"role":"tool","tool_call_id":"","content":"09:00"}],`+
		`"tools":[{"type":"function","function":{"name":"get_weather"}},{"type":"function","function":{"name":"get_time"}}]}`)
	var got []string
	for _, p := range sent.Contents[2].Parts {
		if p.FunctionResponse == nil {
			t.Fatalf("not a function response: %+v", p)
		}
		got = append(got, p.FunctionResponse.Name+"="+string(p.FunctionResponse.Response))
	}
	if want := []string{`get_weather={"content":"28C"}`, `get_time={"content":"09:00"}`}; !slices.Equal(got, want) {
		t.Errorf("function responses %v, want %v", got, want)
	}
}
