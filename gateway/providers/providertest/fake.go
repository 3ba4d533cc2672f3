// Package providertest runs in-process fake upstreams that speak each
// provider's real wire format (OpenAI chat completions, Anthropic
// Messages, Gemini generateContent), record what they received and answer
// from a Script. Tests, the gateway's server tests and the load tool's
// fake upstream all build on it.
package providertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// ToolCall is a function call the fake model makes.
type ToolCall struct {
	ID        string // generated when empty
	Name      string
	Arguments string // JSON object text
}

// Usage is what the fake reports, in OpenAI's terms: Cached is inside
// Prompt, Reasoning inside Completion. Each fake converts to its wire
// form (Anthropic splits input/cache; Gemini splits candidates/thoughts).
type Usage struct {
	Prompt, Completion, Cached, Reasoning int
	CacheWrite                            int // Anthropic cache_creation_input_tokens (OpenRouter's cache_write_tokens), inside Prompt
}

// Script says how the fake answers.
type Script struct {
	Text         string     // the reply (JSON text for structured output)
	Reasoning    string     // thinking text (Anthropic thinking block, Gemini thought part)
	ToolCalls    []ToolCall // function calls after the text
	Chunks       int        // stream: split Text into this many content chunks (default 1)
	Usage        Usage      // zero: Prompt 10, Completion = number of chunks
	FinishReason string     // OpenAI-style override ("length"…); default stop or tool_calls
	Model        string     // the model name the fake reports; default the requested one
	Created      int64      // OpenAI fakes: the "created" they write (an upstream on another clock); default now

	Status       int           // non-2xx: answer this error instead
	ErrorMessage string        // message of that error
	RetryAfter   string        // with Status: the Retry-After header sent with it
	Delay        time.Duration // wait before sending headers
	ChunkDelay   time.Duration // wait between stream events
	DelayFrom    int           // with ChunkDelay: the first event it applies to (counted from 1; 0 is every event)
	CutAfter     int           // >0: drop the connection after this many content chunks
	ErrorEvent   bool          // with CutAfter: send the provider's in-stream error event first
	// EventMessage and EventCode replace the in-stream error event's
	// message and its code (OpenAI's code, Anthropic's type, Gemini's status).
	EventMessage string
	EventCode    string
	// ErrorBody (with Status) is the error answer's body, sent as it is in
	// place of one built from ErrorMessage, whatever the request
	// asks: a provider's own refusal word for word, as an upstream
	// refusing its key answers any request.
	ErrorBody string
	// ErrorFirst (stream): the provider's in-stream error event right after
	// the opening event, before any content, then the end: how Anthropic
	// answers a stream while overloaded.
	ErrorFirst bool
	// UseMaxTokens reports the request's max_tokens (or max_completion_tokens)
	// as its completion tokens, as a model that writes until its cap would.
	UseMaxTokens bool
	// Strict (OpenAI fakes) refuses with a 400, as OpenAI's own API does,
	// what its schema lacks: "name" on tool messages and any top-level
	// field it does not know (OpenRouter's top_k, provider, models…).
	Strict bool
	// Reasoner (OpenAI fakes) refuses with a 400, as OpenAI's reasoning
	// models (o3, o4-mini, gpt-5) do, max_tokens (they take only
	// max_completion_tokens) and the sampling parameters they lack.
	Reasoner bool
	// NoReasoning (OpenAI fakes) refuses reasoning_effort with a 400, as
	// OpenAI's models that do not reason (gpt-4o, gpt-4.1) do.
	NoReasoning bool
	// Efforts (OpenAI fakes) are the reasoning_effort values the model
	// takes; any other is refused with a 400, as OpenAI does.
	Efforts []string
	// Mistral (OpenAI fakes) answers as Mistral's API does: a field its
	// schema lacks (stream_options, max_completion_tokens, seed, user,
	// metadata, top_k…) is a 422 extra_forbidden, and a stream reports its
	// usage in the chunk that finishes it, unasked.
	Mistral bool
	// Groq (OpenAI fakes) refuses with a 400 what Groq's API documents it
	// refuses: logprobs, logit_bias, top_logprobs and a message's name.
	Groq bool
	// XAIReasoner (OpenAI fakes) refuses with a 400, as xAI's reasoning
	// models (grok-3-mini, grok-4) do, presence_penalty,
	// frequency_penalty and stop.
	XAIReasoner bool
	// DeepSeekReasoner (OpenAI fakes) refuses logprobs and top_logprobs
	// with a 400, as DeepSeek's deepseek-reasoner does.
	DeepSeekReasoner bool
}

// eventError is the in-stream error event's message and code, or the
// defaults given.
func (s Script) eventError(msg, code string) (string, string) {
	if s.EventMessage != "" {
		msg = s.EventMessage
	}
	if s.EventCode != "" {
		code = s.EventCode
	}
	return msg, code
}

func (s Script) chunks() int {
	if s.Chunks > 0 {
		return s.Chunks
	}
	return 1
}

func (s Script) usage() Usage {
	if s.Usage == (Usage{}) {
		return Usage{Prompt: 10, Completion: s.chunks()}
	}
	return s.Usage
}

func (s Script) finish() string {
	switch {
	case s.FinishReason != "":
		return s.FinishReason
	case len(s.ToolCalls) > 0:
		return "tool_calls"
	}
	return "stop"
}

func (s Script) toolCallID(i int) string {
	if id := s.ToolCalls[i].ID; id != "" {
		return id
	}
	return "call_" + string(rune('a'+i%26)) + "fake"
}

// Received is one request a fake got.
type Received struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

