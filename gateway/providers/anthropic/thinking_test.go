package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/routefree/routefree/gateway/chat"
	pt "github.com/routefree/routefree/gateway/providers/providertest"
)

// pick returns the named top-level fields of a JSON body, in that order,
// as one JSON object: absent fields are left out.
func pick(t *testing.T, body []byte, keys ...string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	var b strings.Builder
	b.WriteByte('{')
	for _, k := range keys {
		if v, ok := m[k]; ok {
			if b.Len() > 1 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + k + `":`)
			b.Write(v)
		}
	}
	b.WriteByte('}')
	return b.String()
}

func TestThinkingTranslation(t *testing.T) {
	const user = `"messages":[{"role":"user","content":"Prove it."}]`
	const weather = `"tools":[{"type":"function","function":{"name":"get_weather"}}]`
	cases := []struct {
		name, body, want string
	}{
		{"no reasoning keeps sampling, temperature over top_p", user + `,"max_tokens":2000,"temperature":0.7,"top_p":0.5`,
			`{"max_tokens":2000,"temperature":0.7}`},
		{"high is 80% of max_tokens", user + `,"max_tokens":10000,"reasoning_effort":"high"`,
			`{"max_tokens":10000,"thinking":{"type":"enabled","budget_tokens":8000}}`},
		{"medium is 50%", user + `,"max_completion_tokens":10000,"reasoning":{"effort":"medium"}`,
			`{"max_tokens":10000,"thinking":{"type":"enabled","budget_tokens":5000}}`},
		{"low is 20%, raised to Anthropic's minimum", user + `,"max_tokens":3000,"reasoning_effort":"low"`,
			`{"max_tokens":3000,"thinking":{"type":"enabled","budget_tokens":1024}}`},
		{"effort budgets stop at 32000", user + `,"max_tokens":64000,"reasoning_effort":"xhigh"`,
			`{"max_tokens":64000,"thinking":{"type":"enabled","budget_tokens":32000}}`},
		{"explicit budget wins over effort and the cap", user + `,"max_tokens":64000,"reasoning":{"effort":"low","max_tokens":40000}`,
			`{"max_tokens":64000,"thinking":{"type":"enabled","budget_tokens":40000}}`},
		{"explicit budget below the minimum is raised", user + `,"max_tokens":4000,"reasoning":{"max_tokens":500}`,
			`{"max_tokens":4000,"thinking":{"type":"enabled","budget_tokens":1024}}`},
		{"no max_tokens: the thinking default", user + `,"reasoning_effort":"high"`,
			`{"max_tokens":16000,"thinking":{"type":"enabled","budget_tokens":12800}}`},
		{"enabled alone is medium", user + `,"reasoning":{"enabled":true}`,
			`{"max_tokens":16000,"thinking":{"type":"enabled","budget_tokens":8000}}`},
		{"temperature dropped, top_p raised to 0.95", user + `,"max_tokens":5000,"reasoning_effort":"medium","temperature":0.2,"top_p":0.5`,
			`{"max_tokens":5000,"thinking":{"type":"enabled","budget_tokens":2500},"top_p":0.95}`},
		{"top_p at or above 0.95 kept", user + `,"max_tokens":5000,"reasoning_effort":"medium","top_p":0.98`,
			`{"max_tokens":5000,"thinking":{"type":"enabled","budget_tokens":2500},"top_p":0.98}`},
		{"minimal is off", user + `,"max_tokens":5000,"reasoning_effort":"minimal","temperature":0.2`,
			`{"max_tokens":5000,"temperature":0.2}`},
		{"none is off", user + `,"reasoning_effort":"none"`, `{"max_tokens":4096}`},
		{"enabled false is off", user + `,"reasoning":{"enabled":false}`, `{"max_tokens":4096}`},
		{"forced tool keeps the tool, not thinking", user + `,` + weather + `,"tool_choice":"required","max_tokens":5000,"reasoning_effort":"high","temperature":0.3`,
			`{"max_tokens":5000,"temperature":0.3}`},
		{"auto tool choice thinks", user + `,` + weather + `,"tool_choice":"auto","max_tokens":5000,"reasoning_effort":"high"`,
			`{"max_tokens":5000,"thinking":{"type":"enabled","budget_tokens":4000}}`},
		{"structured output via forced tool does not think", user + `,"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object"}}},"reasoning_effort":"high"`,
			`{"max_tokens":4096}`},
		{"prefill does not think", `"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"{"}],"reasoning_effort":"high"`,
			`{"max_tokens":4096}`},
		{"tool results for the last tool call do not think", `"messages":[{"role":"user","content":"x"},` +
			`{"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},` +
			`{"role":"tool","tool_call_id":"t1","content":"28C"}],` + weather + `,"reasoning_effort":"high"`,
			`{"max_tokens":4096}`},
		{"a finished tool turn earlier does not stop thinking", `"messages":[{"role":"user","content":"x"},` +
			`{"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},` +
			`{"role":"tool","tool_call_id":"t1","content":"28C"},{"role":"assistant","content":"28C."},{"role":"user","content":"Tomorrow?"}],` +
			weather + `,"max_tokens":5000,"reasoning_effort":"low"`,
			`{"max_tokens":5000,"thinking":{"type":"enabled","budget_tokens":1024}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := pt.NewAnthropic(t, pt.Script{Text: "Done.", Reasoning: "thinking it over"})
			res, err := Adapter{}.Send(context.Background(), nil, upstream(srv), pt.Parse(t, `{"model":"anthropic/claude-sonnet-4",`+c.body+`}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := pick(t, srv.Last().Body, "max_tokens", "thinking", "temperature", "top_p", "top_k"); got != c.want {
				t.Errorf("sent %s\n want %s", got, c.want)
			}
			if res.Response.Choices[0].Message.Content.String() == "thinking it over" {
				t.Error("thinking leaked into the answer")
			}
		})
	}
}

