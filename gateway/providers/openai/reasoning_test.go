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
