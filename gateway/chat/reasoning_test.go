package chat

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const reasoningMsgs = `{"model":"m","messages":[{"role":"user","content":"hi"}]`

func TestParseReasoning(t *testing.T) {
	n := func(v int) *int { return &v }
	f := false
	tr := true
	cases := []struct {
		extra   string
		want    *Reasoning
		exclude bool
	}{
		{``, nil, false},
		{`,"reasoning_effort":null`, nil, false},
		{`,"reasoning":null`, nil, false},
		{`,"reasoning":{}`, nil, false},
		{`,"reasoning":{"exclude":true}`, nil, true},
		{`,"reasoning_effort":"low"`, &Reasoning{Effort: EffortLow}, false},
		{`,"reasoning_effort":"minimal"`, &Reasoning{Effort: EffortMinimal}, false},
		{`,"reasoning":{"effort":"high","exclude":true}`, &Reasoning{Effort: EffortHigh}, true},
		{`,"reasoning_effort":"high","reasoning":{"effort":"high"}`, &Reasoning{Effort: EffortHigh}, false},
		{`,"reasoning_effort":"xhigh","reasoning":{"max_tokens":3000}`, &Reasoning{Effort: EffortXHigh, MaxTokens: n(3000)}, false},
		{`,"reasoning":{"max_tokens":2000}`, &Reasoning{MaxTokens: n(2000)}, false},
		{`,"reasoning":{"enabled":true}`, &Reasoning{Enabled: &tr}, false},
		{`,"reasoning":{"enabled":false}`, &Reasoning{Enabled: &f}, false},
		{`,"reasoning":{"enabled":false,"effort":"none"}`, &Reasoning{Effort: EffortNone, Enabled: &f}, false},
	}
	for _, c := range cases {
		r, err := Parse([]byte(reasoningMsgs + c.extra + `}`))
		if err != nil {
			t.Errorf("%s: %v", c.extra, err)
			continue
		}
		got, _ := json.Marshal(r.Reasoning)
		want, _ := json.Marshal(c.want)
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", c.extra, got, want)
		}
		if r.ExcludeReasoning != c.exclude {
			t.Errorf("%s: ExcludeReasoning %v, want %v", c.extra, r.ExcludeReasoning, c.exclude)
		}
		if _, ok := r.Extra["reasoning"]; ok {
			t.Errorf("%s: reasoning object kept in Extra", c.extra)
		}
	}
}

func TestParseRejectsReasoning(t *testing.T) {
	cases := []struct{ extra, param, contains string }{
		{`,"reasoning_effort":"max"`, "reasoning_effort", `"minimal"`},
		{`,"reasoning_effort":""`, "reasoning_effort", "must be one of"},
		{`,"reasoning_effort":3`, "reasoning_effort", "string"},
		{`,"reasoning":"high"`, "reasoning", "object"},
		{`,"reasoning":[1]`, "reasoning", "object"},
		{`,"reasoning":{"effort":"HIGH"}`, "reasoning.effort", "must be one of"},
		{`,"reasoning":{"effort":7}`, "reasoning.effort", "string"},
		{`,"reasoning":{"max_tokens":"many"}`, "reasoning.max_tokens", "integer"},
		{`,"reasoning":{"max_tokens":1.5}`, "reasoning.max_tokens", "integer"},
		{`,"reasoning":{"max_tokens":-1}`, "reasoning.max_tokens", "from 0 to"},
		{`,"reasoning":{"enabled":"yes"}`, "reasoning.enabled", "bool"},
		{`,"reasoning":{"exclude":1}`, "reasoning.exclude", "bool"},
		{`,"reasoning":{"enabled":false,"effort":"high"}`, "reasoning.enabled", "false"},
		{`,"reasoning":{"enabled":false,"max_tokens":2000}`, "reasoning.enabled", "false"},
		{`,"reasoning_effort":"low","reasoning":{"enabled":false}`, "reasoning.enabled", "false"},
		{`,"reasoning_effort":"low","reasoning":{"effort":"high"}`, "reasoning.effort", "reasoning_effort"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(reasoningMsgs + c.extra + `}`))
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: error %v is not a *ValidationError", c.extra, err)
			continue
		}
		if ve.Param != c.param || !strings.Contains(ve.Error(), c.contains) {
			t.Errorf("%s:\n got param %q msg %q\nwant param %q containing %q", c.extra, ve.Param, ve.Error(), c.param, c.contains)
		}
	}
}

// OpenAI-shaped upstreams get reasoning_effort as sent, the reasoning
// object's effort as reasoning_effort, and never the reasoning object.
func TestOpenAIBodyReasoning(t *testing.T) {
	cases := []struct{ extra, want string }{
		{``, `{}`},
		{`,"reasoning_effort":"low"`, `{"reasoning_effort":"low"}`},
		{`,"reasoning_effort":null`, `{"reasoning_effort":null}`},
		{`,"reasoning":{"effort":"high","exclude":true}`, `{"reasoning_effort":"high"}`},
		{`,"reasoning_effort":null,"reasoning":{"effort":"minimal"}`, `{"reasoning_effort":"minimal"}`},
		{`,"reasoning_effort":"medium","reasoning":{"effort":"medium","max_tokens":100}`, `{"reasoning_effort":"medium"}`},
		{`,"reasoning":{"max_tokens":4000}`, `{}`},
		{`,"reasoning":{"enabled":false}`, `{}`},
		{`,"reasoning":null`, `{}`},
	}
	for _, c := range cases {
		r, err := Parse([]byte(reasoningMsgs + c.extra + `}`))
		if err != nil {
			t.Fatalf("%s: %v", c.extra, err)
		}
		b, err := r.OpenAIBody("up")
		if err != nil {
			t.Fatal(err)
		}
		var sent map[string]json.RawMessage
		if err := json.Unmarshal(b, &sent); err != nil {
			t.Fatalf("%s: body is not JSON: %v\n%s", c.extra, err, b)
		}
		got := map[string]json.RawMessage{}
		for _, k := range []string{"reasoning_effort", "reasoning"} {
			if v, ok := sent[k]; ok {
				got[k] = v
			}
		}
		if g, _ := json.Marshal(got); string(g) != c.want {
			t.Errorf("%s: sent %s, want %s (body %s)", c.extra, g, c.want, b)
		}
		if strings.Count(string(b), `"reasoning_effort"`) > 1 {
			t.Errorf("%s: reasoning_effort sent twice: %s", c.extra, b)
		}
	}
}

func TestReasoningBudget(t *testing.T) {
	n := func(v int) *int { return &v }
	f, tr := false, true
	cases := []struct {
		r         Reasoning
		maxOutput int
		want      int
	}{
		{Reasoning{Effort: EffortHigh}, 10000, 8000},
		{Reasoning{Effort: EffortXHigh}, 10000, 9500},
		{Reasoning{Effort: EffortMedium}, 10000, 5000},
		{Reasoning{Effort: EffortLow}, 10000, 2000},
		{Reasoning{Effort: EffortLow}, 2, 1}, // a real effort never rounds to "none"
		{Reasoning{Effort: EffortMinimal}, 10000, 0},
		{Reasoning{Effort: EffortNone}, 10000, 0},
		{Reasoning{Enabled: &tr}, 10000, 5000},
		{Reasoning{Enabled: &f}, 10000, 0},
		{Reasoning{Effort: EffortHigh, MaxTokens: n(1234)}, 10000, 1234},
	}
	for _, c := range cases {
		if got := c.r.Budget(c.maxOutput); got != c.want {
			t.Errorf("%+v of %d: got %d want %d", c.r, c.maxOutput, got, c.want)
		}
	}
}
