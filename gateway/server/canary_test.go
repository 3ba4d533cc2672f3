package server

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// TestNoContentOrKeyAtRest sends a unique string in prompts, in tool
// arguments and in streamed replies, through successes and failures, then
// searches every byte the gateway wrote — the SQLite database, its WAL and
// journal, and the logs — for it and for the API key in clear.
func TestNoContentOrKeyAtRest(t *testing.T) {
	var rb [12]byte
	_, _ = rand.Read(rb[:])
	canary := "CANARY" + hex.EncodeToString(rb[:])

	h := newHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{
			"test/openai":    {{fake: "openai", kind: "openai"}},
			"test/anthropic": {{fake: "anthropic", kind: "anthropic"}},
			"test/gemini":    {{fake: "gemini", kind: "gemini"}},
			"test/broken":    {{fake: "broken", kind: "openai"}},
			"test/bad":       {{fake: "bad", kind: "openai"}},
		},
		scripts: map[string]providertest.Script{
			"openai":    {Text: "reply " + canary, Chunks: 4, ToolCalls: []providertest.ToolCall{{Name: "lookup", Arguments: `{"q":"` + canary + `"}`}}},
			"anthropic": {Text: "reply " + canary, Chunks: 4},
			"gemini":    {Text: "reply " + canary, Chunks: 4},
			"broken":    {Text: canary + strings.Repeat(" filler", 30), Chunks: 6, CutAfter: 2},
			"bad":       {Status: 400, ErrorMessage: "cannot process " + canary},
		},
	})
	tool := `,"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}]`
	msgs := `"messages":[{"role":"system","content":"sys ` + canary + `"},{"role":"user","content":"find ` + canary + `"},` +
		`{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"` + canary + `\"}"}}]},` +
		`{"role":"tool","tool_call_id":"c1","content":"result ` + canary + `"}]`
	var statuses []int
	for _, model := range []string{"test/openai", "test/anthropic", "test/gemini", "test/broken", "test/bad"} {
		for _, stream := range []string{"false", "true"} {
			resp, b := h.post(`{"model":"` + model + `","stream":` + stream + `,"user":"` + canary + `",` + msgs + tool + `}`)
			statuses = append(statuses, resp.StatusCode)
			got := string(b)
			if stream == "true" { // split over chunks: join the deltas
				got, _ = deliveredText(bytes.ReplaceAll(b, []byte("data: "), nil))
			}
			if model != "test/bad" && !strings.Contains(got, canary) {
				t.Fatalf("%s stream=%s: the reply lost the content (%d): %s", model, stream, resp.StatusCode, b)
			}
		}
	}
	// A rejected request whose error message quotes the input.
	resp, _ := h.post(`{"model":"test/openai","messages":[{"role":"` + canary + `","content":"x"}]}`)
	statuses = append(statuses, resp.StatusCode)
	t.Logf("statuses %v", statuses)

	// Everything written in the background is in the store before we look.
	waitFor(t, func() bool { return len(h.failed()) >= 2 })
	if len(h.completed()) < 8 {
		t.Fatalf("only %d completed events", len(h.completed()))
	}
	h.catchUp()
	h.heldIsZero()

	secrets := map[string][]byte{"canary": []byte(canary), "API key": []byte(h.key)}
	files := 0
	err := filepath.WalkDir(h.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for what, s := range secrets {
			if bytes.Contains(b, s) {
				t.Errorf("%s found in %s", what, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no files in the data directory")
	}
	if _, err := os.Stat(filepath.Join(h.dir, "events.db-wal")); err == nil {
		t.Log("searched the WAL too")
	}
	if h.logs.Len() == 0 {
		t.Fatal("no logs written: the log check would prove nothing")
	}
	for what, s := range secrets {
		if bytes.Contains(h.logs.Bytes(), s) {
			t.Errorf("%s found in the logs", what)
		}
	}
}
