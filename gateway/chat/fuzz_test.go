package chat

import (
	"encoding/json"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add(readTestdata(f, "full_request.json"))
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}],"stream":true}`,
		`{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"auto","stop":"s","models":["a"]}`,
		`{"model":1}`, `[]`, `null`, `{`, `{"model":"m","messages":[{"role":"user","content":5}]}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":null,"reasoning":{"effort":"high","max_tokens":2000,"exclude":true}}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"low","reasoning":{"enabled":false}}`,
		// Deep, wide and not UTF-8.
		nested(MaxDepth-1, "[", "]"), nested(MaxDepth, "[", "]"), nested(5000, `{"a":`, "}"),
		`{"model":"m",` + userMsg + `,"x":[` + strings.Repeat(`{},`, 5000) + `{}]}`,
		"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}",
		`{"model":"m","messages":[{"role":"user","content":"\ud800"}]}`,
		`{"model":"m","messages":[{"role":"user","content":"\ud83d\ude00"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := Parse(body)
		checkParsed(t, body, r, err)
		if err != nil {
			return
		}
		if r.Model == "" || len(r.Messages) == 0 {
			t.Fatalf("accepted without model or messages: %s", body)
		}
		b, err := r.OpenAIBody("up")
		if err != nil {
			return // e.g. an unusual stream_options value
		}
		if !json.Valid(b) {
			t.Fatalf("OpenAIBody produced invalid JSON: %s", b)
		}
	})
}
