package openai_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/routefree/routefree/gateway/providers/openai"
	pt "github.com/routefree/routefree/gateway/providers/providertest"
)

// OpenAI rejects an unknown reasoning object in chat completions: it goes
// out as reasoning_effort when it has an effort, and not at all otherwise.
func TestReasoningReachesOpenAIAsReasoningEffort(t *testing.T) {
	const user = `{"model":"openai/o4-mini","messages":[{"role":"user","content":"x"}]`
	cases := []struct{ extra, want string }{
		{``, `{}`},
		{`,"reasoning_effort":"high"`, `{"reasoning_effort":"high"}`},
		{`,"reasoning_effort":"minimal","reasoning":{"max_tokens":2000,"exclude":true}`, `{"reasoning_effort":"minimal"}`},
		{`,"reasoning":{"effort":"low"}`, `{"reasoning_effort":"low"}`},
		{`,"reasoning":{"effort":"xhigh","max_tokens":9000}`, `{"reasoning_effort":"xhigh"}`},
		{`,"reasoning":{"max_tokens":2000}`, `{}`},
		{`,"reasoning":{"enabled":true}`, `{}`},
		{`,"reasoning":{"exclude":true},"usage":{"include":true}`, `{}`},
	}
	for _, c := range cases {
		srv := pt.NewOpenAI(t, pt.Script{Text: "ok"})
		if _, err := (openai.Adapter{}).Send(context.Background(), nil, upstream(srv), pt.Parse(t, user+c.extra+`}`)); err != nil {
			t.Fatal(err)
		}
		var sent map[string]json.RawMessage
		if err := json.Unmarshal(srv.Last().Body, &sent); err != nil {
			t.Fatal(err)
		}
		got := map[string]json.RawMessage{}
		for _, k := range []string{"reasoning_effort", "reasoning", "usage"} {
			if v, ok := sent[k]; ok {
				got[k] = v
			}
		}
		if g, _ := json.Marshal(got); string(g) != c.want {
			t.Errorf("%s: sent %s, want %s", c.extra, g, c.want)
		}
	}
}

// OpenRouter takes every effort for every reasoning model and sends the
// nearest one the model takes; OpenAI refuses an effort a model lacks
// (o3 takes low to high, gpt-5 minimal to high, gpt-5.1 none to high).
// reasoning.max_tokens and enabled, which OpenAI has no field for, become
// the effort whose share of the output allowance is nearest.
func TestReasoningEffortsTheModelTakes(t *testing.T) {
	efforts := map[string][]string{
		"o3":         {"low", "medium", "high"},
		"gpt-5-mini": {"minimal", "low", "medium", "high"},
		"gpt-5.1":    {"none", "low", "medium", "high"},
	}
	cases := []struct{ model, extra, want string }{
		{"o3", `"reasoning_effort":"minimal"`, "low"},
		{"o3", `"reasoning":{"effort":"none"}`, "low"},
		{"o3", `"reasoning":{"effort":"xhigh"}`, "high"},
		{"o3", `"reasoning":{"enabled":false}`, "low"},
		{"o3", `"reasoning":{"enabled":true}`, "medium"},
		{"o3", `"max_tokens":10000,"reasoning":{"max_tokens":8000}`, "high"},
		{"o3", `"max_tokens":10000,"reasoning":{"max_tokens":1500}`, "low"},
		{"gpt-5-mini", `"reasoning":{"effort":"none"}`, "minimal"},
		{"gpt-5-mini", `"reasoning_effort":"minimal"`, "minimal"},
		{"gpt-5.1", `"reasoning":{"effort":"minimal"}`, "none"},
		{"gpt-5.1", `"reasoning":{"effort":"medium"}`, "medium"},
	}
	for _, c := range cases {
		srv := pt.NewOpenAI(t, pt.Script{Text: "ok", Efforts: efforts[c.model]})
		up := upstream(srv)
		up.Model = c.model
		req := pt.Parse(t, `{"model":"openai/x","messages":[{"role":"user","content":"x"}],`+c.extra+`}`)
		if _, err := (openai.Adapter{}).Send(context.Background(), nil, up, req); err != nil {
			t.Errorf("%s %s: %v", c.model, c.extra, err)
			continue
		}
		var sent struct {
			Effort string `json:"reasoning_effort"`
		}
		if err := json.Unmarshal(srv.Last().Body, &sent); err != nil {
			t.Fatal(err)
		}
		if sent.Effort != c.want {
			t.Errorf("%s %s: sent reasoning_effort %q, want %q", c.model, c.extra, sent.Effort, c.want)
		}
	}
}
