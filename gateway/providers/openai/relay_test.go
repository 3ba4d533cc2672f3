package openai

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/gateway/chat"
)

// relayAnswers are answers as OpenAI-compatible hosts send them.
var relayAnswers = []string{
	string(unaryAnswer),
	`{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,` +
		`"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"台北\"}"}}]},"finish_reason":"tool_calls"}],` +
		`"usage":{"prompt_tokens":50,"completion_tokens":12,"total_tokens":62}}`,
	`{"choices":[{"index":0,"message":{"role":"assistant","content":"\u53f0\u5317 <b>&amp;</b> \"quoted\" \\ back"},"finish_reason":"length","logprobs":{"content":[{"token":"a","logprob":-0.1}]}},` +
		`{"index":1,"message":{"role":"assistant","content":"two","refusal":"no"},"finish_reason":null}],"usage":{"prompt_tokens":3,"completion_tokens":4}}`,
	`{"id":"d","object":"chat.completion","created":2,"model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,"prompt_cache_hit_tokens":8,"prompt_cache_miss_tokens":2},"system_fingerprint":null}`,
	`{"choices":[{"index":0,"message":{"role":"assistant","content":"think","reasoning":"because","reasoning_details":[{"type":"reasoning.text","text":"because"}]},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":1,"completion_tokens":9,"completion_tokens_details":{"reasoning_tokens":7},"prompt_tokens_details":{"cached_tokens":0}}}`,
	`{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":0}}`,
	`{"choices":[{"message":{"content":[{"type":"text","text":"parts"}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}`,
	// Another OpenRouter, which writes its own native reason.
	`{"id":"gen-1","object":"chat.completion","choices":[{"logprobs":null,"finish_reason":"length","native_finish_reason":"max_tokens","index":0,"message":{"role":"assistant","content":"Hel"}},` +
		`{"finish_reason":null,"native_finish_reason":null,"index":1,"message":{"role":"assistant","content":""}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}`,
	`{"choices":[{},{"finish_reason":""},{ "index" : 2 , "finish_reason" : "stop" } ],"usage":{"prompt_tokens":1,"completion_tokens":1}}`,
}

// decodedAnswer is what the gateway writes for an answer decoded whole.
func decodedAnswer(t testing.TB, b []byte, u *chat.Usage) ([]byte, *chat.Response) {
	t.Helper()
	res, err := DecodeResponse(b)
	if err != nil {
		return nil, nil
	}
	r := res.Response
	got := *r
	r.ID, r.Model, r.Provider, r.Usage, r.Created = "gen-1", "openai/gpt-4.1", "openai", u, 7
	if r.Object == "" {
		r.Object = "chat.completion"
	}
	out, err := fastjson.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return out, &got
}

// checkRelay asserts that a relayed answer is what decoding it whole would
// have made: the same usage and finish reason read, and the same answer
// written, as a client decodes it.
func checkRelay(t testing.TB, b []byte) bool {
	t.Helper()
	rel := relayOf(b, false)
	if rel == nil {
		return false
	}
	u := chat.NewUsage(1, 2, 0, 0)
	out := rel.AppendJSON(nil, "gen-1", "openai/gpt-4.1", "openai", 7, &u)
	if !json.Valid(out) {
		t.Fatalf("relayed %s as invalid JSON %s", b, out)
	}
	want, decoded := decodedAnswer(t, b, &u)
	var got chat.Response
	if want == nil {
		// The decoder refuses a choice the relay passes (a member of the
		// wrong type inside it): the client then gets the upstream's own
		// malformed choice, as with a streamed chunk; it must not decode.
		if json.Unmarshal(out, &got) == nil {
			t.Fatalf("relayed %s although the decoder refuses it and the client reads it", b)
		}
		return true
	}
	if !reflect.DeepEqual(rel.Usage, *decoded.Usage) {
		t.Fatalf("usage of %s: relay %+v, decoder %+v", b, rel.Usage, *decoded.Usage)
	}
	finish := ""
	if len(decoded.Choices) > 0 {
		finish = decoded.Choices[0].FinishReason
	}
	if rel.Finish != finish {
		t.Fatalf("finish of %s: relay %q, decoder %q", b, rel.Finish, finish)
	}
	var w chat.Response
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("relayed %s: %v", out, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	// Compared as the gateway's encoder writes them, where an empty list
	// and a missing one are the same.
	gb, _ := fastjson.Marshal(got)
	wb, _ := fastjson.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("answer %s\nrelayed as %s\ndecoded as %s", b, out, want)
	}
	return true
}

