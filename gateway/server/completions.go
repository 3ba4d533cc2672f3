package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
)

// POST /api/v1/completions serves OpenAI's legacy completions: the prompt
// goes to the chat pipeline as a single user message, and legacyWriter
// renders the answer as text_completion objects. Errors keep the gateway's
// usual shape.

// legacyRequest is a legacy completions request; the fields both APIs share
// are copied to the chat request as they are.
type legacyRequest struct {
	Model  string          `json:"model"`
	Prompt json.RawMessage `json:"prompt"`
	Stream bool            `json:"stream"`
	Suffix *string         `json:"suffix"`
	Echo   bool            `json:"echo"`
	BestOf *int            `json:"best_of"`
}

// legacyShared are the fields a chat request takes unchanged.
var legacyShared = []string{"max_tokens", "temperature", "top_p", "stop", "seed", "user", "n",
	"presence_penalty", "frequency_penalty", "logit_bias", "stream_options"}

// legacyChatBody translates a legacy request. A prompt is one string (or
// an array holding one); several prompts and token-array prompts are
// refused, as are suffix, echo and best_of, which chat models cannot do.
func legacyChatBody(body []byte) ([]byte, bool, *APIError) {
	if ae := checkBody(body); ae != nil {
		return nil, false, ae
	}
	var lr legacyRequest
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &lr); err != nil {
		return nil, false, apiErr(http.StatusBadRequest, "invalid_request", describeJSONError(err), nil)
	}
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, false, apiErr(http.StatusBadRequest, "invalid_request", describeJSONError(err), nil)
	}
	var prompt string
	var prompts []string
	switch {
	case json.Unmarshal(lr.Prompt, &prompt) == nil:
	case json.Unmarshal(lr.Prompt, &prompts) == nil && len(prompts) == 1:
		prompt = prompts[0]
	default:
		return nil, false, apiErr(http.StatusBadRequest, "invalid_request", "prompt must be a string (or an array of one string); send one request per prompt", map[string]any{"param": "prompt"})
	}
	switch {
	case lr.Suffix != nil && *lr.Suffix != "":
		return nil, false, apiErr(http.StatusBadRequest, "invalid_request", "suffix is not supported: chat models take no insertion point", map[string]any{"param": "suffix"})
	case lr.Echo:
		return nil, false, apiErr(http.StatusBadRequest, "invalid_request", "echo is not supported", map[string]any{"param": "echo"})
	case lr.BestOf != nil && *lr.BestOf > 1:
		return nil, false, apiErr(http.StatusBadRequest, "invalid_request", "best_of is not supported", map[string]any{"param": "best_of"})
	}
	out := map[string]any{"model": lr.Model, "messages": []map[string]string{{"role": "user", "content": prompt}}}
	for _, k := range legacyShared {
		if v, ok := fields[k]; ok {
			out[k] = v
		}
	}
	if lr.Stream {
		out["stream"] = true
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, false, apiErr(http.StatusBadRequest, "invalid_request", err.Error(), nil)
	}
	return b, lr.Stream, nil
}

func (s *Server) completions(c echo.Context) error {
	r := c.Request()
	// The key before a byte of the body, as for chat.
	if ae := s.keyFirst(c); ae != nil {
		return writeAPIError(c, ae)
	}
	body, err := readBody(c.Response(), r, s.cfg.MaxBodyBytes, s.cfg.BodyReadTimeout)
	if err != nil {
		return err
	}
	chatBody, _, ae := legacyChatBody(body)
	if ae != nil {
		return writeAPIError(c, ae)
	}
	r.Body = io.NopCloser(bytes.NewReader(chatBody))
	r.ContentLength = int64(len(chatBody))
	resp := c.Response()
	orig := resp.Writer
	lw := &legacyWriter{w: orig}
	resp.Writer = lw
	defer func() { resp.Writer = orig }()
	if err := s.chatCompletions(c); err != nil && lw.status == 0 {
		resp.Writer = orig
		return err
	}
	return lw.finish()
}

// legacyWriter renders the chat pipeline's answer as text completions.
type legacyWriter struct {
	w      http.ResponseWriter
	mu     sync.Mutex
	status int
	stream bool
	buf    bytes.Buffer
}

func (l *legacyWriter) Header() http.Header { return l.w.Header() }

func (l *legacyWriter) WriteHeader(status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.status != 0 {
		return
	}
	l.status = status
	if status == http.StatusOK && bytes.HasPrefix([]byte(l.w.Header().Get("Content-Type")), []byte("text/event-stream")) {
		l.stream = true
		l.w.WriteHeader(status)
	}
}

func (l *legacyWriter) Write(p []byte) (int, error) {
	if l.status == 0 {
		l.WriteHeader(http.StatusOK)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if !l.stream {
		return len(p), nil
	}
	for {
		b := l.buf.Bytes()
		i := bytes.Index(b, sseEnd)
		if i < 0 {
			return len(p), nil
		}
		ev := append([]byte(nil), b[:i]...)
		l.buf.Next(i + len(sseEnd))
		out := ev
		if data, ok := bytes.CutPrefix(ev, sseData); ok && !bytes.Equal(data, []byte("[DONE]")) {
			if t, err := legacyChunk(data); err == nil {
				out = append(append([]byte(nil), sseData...), t...)
			}
		}
		if _, err := l.w.Write(append(out, sseEnd...)); err != nil {
			return 0, err
		}
	}
}

// FlushError lets http.ResponseController flush through to the client.
func (l *legacyWriter) FlushError() error { return http.NewResponseController(l.w).Flush() }

// Unwrap gives http.ResponseController the connection underneath.
func (l *legacyWriter) Unwrap() http.ResponseWriter { return l.w }

func (l *legacyWriter) finish() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stream || l.status == 0 {
		return nil
	}
	out := l.buf.Bytes()
	if l.status == http.StatusOK {
		if t, err := legacyChunk(out); err == nil {
			out = t
		}
	}
	l.w.WriteHeader(l.status)
	_, err := l.w.Write(out)
	return err
}

// legacyChunk converts a chat completion or chunk to a text_completion.
// Other keys (usage, its cost, system_fingerprint, an error) stay as sent.
func legacyChunk(b []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	var choices []struct {
		Index        int       `json:"index"`
		Message      oaMessage `json:"message"`
		Delta        oaMessage `json:"delta"`
		FinishReason *string   `json:"finish_reason"`
	}
	if err := json.Unmarshal(m["choices"], &choices); err != nil && len(m["choices"]) > 0 {
		return nil, err
	}
	out := make([]map[string]any, len(choices))
	for i, ch := range choices {
		text := ""
		if ch.Message.Content != nil {
			text = *ch.Message.Content
		} else if ch.Delta.Content != nil {
			text = *ch.Delta.Content
		}
		out[i] = map[string]any{"text": text, "index": ch.Index, "logprobs": nil, "finish_reason": ch.FinishReason}
	}
	m["choices"], _ = json.Marshal(out)
	m["object"] = json.RawMessage(`"text_completion"`)
	return json.Marshal(m)
}
