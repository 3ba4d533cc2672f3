package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/gateway/tokens"
)

// errorIn200 is each provider's error body, sent with a 200 as some hosts
// do when they fail after their headers went out.
var errorIn200 = map[string]string{
	"openai":    `{"error":{"message":"the model is overloaded","type":"server_error","code":500}}`,
	"anthropic": `{"type":"error","error":{"type":"overloaded_error","message":"the model is overloaded"}}`,
	"gemini":    `{"error":{"code":503,"message":"the model is overloaded","status":"UNAVAILABLE"}}`,
}

// A 200 whose body is an error, not an answer, was once served as an
// empty completion (choices null or one empty message) and billed as a
// completed request. It is the upstream failing, as with a 5xx: the next
// upstream answers, and with none left the client gets the error in
// OpenRouter's shape, unbilled.
func TestErrorBodyIn200IsAnUpstreamFailure(t *testing.T) {
	for kind, body := range errorIn200 {
		t.Run(kind, func(t *testing.T) {
			base := rawUpstream(t, "application/json", body)
			if kind == "openai" {
				base += "/v1"
			}
			h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
				"test/fails-over": {{fake: kind, kind: kind, baseURL: base}, {fake: "good", kind: "openai"}},
				"test/only":       {{fake: kind, kind: kind, baseURL: base}},
			}})
			resp, b := h.post(`{"model":"test/fails-over","messages":[{"role":"user","content":"hi"}]}`)
			var out struct {
				Provider string
				Choices  []struct{ Message struct{ Content string } }
			}
			if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || out.Provider != "good" ||
				len(out.Choices) != 1 || out.Choices[0].Message.Content != "Hello from the fake." {
				t.Fatalf("fails over: %d %s", resp.StatusCode, b)
			}
			resp, b = h.post(`{"model":"test/only","messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode < 500 {
				t.Fatalf("only upstream: %d %s", resp.StatusCode, b)
			}
			if e := decodeError(t, b); e.Error.Code != resp.StatusCode || !strings.Contains(string(b), `"attempts":[{"error":"http_5`) {
				t.Fatalf("only upstream: error %s", b)
			}
			h.catchUp()
			if evs := h.completed(); len(evs) != 1 || evs[0].Provider != "good" {
				t.Fatalf("billed %+v", evs)
			}
		})
	}
}

// A streamed chunk whose text is not UTF-8 once reached the client as it
// came, so that its JSON could not be read by a strict client. The chunk
// is mended, as a whole answer is when decoded: each invalid sequence
// becomes U+FFFD.
func TestStreamChunkNotUTF8IsMended(t *testing.T) {
	ct, body := reportingAnswer("openai", true, "5", "2")
	body = strings.Replace(body, "hello there", "hel\xff\xfelo", 1)
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{"test/x": {{fake: "openai", kind: "openai", baseURL: rawUpstream(t, ct, body) + "/v1"}}}})
	resp, b := h.post(`{"model":"test/x","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK || !utf8.Valid(b) {
		t.Fatalf("%d, valid UTF-8 %v: %q", resp.StatusCode, utf8.Valid(b), b)
	}
	if text, _ := deliveredText(dataLines(b)); text != "hel\uFFFDlo" {
		t.Fatalf("delivered %q", text)
	}
}

// dataLines is the data lines of a stream, one chunk a line.
func dataLines(b []byte) []byte {
	var out []byte
	for _, l := range strings.Split(string(b), "\n") {
		if d, ok := strings.CutPrefix(l, "data: "); ok && d != "[DONE]" {
			out = append(append(out, d...), '\n')
		}
	}
	return out
}

// So on the Messages API, whose answers from Claude pass through as
// Anthropic wrote them.
func TestErrorBodyIn200FailsOverOnMessages(t *testing.T) {
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/claude": {{fake: "bad", kind: "anthropic", baseURL: rawUpstream(t, "application/json", errorIn200["anthropic"])}, {fake: "good", kind: "anthropic"}},
	}})
	resp, b := h.postMessages("", h.key, `{"model":"test/claude","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "Hello from the fake.") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	h.catchUp()
	if evs := h.completed(); len(evs) != 1 || evs[0].Provider != "good" {
		t.Fatalf("billed %+v", evs)
	}
}

// A Messages stream from Claude relays Anthropic's own events. Cut
// midway, it is billed for what was delivered, counted by the gateway
// from those events as from chat chunks: it had been billed no output.
func TestNativeMessagesStreamCutBillsWhatWasDelivered(t *testing.T) {
	h := msgHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"anthropic": {Text: "one two three four five six seven eight", Chunks: 4, CutAfter: 2},
	}})
	resp, b := h.postMessages("", h.key, `{"model":"anthropic/claude-sonnet-4.6","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"count"}]}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "one two") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var text strings.Builder
	for _, e := range parseEvents(t, b) {
		if d, ok := e.data["delta"].(map[string]any); ok && e.name == "content_block_delta" {
			text.WriteString(d["text"].(string))
		}
	}
	h.catchUp()
	evs := h.completed()
	delivered := int64(tokens.Count(text.String()))
	if len(evs) != 1 || evs[0].Outcome != domain.OutcomeUpstreamBrokeMid || delivered < 2 || evs[0].Usage.Output != delivered || !evs[0].Usage.Estimated {
		t.Fatalf("billed %d events: %+v", len(evs), evs[0])
	}
}

// An answer whose gzip encoding is corrupt was reported as a connect
// error and ended the request with a 502, no other upstream tried. It is a
// malformed answer: the next upstream answers.
func TestCorruptGzipAnswerFailsOver(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("not gzip at all"))
	}))
	t.Cleanup(up.Close)
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/x": {{fake: "openai", kind: "openai", baseURL: up.URL + "/v1"}, {fake: "good", kind: "openai"}},
	}})
	resp, b := h.post(`{"model":"test/x","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"provider":"good"`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	h.catchUp()
	if evs := h.completed(); len(evs) != 1 || evs[0].Provider != "good" || evs[0].Attempts != 2 {
		t.Fatalf("billed %+v", evs)
	}
}

// An answer that expands past the bound of a whole answer (a gzip body of
// a few kilobytes that decodes to 70 MB) is read no further than the bound,
// and, no byte having reached the client, the next upstream answers: it
// had ended the request with a 502.
func TestAnswerBeyondTheBoundFailsOver(t *testing.T) {
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write([]byte(`{"choices":[{"index":0,"message":{"role":"assistant","content":"`))
	mb := bytes.Repeat([]byte("a"), 1<<20)
	for range 70 {
		_, _ = zw.Write(mb)
	}
	_, _ = zw.Write([]byte(`"},"finish_reason":"stop"}]}`))
	_ = zw.Close()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bomb.Bytes())
	}))
	t.Cleanup(up.Close)
	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/x": {{fake: "openai", kind: "openai", baseURL: up.URL + "/v1"}, {fake: "good", kind: "openai"}},
	}})
	resp, b := h.post(`{"model":"test/x","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"provider":"good"`) {
		t.Fatalf("%d %.300s", resp.StatusCode, b)
	}
}