func TestRelayWritesWhatDecodingWould(t *testing.T) {
	for _, a := range relayAnswers {
		if !checkRelay(t, []byte(a)) {
			t.Errorf("not relayed: %s", a)
		}
	}
}

// A usage report whose counts are not whole numbers of tokens is relayed
// as the decoder reads it: unreadable, for the gateway to refuse and
// count the answer itself, the answer's choices as they came.
func TestRelayMarksUnreadableUsage(t *testing.T) {
	for _, a := range []string{
		`{"choices":[],"usage":{"prompt_tokens":1.5}}`,
		`{"choices":[],"usage":{"prompt_tokens":"1"}}`,
		`{"choices":[],"usage":{"prompt_tokens":1e400}}`,
	} {
		rel := relayOf([]byte(a), false)
		if rel == nil || !rel.Usage.Unreadable || rel.Usage.PromptTokens != 0 {
			t.Errorf("%s relayed as %+v", a, rel)
		}
		res, err := DecodeResponse([]byte(a))
		if err != nil || res.Response.Usage == nil || !res.Response.Usage.Unreadable {
			t.Errorf("%s decoded as %+v, %v", a, res, err)
		}
	}
}

// Answers the decoder must read whole: it renames, counts or refuses them.
func TestRelayLeavesRewritesToTheDecoder(t *testing.T) {
	for _, a := range []string{
		`{"choices":[{"message":{"content":"no usage"},"finish_reason":"stop"}]}`,
		`{"choices":[{"message":{"content":"x"}}],"usage":null}`,
		`{"choices":[{"message":{"content":"x","reasoning_content":"deepseek"}}],"usage":{"prompt_tokens":1}}`,
		`{"choices":[{"message":{"content":"x","Reasoning_Content":"any case"}}],"usage":{"prompt_tokens":1}}`,
		`{"choices":[{"message":{"content":"x","reasoning\u005fcontent":"escaped"}}],"usage":{"prompt_tokens":1}}`,
		`{"choices":{"not":"an array"},"usage":{"prompt_tokens":1}}`,
		`{"choices":[1],"usage":{"prompt_tokens":1}}`,
		`{"choices":[],"created":"yesterday","usage":{"prompt_tokens":1}}`,
		`{"choices":[],"object":1,"usage":{"prompt_tokens":1}}`,
		`{"choices":[],"Usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}}`,
		`{"choices":[],"usage":{"prompt_tokens":1},"error":{"message":"late"}}`,
		`{"choices":[{"message":{"content":hello}}],"usage":{"prompt_tokens":1}}`,
		`{"choices":[],"usage":{"prompt_tokens":1}`,
		`{"choices":[{"message":{"content":"x"},"finish_reason":"stop","native_finish_reason":null}],"usage":{"prompt_tokens":1}}`,
		`not json`,
	} {
		if rel := relayOf([]byte(a), false); rel != nil {
			t.Errorf("relayed %s", a)
		}
	}
	excluded := `{"choices":[{"message":{"content":"x","reasoning":"hidden"}}],"usage":{"prompt_tokens":1}}`
	if relayOf([]byte(excluded), true) != nil {
		t.Errorf("relayed reasoning the client asked to leave out: %s", excluded)
	}
	if relayOf([]byte(excluded), false) == nil {
		t.Errorf("reasoning the client wants was not relayed: %s", excluded)
	}
}

func FuzzRelayMatchesDecode(f *testing.F) {
	for _, a := range relayAnswers {
		f.Add([]byte(a))
	}
	f.Add([]byte(`{"choices":[{"message":{"role":"assistant","content":"a"},"message":{"content":"b"}}],"usage":{"prompt_tokens":1}}`))
	f.Add([]byte(`{"choices":[{"index":"0","message":{"content":"a"}}],"usage":{"prompt_tokens":1}}`))
	f.Add([]byte("{\"choices\":[{\"message\":{\"content\":\"\xff\"}}],\"usage\":{\"prompt_tokens\":1}}"))
	f.Fuzz(func(t *testing.T, b []byte) { checkRelay(t, b) })
}

