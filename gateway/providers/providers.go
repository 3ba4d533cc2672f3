// Package providers is the gateway's door to upstream model APIs: one
// Adapter per wire protocol (OpenAI and compatible hosts, Anthropic
// Messages, Gemini), each answering in OpenAI's shape.
package providers

import (
	"fmt"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/anthropic"
	"github.com/routefree/routefree/gateway/providers/gemini"
	"github.com/routefree/routefree/gateway/providers/internal/core"
	"github.com/routefree/routefree/gateway/providers/openai"
)

// The contract types live in an internal package so the adapters can
// share them without importing this one.
type (
	Upstream      = core.Upstream
	Adapter       = core.Adapter
	Result        = core.Result
	Relay         = core.Relay
	ChunkStream   = core.ChunkStream
	UpstreamError = core.UpstreamError
	Checker       = core.Checker
)

// Upstream kinds.
const (
	KindOpenAI    = core.KindOpenAI
	KindAnthropic = core.KindAnthropic
	KindGemini    = core.KindGemini
)

// ErrStreamCut is wrapped by ChunkStream.Next when the upstream ended a
// stream before its end marker.
var ErrStreamCut = core.ErrStreamCut

// Retryable reports whether a Send error allows failing over to the next
// upstream: connect errors, timeouts, 408, 429 and 5xx.
func Retryable(err error) bool { return core.Retryable(err) }

// RedactKeys replaces key-like tokens (a provider's key, whole or masked as
// providers quote the key they refuse) in an upstream's text.
func RedactKeys(s string) string { return core.RedactKeys(s) }

var adapters = map[string]Adapter{
	KindOpenAI:    openai.Adapter{},
	KindAnthropic: anthropic.Adapter{},
	KindGemini:    gemini.Adapter{},
}

// Check is the adapter's refusal of a request its provider cannot take
// (a *chat.ValidationError), known before any call; nil when it may take
// it, or cannot tell before trying.
func Check(a Adapter, req *chat.Request) error {
	if c, ok := a.(Checker); ok {
		return c.Check(req)
	}
	return nil
}

// For returns the adapter for an upstream kind.
func For(kind string) (Adapter, error) {
	if a, ok := adapters[kind]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("providers: unknown upstream kind %q", kind)
}