// Fake is an http.Handler speaking one provider's protocol.
type Fake struct {
	kind   string
	record bool
	mu     sync.Mutex
	script Script
	got    []Received
}

// Kinds of fakes, as providers name upstream kinds.
const (
	KindOpenAI    = "openai"
	KindAnthropic = "anthropic"
	KindGemini    = "gemini"
)

// NewFake returns a handler for kind ("openai", "anthropic", "gemini").
// record keeps every request for Received (turn it off under load).
func NewFake(kind string, s Script, record bool) *Fake {
	switch kind {
	case KindOpenAI, KindAnthropic, KindGemini:
	default:
		panic("providertest: unknown kind " + kind)
	}
	return &Fake{kind: kind, script: s, record: record}
}

// SetScript changes the answers of the following requests.
func (f *Fake) SetScript(s Script) {
	f.mu.Lock()
	f.script = s
	f.mu.Unlock()
}

// Received returns the requests received so far.
func (f *Fake) Received() []Received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Received(nil), f.got...)
}

// Last returns the last request received (zero if none).
func (f *Fake) Last() Received {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got) == 0 {
		return Received{}
	}
	return f.got[len(f.got)-1]
}

func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	s := f.script
	if f.record {
		f.got = append(f.got, Received{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	}
	f.mu.Unlock()
	if s.UseMaxTokens {
		var m struct {
			MaxTokens           int `json:"max_tokens"`
			MaxCompletionTokens int `json:"max_completion_tokens"`
		}
		_ = json.Unmarshal(body, &m)
		if n := max(m.MaxTokens, m.MaxCompletionTokens); n > 0 {
			u := s.usage()
			u.Completion = n
			s.Usage = u
		}
	}
	if s.Delay > 0 {
		select {
		case <-time.After(s.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if s.Status >= 300 && s.ErrorBody != "" {
		if s.RetryAfter != "" {
			w.Header().Set("Retry-After", s.RetryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.Status)
		_, _ = io.WriteString(w, s.ErrorBody)
		return
	}
	if serveEmbeddings(f.kind, w, r, body, s) {
		return
	}
	switch f.kind {
	case KindOpenAI:
		serveOpenAI(w, r, body, s)
	case KindAnthropic:
		serveAnthropic(w, r, body, s)
	case KindGemini:
		serveGemini(w, r, body, s)
	}
}

// Server is a Fake on a loopback httptest server.
type Server struct {
	*Fake
	// URL is the server's root; BaseURL is what goes into
	// providers.Upstream.BaseURL for this kind (OpenAI's includes /v1).
	URL, BaseURL string
	srv          *httptest.Server
}

// Start runs a recording fake of kind until Close.
func Start(kind string, s Script) *Server {
	return StartFake(NewFake(kind, s, true))
}

// StartFake serves f on loopback until Close.
func StartFake(f *Fake) *Server {
	srv := httptest.NewServer(f)
	base := srv.URL
	if f.kind == KindOpenAI {
		base += "/v1"
	}
	return &Server{Fake: f, URL: srv.URL, BaseURL: base, srv: srv}
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// NewOpenAI starts an OpenAI fake closed when tb ends.
func NewOpenAI(tb testing.TB, s Script) *Server { return newFor(tb, KindOpenAI, s) }

// NewAnthropic starts an Anthropic fake closed when tb ends.
func NewAnthropic(tb testing.TB, s Script) *Server { return newFor(tb, KindAnthropic, s) }

// NewGemini starts a Gemini fake closed when tb ends.
func NewGemini(tb testing.TB, s Script) *Server { return newFor(tb, KindGemini, s) }

func newFor(tb testing.TB, kind string, s Script) *Server {
	tb.Helper()
	srv := Start(kind, s)
	tb.Cleanup(srv.Close)
	return srv
}

// split cuts text into n pieces of near-equal size on rune boundaries.
func split(text string, n int) []string {
	if n <= 1 || len(text) == 0 {
		return []string{text}
	}
	out := make([]string, 0, n)
	size := (len(text) + n - 1) / n
	for len(text) > 0 && len(out) < n-1 {
		k := min(size, len(text))
		for k < len(text) && !utf8.RuneStart(text[k]) {
			k++
		}
		out = append(out, text[:k])
		text = text[k:]
	}
	for len(out) < n {
		out = append(out, text)
		text = ""
	}
	return out
}

// sse writes server-sent events and flushes each.
type sse struct {
	w    http.ResponseWriter
	f    http.Flusher
	s    Script
	done <-chan struct{} // the client went away
	sent int             // events sent so far
}

func startSSE(w http.ResponseWriter, r *http.Request, s Script) *sse {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	return &sse{w: w, f: f, s: s, done: r.Context().Done()}
}

func (e *sse) send(event string, data []byte) {
	e.sent++
	if e.s.ChunkDelay > 0 && e.sent >= e.s.DelayFrom {
		select {
		case <-time.After(e.s.ChunkDelay):
		case <-e.done:
			return
		}
	}
	buf := make([]byte, 0, len(data)+len(event)+16)
	if event != "" {
		buf = append(buf, "event: "...)
		buf = append(buf, event...)
		buf = append(buf, '\n')
	}
	buf = append(buf, "data: "...)
	buf = append(buf, data...)
	buf = append(buf, '\n', '\n')
	_, _ = e.w.Write(buf)
	if e.f != nil {
		e.f.Flush()
	}
}

// cut drops the connection without the stream's end marker.
func (e *sse) cut() {
	if e.f != nil {
		e.f.Flush()
	}
	panic(http.ErrAbortHandler)
}
