package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

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

// legacyOnly are the fields of a legacy request that do not go on to chat:
// the prompt becomes the messages; suffix, echo and best_of are refused
// below; logprobs is a count here and a switch in chat. Every other field
// goes on as sent, as chat takes it: the parameters the two APIs share and
// OpenRouter's own options (provider, models, reasoning, usage…), which
// OpenRouter's completions take as its chat does.
var legacyOnly = map[string]bool{"model": true, "prompt": true, "messages": true, "stream": true,
	"suffix": true, "echo": true, "best_of": true, "logprobs": true}

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
		return nil, false, badJSON(err)
	}
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, false, badJSON(err)
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
	for k, v := range fields {
		if !legacyOnly[k] {
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
	known, ae := s.keyFirst(c)
	if ae != nil {
		return writeAPIError(c, ae)
	}
	body, err := readBody(c.Response(), r, s.cfg.MaxBodyBytes, s.cfg.BodyReadTimeout)
	if err != nil {
		if errors.As(err, &ae) {
			known.refuse(ae)
		}
		return err
	}
	chatBody, _, ae := legacyChatBody(body)
	if ae != nil {
		return writeAPIError(c, known.refuse(ae))
	}
	r.Body = io.NopCloser(bytes.NewReader(chatBody))
	r.ContentLength = int64(len(chatBody))
	return s.throughChat(c, newLegacyWriter(c.Response().Writer), func(err error) error { return err })
}

// legacyWriter renders the chat pipeline's answer as text completions.
type legacyWriter struct{ translated }

func newLegacyWriter(w http.ResponseWriter) *legacyWriter {
	l := &legacyWriter{}
	l.translated.w = w
	l.onEvent = l.event
	return l
}

// event writes one chat stream event as a text completion's.
func (l *legacyWriter) event(ev []byte) error {
	out := ev
	if data, ok := bytes.CutPrefix(ev, sseData); ok && !bytes.Equal(data, []byte("[DONE]")) {
		if t, err := legacyChunk(data); err == nil {
			out = append(append([]byte(nil), sseData...), t...)
		}
	}
	_, err := l.w.Write(append(out, sseEnd...))
	return err
}

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
		// The provider's own reason, as OpenRouter's completions carry it.
		NativeFinishReason *string `json:"native_finish_reason"`
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
		out[i] = map[string]any{"text": text, "index": ch.Index, "logprobs": nil, "finish_reason": ch.FinishReason,
			"native_finish_reason": ch.NativeFinishReason}
	}
	m["choices"], _ = json.Marshal(out)
	m["object"] = json.RawMessage(`"text_completion"`)
	return json.Marshal(m)
}