func TestThinkingSkippedForOlderModels(t *testing.T) {
	for model, thinks := range map[string]bool{
		"claude-3-5-sonnet-20241022": false, "claude-3-haiku-20240307": false,
		"claude-3-7-sonnet-20250219": true, "claude-sonnet-4-5": true, "claude-opus-4-1": true,
	} {
		out, _, err := translate(pt.Parse(t, `{"model":"a","messages":[{"role":"user","content":"x"}],"reasoning_effort":"high"}`), model)
		if err != nil {
			t.Fatal(err)
		}
		if (out.Thinking != nil) != thinks {
			t.Errorf("%s: thinking = %+v", model, out.Thinking)
		}
	}
}

// The gateway holds credit for the client's max_tokens, so a budget that
// does not fit below it is refused, never met by raising max_tokens.
func TestThinkingBudgetMustFitMaxTokens(t *testing.T) {
	const user = `{"model":"a","messages":[{"role":"user","content":"x"}]`
	cases := []struct{ extra, param, contains string }{
		{`,"max_tokens":1000,"reasoning_effort":"high"`, "max_tokens", "reasoning budget of 1024"},
		{`,"max_tokens":1024,"reasoning_effort":"low"`, "max_tokens", "greater than"},
		{`,"max_completion_tokens":900,"max_tokens":5000,"reasoning":{"enabled":true}`, "max_completion_tokens", "1024"},
		{`,"max_tokens":3000,"reasoning":{"max_tokens":3000}`, "max_tokens", "reasoning budget of 3000"},
		{`,"reasoning":{"max_tokens":20000}`, "reasoning.max_tokens", "16000"},
	}
	for _, c := range cases {
		srv := pt.NewAnthropic(t, pt.Script{Text: "x"})
		_, err := Adapter{}.Send(context.Background(), nil, upstream(srv), pt.Parse(t, user+c.extra+`}`))
		var ve *chat.ValidationError
		if !errors.As(err, &ve) || ve.Param != c.param || !strings.Contains(ve.Message, c.contains) {
			t.Errorf("%s: %v", c.extra, err)
		}
		if len(srv.Received()) != 0 {
			t.Errorf("%s: the request reached the upstream", c.extra)
		}
	}
}

