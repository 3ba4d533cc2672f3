// Package core holds what every provider adapter shares: the contract
// types (re-exported by package providers), upstream errors, an SSE
// reader and HTTP helpers. Adapters import it; providers imports the
// adapters, so For can name them all without an import cycle.
package core

import (
	"context"
	"net/http"

	"github.com/routefree/routefree/gateway/chat"
)

// Upstream kinds: the wire protocol an upstream speaks.
const (
	KindOpenAI    = "openai"
	KindAnthropic = "anthropic"
	KindGemini    = "gemini"
)

// Upstream is one concrete place a model can be served from.
type Upstream struct {
	Provider string // "openai", "deepseek", "anthropic", "google"…
	Kind     string // KindOpenAI, KindAnthropic or KindGemini
	BaseURL  string // e.g. https://api.openai.com/v1, https://api.anthropic.com, https://generativelanguage.googleapis.com
	Model    string // the upstream's own model name
	APIKey   string
	// Params are the request parameters the upstream takes (the catalog's
	// supported_parameters); empty when the catalog names none.
	Params []string
}

// Adapter calls one kind of upstream and answers in OpenAI's shape.
type Adapter interface {
	// Send calls the upstream. It returns once the upstream's response
	// headers arrived (stream) or its whole body was read (non-stream).
	// Errors before any byte reached the client are *UpstreamError or
	// transport errors; Retryable tells which allow failover.
	Send(ctx context.Context, hc *http.Client, up Upstream, req *chat.Request) (*Result, error)
}

// Checker is an Adapter that knows limits of its provider a request can
// be held to before any call (Gemini's 8 candidates): the gateway asks it
// before holding credit, and skips the upstream when it refuses.
type Checker interface {
	// Check returns a *chat.ValidationError when this kind of upstream
	// cannot take the request, nil when it may. It does no I/O.
	Check(req *chat.Request) error
}

// Result is a successful upstream answer: exactly one field is set.
type Result struct {
	// Response is the whole completion, in OpenAI's shape. Its ID and
	// Created are the upstream's (the server writes its own); Model is
	// the model the client asked for.
	Response *chat.Response
	// Relay is a whole completion that came in OpenAI's shape already and
	// is written out as it came, with the gateway's id, model and usage.
	Relay *Relay
	// Stream yields OpenAI chunks when the request had stream: true.
	Stream ChunkStream
}

// ChunkStream relays a streamed completion as OpenAI chunks.
type ChunkStream interface {
	// SetIdentity sets the "id" and "created" every following chunk
	// carries: the gateway's request id and the instant it took the
	// request, as on the chunks the gateway writes itself, so that a
	// stream's chunks share one of each whatever clock the upstream keeps.
	// Without it chunks keep the upstream's.
	SetIdentity(id string, created int64)
	// Next returns the next chunk's JSON, ready to write after "data: ".
	// The slice is valid until the following call. Usage is never inside
	// a returned chunk: after io.EOF read it from Usage and let the server
	// decide whether to send a usage chunk (chat.NewUsageChunk). A stream
	// that ends before the upstream's end marker returns an error wrapping
	// ErrStreamCut, never io.EOF.
	Next() ([]byte, error)
	// Pending reports whether a whole upstream event is already read and
	// waiting, so the next chunk is (almost surely) at hand: the server then
	// writes this one without flushing it alone.
	Pending() bool
	// Usage returns the usage counted so far and whether it is the
	// upstream's final report (false after a cut: bill what was delivered).
	Usage() (chat.Usage, bool)
	// FinishReason returns the last finish reason seen ("" if none).
	FinishReason() string
	// NativeFinishReason returns the provider's own form of it (Anthropic's
	// max_tokens, Gemini's MAX_TOKENS); an OpenAI-shaped upstream's is
	// FinishReason itself.
	NativeFinishReason() string
	// Close releases the upstream connection; safe to call twice.
	Close() error
}
