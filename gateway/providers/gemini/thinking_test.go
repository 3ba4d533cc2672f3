package gemini

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/internal/core"
	pt "github.com/routefree/routefree/gateway/providers/providertest"
)

func TestThinkingTranslation(t *testing.T) {
	const user = `"messages":[{"role":"user","content":"Prove it."}]`
	cases := []struct {
		name, model, body, want string // want: the generationConfig sent, or "" for none
	}{
		{"no reasoning, no config", "gemini-2.5-flash", user, ``},
		{"high is 80% of max_tokens", "gemini-2.5-flash", user + `,"max_tokens":10000,"reasoning_effort":"high"`,
			`{"maxOutputTokens":10000,"thinkingConfig":{"thinkingBudget":8000,"includeThoughts":true}}`},
		{"low is 20%", "gemini-2.5-flash", user + `,"max_completion_tokens":10000,"reasoning":{"effort":"low"}`,
			`{"maxOutputTokens":10000,"thinkingConfig":{"thinkingBudget":2000,"includeThoughts":true}}`},
		{"no max_tokens: a share of the largest budget", "gemini-2.5-flash", user + `,"reasoning_effort":"medium"`,
			`{"thinkingConfig":{"thinkingBudget":12288,"includeThoughts":true}}`},
		{"Pro's largest budget", "gemini-2.5-pro", user + `,"reasoning_effort":"high"`,
			`{"thinkingConfig":{"thinkingBudget":26214,"includeThoughts":true}}`},
		{"kept within Flash's range", "gemini-2.5-flash", user + `,"max_tokens":60000,"reasoning_effort":"high"`,
			`{"maxOutputTokens":60000,"thinkingConfig":{"thinkingBudget":24576,"includeThoughts":true}}`},
		{"explicit budget wins", "gemini-2.5-flash", user + `,"max_tokens":10000,"reasoning":{"effort":"high","max_tokens":300}`,
			`{"maxOutputTokens":10000,"thinkingConfig":{"thinkingBudget":300,"includeThoughts":true}}`},
		{"explicit budget raised to Pro's minimum", "gemini-2.5-pro", user + `,"reasoning":{"max_tokens":50}`,
			`{"thinkingConfig":{"thinkingBudget":128,"includeThoughts":true}}`},
		{"explicit budget raised to Flash-Lite's minimum", "gemini-2.5-flash-lite", user + `,"reasoning":{"max_tokens":100}`,
			`{"thinkingConfig":{"thinkingBudget":512,"includeThoughts":true}}`},
		{"minimal turns Flash's thinking off", "gemini-2.5-flash", user + `,"reasoning_effort":"minimal"`,
			`{"thinkingConfig":{"thinkingBudget":0,"includeThoughts":false}}`},
		{"none turns Flash-Lite's thinking off", "gemini-2.5-flash-lite", user + `,"reasoning_effort":"none"`,
			`{"thinkingConfig":{"thinkingBudget":0,"includeThoughts":false}}`},
		{"enabled false turns thinking off", "gemini-2.5-flash", user + `,"temperature":0.3,"reasoning":{"enabled":false}`,
			`{"temperature":0.3,"thinkingConfig":{"thinkingBudget":0,"includeThoughts":false}}`},
		{"Pro cannot stop thinking: its smallest budget", "gemini-2.5-pro", user + `,"reasoning":{"enabled":false}`,
			`{"thinkingConfig":{"thinkingBudget":128,"includeThoughts":true}}`},
		{"exclude false asks for thoughts", "gemini-2.5-flash", user + `,"reasoning":{"effort":"low","exclude":false}`,
			`{"thinkingConfig":{"thinkingBudget":4915,"includeThoughts":true}}`},
		{"exclude true thinks without asking for thoughts", "gemini-2.5-flash", user + `,"reasoning":{"effort":"low","exclude":true}`,
			`{"thinkingConfig":{"thinkingBudget":4915,"includeThoughts":false}}`},
		{"models that do not think get no config", "gemini-2.0-flash", user + `,"reasoning_effort":"high"`, ``},
		// Gemini 3 and later take a level, and refuse one with a budget.
		{"Gemini 3: high is the high level", "gemini-3-pro-preview", user + `,"max_tokens":10000,"reasoning_effort":"high"`,
			`{"maxOutputTokens":10000,"thinkingConfig":{"thinkingLevel":"high","includeThoughts":true}}`},
		{"Gemini 3 Pro: low", "gemini-3-pro-preview", user + `,"reasoning":{"effort":"low"}`,
			`{"thinkingConfig":{"thinkingLevel":"low","includeThoughts":true}}`},
		{"Gemini 3 Pro has no medium: high, its default", "gemini-3-pro-preview", user + `,"reasoning_effort":"medium"`,
			`{"thinkingConfig":{"thinkingLevel":"high","includeThoughts":true}}`},
		{"Gemini 3 Pro cannot stop thinking: low", "gemini-3-pro-preview", user + `,"reasoning":{"enabled":false}`,
			`{"thinkingConfig":{"thinkingLevel":"low","includeThoughts":true}}`},
		{"Gemini 3.1 Pro: medium", "gemini-3.1-pro-preview", user + `,"reasoning_effort":"medium"`,
			`{"thinkingConfig":{"thinkingLevel":"medium","includeThoughts":true}}`},
		{"Gemini 3 Flash: minimal for none", "gemini-3-flash-preview", user + `,"reasoning_effort":"none"`,
			`{"thinkingConfig":{"thinkingLevel":"minimal","includeThoughts":true}}`},
		{"Gemini 3 Flash: xhigh is high", "gemini-3-flash-preview", user + `,"reasoning_effort":"xhigh"`,
			`{"thinkingConfig":{"thinkingLevel":"high","includeThoughts":true}}`},
		{"Gemini 3: enabled alone keeps the model's dynamic default", "gemini-3-flash-preview", user + `,"reasoning":{"enabled":true}`,
			`{"thinkingConfig":{"includeThoughts":true}}`},
		{"Gemini 3: exclude asks for no thoughts", "gemini-3-flash-preview", user + `,"reasoning":{"effort":"low","exclude":true}`,
			`{"thinkingConfig":{"thinkingLevel":"low","includeThoughts":false}}`},
		{"Gemini 3: an explicit budget goes as a budget", "gemini-3-pro-preview", user + `,"reasoning":{"effort":"high","max_tokens":2000}`,
			`{"thinkingConfig":{"thinkingBudget":2000,"includeThoughts":true}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := pt.NewGemini(t, pt.Script{Text: "Done.", Reasoning: "thinking it over", Usage: pt.Usage{Prompt: 10, Completion: 50, Reasoning: 40}})
			up := core.Upstream{Provider: "google", Kind: core.KindGemini, BaseURL: srv.BaseURL, Model: c.model, APIKey: "AIza-up"}
			res, err := Adapter{}.Send(context.Background(), nil, up, pt.Parse(t, `{"model":"google/x",`+c.body+`}`))
			if err != nil {
				t.Fatal(err)
			}
			var sent struct {
				GenerationConfig json.RawMessage `json:"generationConfig"`
			}
			if err := json.Unmarshal(srv.Last().Body, &sent); err != nil {
				t.Fatal(err)
			}
			if string(sent.GenerationConfig) != c.want {
				t.Errorf("generationConfig = %s\n              want %s", sent.GenerationConfig, c.want)
			}
			r := res.Response
			if r.Choices[0].Message.Content.String() != "Done." || r.Usage.ReasoningTokens() != 40 || r.Usage.CompletionTokens != 50 {
				t.Errorf("answer %q usage %+v", r.Choices[0].Message.Content.String(), r.Usage)
			}
			// The fake sends its thought part whatever was asked: it is the
			// message's reasoning, never its content.
			if rs := r.Choices[0].Message.Reasoning; rs == nil || *rs != "thinking it over" {
				t.Errorf("reasoning %v, want the thought part", rs)
			}
		})
	}
}

// Gemini's thought signatures come back as encrypted reasoning_details that
// name their function call (and its thought summary as text), and go back
// on that call with the assistant turn, as Gemini 3 requires: the fake
// refuses an unsigned call to a gemini-3 model, as Gemini does.
func TestThoughtSignaturesRoundTrip(t *testing.T) {
	srv := pt.NewGemini(t, pt.Script{Reasoning: "Look it up.", ToolCalls: []pt.ToolCall{{Name: "weather", Arguments: `{"city":"Taipei"}`}}})
	up := upstream(srv)
	up.Model = "gemini-3-pro-preview"
	const ask = `"model":"google/gemini-3-pro-preview","reasoning_effort":"low",` +
		`"tools":[{"type":"function","function":{"name":"weather","parameters":{"type":"object"}}}]`
	res, err := Adapter{}.Send(context.Background(), nil, up, pt.Parse(t, `{`+ask+`,"messages":[{"role":"user","content":"Weather?"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	msg := res.Response.Choices[0].Message
	if len(msg.ToolCalls) != 1 || len(msg.ReasoningDetails) != 2 {
		t.Fatalf("tool calls %+v, details %+v", msg.ToolCalls, msg.ReasoningDetails)
	}
	want := []chat.ReasoningDetail{
		{Type: chat.ReasoningText, Text: "Look it up.", Format: chat.FormatGemini, Index: 0},
		{Type: chat.ReasoningEncrypted, Data: "Z2VtaW5p", ID: msg.ToolCalls[0].ID, Format: chat.FormatGemini, Index: 1},
	}
	if msg.ReasoningDetails[0] != want[0] || msg.ReasoningDetails[1] != want[1] {
		t.Fatalf("details %+v, want %+v", msg.ReasoningDetails, want)
	}

	next := func(m chat.Message) error {
		b, _ := json.Marshal(m)
		_, err := Adapter{}.Send(context.Background(), nil, up, pt.Parse(t, `{`+ask+`,"messages":[{"role":"user","content":"Weather?"},`+
			string(b)+`,{"role":"tool","tool_call_id":"`+m.ToolCalls[0].ID+`","content":"sunny"}]}`))
		return err
	}
	if err := next(msg); err != nil {
		t.Fatalf("the turn sent back with its details: %v", err)
	}
	var sent request
	if err := json.Unmarshal(srv.Last().Body, &sent); err != nil || len(sent.Contents) != 3 || sent.Contents[1].Parts[0].ThoughtSignature != "Z2VtaW5p" {
		t.Fatalf("sent %s", srv.Last().Body)
	}
	msg.ReasoningDetails = nil
	if err := next(msg); err == nil {
		t.Fatal("an unsigned function call reached Gemini 3 and was taken: the fake does not hold the rule")
	}
}

// The fake holds requests to Gemini's thinking rules, so the table above
// would fail on a config Gemini refuses.
func TestFakeRefusesThinkingConfigsGeminiRefuses(t *testing.T) {
	srv := pt.NewGemini(t, pt.Script{Text: "Done."})
	for _, c := range []struct {
		model, config string
		ok            bool
	}{
		{"gemini-3-pro-preview", `{"thinkingLevel":"high"}`, true},
		{"gemini-3-pro-preview", `{"thinkingLevel":"medium"}`, false},
		{"gemini-3-pro-preview", `{"thinkingLevel":"minimal"}`, false},
		{"gemini-3-pro-preview", `{"thinkingBudget":2000,"thinkingLevel":"high"}`, false},
		{"gemini-3-pro-preview", `{"thinkingBudget":2000}`, true},
		{"gemini-3.1-pro-preview", `{"thinkingLevel":"medium"}`, true},
		{"gemini-3-flash-preview", `{"thinkingLevel":"minimal"}`, true},
		{"gemini-2.5-flash", `{"thinkingLevel":"low"}`, false},
	} {
		body := `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":` + c.config + `}}`
		req, _ := http.NewRequest(http.MethodPost, srv.BaseURL+"/v1beta/models/"+c.model+":generateContent", strings.NewReader(body))
		req.Header.Set("x-goog-api-key", "AIza-up")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if (resp.StatusCode == 200) != c.ok {
			t.Errorf("%s %s: status %d, want ok=%v", c.model, c.config, resp.StatusCode, c.ok)
		}
	}
}