// An assistant message's reasoning_details go back as Claude's thinking
// blocks, first in its turn: signed text and redacted data in Anthropic's
// format. Unsigned text and other providers' formats are left out, and so
// is every thinking block when the request does not think.
func TestReasoningDetailsSentBackAsThinkingBlocks(t *testing.T) {
	const tool = `"tools":[{"type":"function","function":{"name":"get_weather"}}],"max_tokens":5000`
	turn := func(details string) string {
		return `"messages":[{"role":"user","content":"x"},` +
			`{"role":"assistant","content":null,"reasoning_details":` + details + `,` +
			`"tool_calls":[{"id":"t1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},` +
			`{"role":"tool","tool_call_id":"t1","content":"28C"}],` + tool
	}
	const signed = `{"type":"reasoning.text","text":"Look it up.","signature":"c2ln","format":"anthropic-claude-v1","index":0}`
	const redacted = `{"type":"reasoning.encrypted","data":"ZW5j","format":"anthropic-claude-v1","index":1}`
	const unsigned = `{"type":"reasoning.text","text":"no signature","format":"anthropic-claude-v1","index":0}`
	const gemini = `{"type":"reasoning.text","text":"other","signature":"Z2Vt","format":"google-gemini-v1","index":0}`
	cases := []struct {
		name, body string
		thinks     bool
		blocks     string // the assistant turn's block types
	}{
		{"signed and redacted, thinking", turn(`[`+signed+`,`+redacted+`]`) + `,"reasoning_effort":"high"`, true, "thinking redacted_thinking tool_use"},
		{"no format is Anthropic's", turn(`[{"type":"reasoning.text","text":"t","signature":"c2ln"}]`) + `,"reasoning_effort":"high"`, true, "thinking tool_use"},
		{"unsigned and foreign left out: no thinking", turn(`[`+unsigned+`,`+gemini+`]`) + `,"reasoning_effort":"high"`, false, "tool_use"},
		{"not thinking: blocks dropped", turn(`[` + signed + `]`), false, "tool_use"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := pt.NewAnthropic(t, pt.Script{Text: "Sunny."})
			if _, err := (Adapter{}).Send(context.Background(), nil, upstream(srv), pt.Parse(t, `{"model":"anthropic/claude-sonnet-4",`+c.body+`}`)); err != nil {
				t.Fatal(err)
			}
			var sent struct {
				Thinking *thinking `json:"thinking"`
				Messages []message `json:"messages"`
			}
			if err := json.Unmarshal(srv.Last().Body, &sent); err != nil || len(sent.Messages) != 3 {
				t.Fatalf("%v: %s", err, srv.Last().Body)
			}
			var types []string
			for _, b := range sent.Messages[1].Content {
				types = append(types, b.Type)
			}
			if (sent.Thinking != nil) != c.thinks || strings.Join(types, " ") != c.blocks {
				t.Fatalf("thinking %v, assistant blocks %v; want %v, %s", sent.Thinking, types, c.thinks, c.blocks)
			}
			if c.thinks {
				if b := sent.Messages[1].Content[0]; b.Thinking == "" || b.Signature == "" {
					t.Fatalf("thinking block sent without its text or signature: %+v", b)
				}
			}
		})
	}
}

// Redacted thinking has no text to show; it comes back as an encrypted
// detail, in order with the signed ones.
func TestRedactedThinkingBecomesAnEncryptedDetail(t *testing.T) {
	resp, err := decodeResponse([]byte(`{"id":"m","content":[{"type":"thinking","thinking":"a","signature":"s1"},`+
		`{"type":"redacted_thinking","data":"ZW5j"},{"type":"text","text":"Hi."}],"stop_reason":"end_turn","usage":{}}`), "m", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := resp.Choices[0].Message.ReasoningDetails
	want := []chat.ReasoningDetail{
		{Type: chat.ReasoningText, Text: "a", Signature: "s1", Format: chat.FormatAnthropic, Index: 0},
		{Type: chat.ReasoningEncrypted, Data: "ZW5j", Format: chat.FormatAnthropic, Index: 1},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("details %+v, want %+v", got, want)
	}
	s := newStream("anthropic", "m", "", io.NopCloser(strings.NewReader(
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{}}}\n\n"+
			"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"redacted_thinking\",\"data\":\"ZW5j\"}}\n\n")))
	var chunks []string
	for {
		c, err := s.Next()
		if err != nil {
			break
		}
		chunks = append(chunks, string(c))
	}
	if len(chunks) != 2 || !strings.Contains(chunks[1], `"reasoning_details":[{"type":"reasoning.encrypted","data":"ZW5j","format":"anthropic-claude-v1","index":0}]`) ||
		strings.Contains(chunks[1], `"reasoning":`) {
		t.Fatalf("stream chunks %q", chunks)
	}
}
