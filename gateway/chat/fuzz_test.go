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
		// The scanner that follows a body as it is read agrees with
		// CheckBody on the depth, in whatever pieces the body comes.
		var d DepthScanner
		var derr error
		for b, n := body, 1; len(b) > 0 && derr == nil; n = n*2 + 1 {
			k := min(n, len(b))
			derr = d.Write(b[:k])
			b = b[k:]
		}
		cerr := CheckBody(body)
		if derr != nil && cerr == nil || cerr != nil && strings.Contains(cerr.Error(), "levels") && derr == nil {
			t.Fatalf("depth verdicts differ: scanner %v, CheckBody %v", derr, cerr)
		}
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
