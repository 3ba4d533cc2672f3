package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// OpenAI refuses a prompt longer than the model's context with code
// context_length_exceeded and "This model's maximum context length is …";
// clients written for OpenAI and OpenRouter recognise that (LangChain's
// @langchain/openai raises ContextOverflowError on "context_length_exceeded"
// or "maximum context length", and agents compact their history on it).
// Anthropic ("prompt is too long: … tokens > … maximum") and Gemini ("The
// input token count (…) exceeds the maximum number of tokens allowed (…)")
// say it in their own words, which reached the client as they were: the
// same overflow went unrecognised on Claude and Gemini. Each upstream here
// answers with its provider's real error body.
func TestContextOverflowReadsAsOpenAIs(t *testing.T) {
	answer := func(status int, body string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(s.Close)
		return s
	}
	const (
		openaiRaw     = "This model's maximum context length is 128000 tokens. However, your messages resulted in 130123 tokens. Please reduce the length of the messages."
		anthropicRaw  = "prompt is too long: 208310 tokens > 200000 maximum"
		anthropicRaw2 = "input length and `max_tokens` exceed context limit: 195000 + 8192 > 200000, decrease input length or `max_tokens` and try again"
		geminiRaw     = "The input token count (1200293) exceeds the maximum number of tokens allowed (1048576)."
	)
	openai := answer(400, `{"error":{"message":"`+openaiRaw+`","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`)
	anthropic := answer(400, `{"type":"error","error":{"type":"invalid_request_error","message":"`+anthropicRaw+`"},"request_id":"req_011CVQe1dLrGNMJyE1ghG1av"}`)
	anthropic2 := answer(400, `{"type":"error","error":{"type":"invalid_request_error","message":"`+strings.ReplaceAll(anthropicRaw2, "`", "\\u0060")+`"},"request_id":"req_011CVQe1dLrGNMJyE1ghG1aw"}`)
	gemini := answer(400, `{"error":{"code":400,"message":"`+geminiRaw+`","errors":[{"message":"`+geminiRaw+`","domain":"global","reason":"badRequest"}],"status":"INVALID_ARGUMENT"}}`)
	other := answer(400, `{"type":"error","error":{"type":"invalid_request_error","message":"messages.0.content: Input should be a valid list"}}`)

	h := newHarness(t, harnessOpts{models: map[string][]upstreamSpec{
		"test/openai":     {{fake: "openai", kind: "openai", baseURL: openai.URL}},
		"test/anthropic":  {{fake: "anthropic", kind: "anthropic", baseURL: anthropic.URL}},
		"test/anthropic2": {{fake: "anthropic", kind: "anthropic", baseURL: anthropic2.URL}},
		"test/gemini":     {{fake: "gemini", kind: "gemini", baseURL: gemini.URL}},
		"test/other":      {{fake: "anthropic", kind: "anthropic", baseURL: other.URL}},
	}})
	// @langchain/openai's test (utils/client.js _isOpenAIContextOverflowError)
	// on the OpenAI SDK's error, whose message is the body's error.message.
	langchainOverflow := func(msg string) bool {
		return strings.Contains(msg, "context_length_exceeded") || strings.Contains(msg, "Input tokens exceed the configured limit") ||
			strings.Contains(msg, "exceeds the context window") || strings.Contains(msg, "maximum context length")
	}
	for _, c := range []struct{ model, raw, message string }{
		{"test/openai", openaiRaw, openaiRaw},
		{"test/anthropic", anthropicRaw, "This model's maximum context length is 200000 tokens. However, your messages resulted in 208310 tokens. Please reduce the length of the messages."},
		{"test/anthropic2", anthropicRaw2, "This model's maximum context length is 200000 tokens. However, you requested 203192 tokens (195000 in the messages, 8192 in the completion). Please reduce the length of the messages or completion."},
		{"test/gemini", geminiRaw, "This model's maximum context length is 1048576 tokens. However, your messages resulted in 1200293 tokens. Please reduce the length of the messages."},
	} {
		for _, stream := range []bool{false, true} {
			resp, b := h.post(chatBody(c.model, 100, stream))
			wantStatus(t, resp, b, http.StatusBadRequest)
			var e struct {
				Error struct {
					Code     json.Number    `json:"code"`
					Message  string         `json:"message"`
					Type     string         `json:"type"`
					Metadata map[string]any `json:"metadata"`
				} `json:"error"`
			}
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("%s: %s", c.model, b)
			}
			md := e.Error.Metadata
			if e.Error.Code != "400" || e.Error.Type != "invalid_request_error" || !langchainOverflow(e.Error.Message) ||
				!strings.HasSuffix(e.Error.Message, ": "+c.message) {
				t.Errorf("%s (stream %v): code %s type %s message %q, want it to end %q", c.model, stream, e.Error.Code, e.Error.Type, e.Error.Message, c.message)
			}
			if md["upstream_code"] != "context_length_exceeded" || md["raw"] != c.raw || md["upstream_message"] != c.raw {
				t.Errorf("%s (stream %v): metadata %v", c.model, stream, md)
			}
		}
	}
	// Another refusal keeps the provider's words and its own code.
	resp, b := h.post(chatBody("test/other", 100, false))
	wantStatus(t, resp, b, http.StatusBadRequest)
	e := decodeError(t, b)
	if langchainOverflow(e.Error.Message) || !strings.Contains(e.Error.Message, "Input should be a valid list") ||
		e.Error.Metadata["upstream_code"] != "invalid_request_error" {
		t.Errorf("another refusal: %s", b)
	}
}