// TestIndexedToolCallDeltasAreScannedNotDecoded: a tool call's arguments
// stream a few characters a chunk; chunks whose deltas carry their index,
// as OpenAI's always do, pass through as sent and allocate nothing, while
// a piece without one is still numbered after them.
func TestIndexedToolCallDeltasAreScannedNotDecoded(t *testing.T) {
	s := newStream("openai", "m", io.NopCloser(bytes.NewReader(nil)))
	first := []byte(`[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"f","arguments":""}}]}}]`)
	if out := s.numberToolCalls(first); !bytes.Equal(out, first) {
		t.Fatalf("an indexed delta was rewritten: %s", out)
	}
	piece := []byte(`[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"q\":"}}]}}]`)
	if n := testing.AllocsPerRun(100, func() { s.numberToolCalls(piece) }); n != 0 {
		t.Fatalf("an indexed argument piece: %.0f allocations, want 0", n)
	}
	bare := []byte(`[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"1}"}}]}}]`)
	if out := s.numberToolCalls(bare); !bytes.Contains(out, []byte(`"index":1`)) {
		t.Fatalf("a piece without its index after call 1: %s", out)
	}
}

// A relayed answer's choices carry native_finish_reason, OpenAI's own
// finish_reason where the upstream wrote none, and the first choice's
// costs no allocation beyond the relay's own.
func TestRelayWritesNativeFinishReasons(t *testing.T) {
	b := []byte(`{"choices":[{"index":0,"message":{"content":"a"},"finish_reason":"length"},{"index":1,"message":{"content":"b"},"finish_reason":null},` +
		`{"index":2,"message":{"content":"c"},"finish_reason":"stop","native_finish_reason":"end_turn"}],"usage":{"prompt_tokens":1,"completion_tokens":3}}`)
	rel := relayOf(b, false)
	if rel == nil {
		t.Fatal("not relayed")
	}
	var r struct {
		Choices []struct {
			Native *string `json:"native_finish_reason"`
		}
	}
	out := rel.AppendJSON(nil, "gen-1", "m", "openai", 7, nil)
	if err := json.Unmarshal(out, &r); err != nil || len(r.Choices) != 3 {
		t.Fatalf("%s: %v", out, err)
	}
	if n := r.Choices; n[0].Native == nil || *n[0].Native != "length" || n[1].Native != nil || n[2].Native == nil || *n[2].Native != "end_turn" {
		t.Errorf("native reasons of %s", out)
	}
	// Against the same answer that wrote its own: no allocation more.
	written := bytes.Replace(unaryAnswer, []byte(`"finish_reason": "stop"`), []byte(`"finish_reason": "stop", "native_finish_reason": "stop"`), 1)
	if rel := relayOf(unaryAnswer, false); rel == nil || len(rel.Natives) != 1 {
		t.Fatalf("one native for %s: %+v", unaryAnswer, rel)
	}
	if rel := relayOf(written, false); rel == nil || len(rel.Natives) != 0 {
		t.Fatalf("no native for %s: %+v", written, rel)
	}
	added := testing.AllocsPerRun(50, func() { relayOf(unaryAnswer, false) })
	kept := testing.AllocsPerRun(50, func() { relayOf(written, false) })
	if added != kept {
		t.Errorf("relaying one choice: %.0f allocations, %.0f with its native reason written", added, kept)
	}
}

// The chunk that ends a choice gets its finish_reason as native_finish_reason
// without an allocation; an upstream's own is kept.
func TestStreamWritesNativeFinishReasons(t *testing.T) {
	s := newStream("openai", "m", io.NopCloser(bytes.NewReader(nil)))
	s.SetIdentity("gen-1", 1700000000)
	for chunk, want := range map[string]string{
		`{"id":"c","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}`:                                   `"finish_reason":"stop","native_finish_reason":"stop"}]`,
		`{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"length","native_finish_reason":"max_tokens"}]}`:                          `"finish_reason":"length","native_finish_reason":"max_tokens"}]`,
		`{"id":"c","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null},{"index":1,"delta":{},"finish_reason":"tool_calls"}]}`: `"finish_reason":null},{"index":1,"delta":{},"finish_reason":"tool_calls","native_finish_reason":"tool_calls"}]`,
	} {
		out, keep, err := s.rewrite([]byte(chunk))
		if err != nil || !keep || !bytes.Contains(out, []byte(want)) || !json.Valid(out) {
			t.Errorf("%s rewritten as %s (%v), want %s", chunk, out, err, want)
		}
	}
	last := []byte(`{"id":"c","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`)
	if n := testing.AllocsPerRun(100, func() { _, _, _ = s.rewrite(last) }); n != 0 {
		t.Errorf("the finishing chunk: %.0f allocations, want 0", n)
	}
}
