package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers"
	"github.com/routefree/routefree/gateway/tokens"
)

var (
	sseData      = []byte("data: ")
	sseEnd       = []byte("\n\n")
	sseDone      = []byte("data: [DONE]\n\n")
	sseKeepAlive = []byte(": keep-alive\n\n")
)

// flushDelay bounds how long a chunk written without its own flush (the
// next one was already at hand) may wait for company before it is flushed.
const flushDelay = 2 * time.Millisecond

// sse writes the event stream to the client. A chunk is flushed as soon as
// it is written, unless the upstream's next event is already read: a burst
// of chunks then leaves in one write rather than a system call each, and a
// chunk never waits more than flushDelay.
type sse struct {
	w         http.ResponseWriter
	rc        *http.ResponseController
	mu        sync.Mutex // the late flush runs on a timer's goroutine
	committed bool
	unflushed bool
	closed    bool
	// noKeepAlive: the upstream answered; no more keep-alive comments.
	noKeepAlive bool
	late        *time.Timer
	// err is the first write error: the client is gone, or took no bytes
	// for --client-write-timeout (CutStalledWriters).
	err error
}

func (s *sse) commit() {
	if s.committed {
		return
	}
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	s.w.WriteHeader(http.StatusOK)
	s.committed = true
}

// send writes an event; with more (the next one is at hand) the flush is
// left to the next event or, at the latest, to flushDelay from now.
func (s *sse) send(more bool, parts ...[]byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sendLocked(more, parts...)
}

func (s *sse) sendLocked(more bool, parts ...[]byte) bool {
	if !s.writeLocked(parts) {
		return false
	}
	if more {
		s.unflushed = true
		if s.late == nil {
			s.late = time.AfterFunc(flushDelay, s.flushLate)
		} else {
			s.late.Reset(flushDelay)
		}
		return true
	}
	return s.flush()
}

// writeLocked writes an event's parts, unflushed; the caller holds mu.
func (s *sse) writeLocked(parts [][]byte) bool {
	if s.err != nil || s.closed {
		return false
	}
	s.commit()
	for _, p := range parts {
		if _, err := s.w.Write(p); err != nil {
			s.err = err
			return false
		}
	}
	return true
}

// flush sends what is written; the caller holds mu.
func (s *sse) flush() bool {
	s.unflushed = false
	if s.late != nil {
		s.late.Stop()
	}
	if err := s.rc.Flush(); err != nil {
		s.err = err
		return false
	}
	return true
}

// end writes the stream's last event and ends the writing without a flush:
// the server sends what is buffered when the handler returns, together with
// the chunked encoding's terminator, in one write where a flush here cost a
// system call of its own for the terminator alone.
func (s *sse) end(parts ...[]byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.writeLocked(parts) {
		return false
	}
	s.unflushed, s.closed = false, true
	if s.late != nil {
		s.late.Stop()
	}
	return true
}

func (s *sse) flushLate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unflushed && !s.closed && s.err == nil {
		s.flush()
	}
}

// close ends the stream's writing: after it no timer touches the response.
func (s *sse) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unflushed && s.err == nil {
		s.flush()
	}
	s.closed = true
	if s.late != nil {
		s.late.Stop()
	}
}

// keepAlive writes an SSE comment every interval until the returned stop
// is called; stop reports whether the response was committed meanwhile.
// A comment carries no content, so failover stays allowed.
func (s *sse) keepAlive(every time.Duration) (stop func() (committed bool)) {
	var t *time.Timer
	fire := func() {
		s.mu.Lock()
		if s.noKeepAlive {
			s.mu.Unlock()
			return
		}
		ok := s.sendLocked(false, sseKeepAlive)
		s.mu.Unlock()
		if ok {
			t.Reset(every)
		}
	}
	s.mu.Lock() // fire reads t under the same lock first
	t = time.AfterFunc(every, fire)
	s.mu.Unlock()
	return func() bool {
		s.mu.Lock()
		s.noKeepAlive = true
		committed := s.committed
		s.mu.Unlock()
		t.Stop()
		return committed
	}
}

// deliveredPool recycles the buffers that keep a stream's chunks.
var deliveredPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// stream serves a streaming request: SSE keep-alives while the upstreams are
// tried, then the chunks as they come, then — once the usage event is
// durable — the usage chunk and [DONE].
func (k *call) stream() error {
	ctx := k.ctx()
	out := &sse{w: k.c.Response(), rc: http.NewResponseController(k.c.Response())}
	defer out.close()
	// The upstreams are tried on the request's goroutine; keep-alives come
	// from a timer meanwhile, so that no goroutine is started and woken
	// for the attempt.
	stopKeepAlive := out.keepAlive(k.s.cfg.KeepAlive)
	res, first, ae := k.attempt(ctx)
	committed := stopKeepAlive()
	if ae != nil {
		if !committed {
			return ae
		}
		k.streamError(out, ae.Status, noUpstreamErrorType(ae.Status), ae.Message)
		return ae // recorded as failed; nothing more is written
	}
	st := res.Stream
	defer st.Close()

	// Chunks are kept only to count tokens if the upstream never reports
	// usage; they are dropped with the request.
	delivered := deliveredPool.Get().(*bytes.Buffer)
	delivered.Reset()
	defer func() {
		if delivered.Cap() <= 64<<10 { // a long reply's buffer is left to the collector
			deliveredPool.Put(delivered)
		}
	}()
	// A defect of the gateway's own met mid-stream (a panic) must not leave
	// what the client received unbilled: the stream ends with an error
	// chunk and is billed for what was delivered. With nothing delivered
	// yet the panic goes on to the request's cleanup, which records it as
	// failed, the stream ended with an error chunk all the same.
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler || k.done {
			panic(p)
		}
		k.s.cfg.Logger.Error("panic mid-stream", "request_id", k.id, "panic", p, "stack", string(debug.Stack()))
		if delivered.Len() == 0 {
			k.streamError(out, http.StatusInternalServerError, "server", "internal error")
			panic(p)
		}
		k.endStream(out, st, delivered, domain.OutcomeGatewayFailedMid)
	}()
	chunk := first
	var err error
	// An upstream that goes silent mid-stream is cut after the idle timeout
	// and billed for what it delivered, so its hold does not wait for ever.
	idle := time.AfterFunc(k.s.cfg.StreamIdleTimeout, k.cancelUpstream)
	defer idle.Stop()
	exclude := excludesReasoning(k.req)
	recheck := k.s.cfg.KeyRecheck
	checkAt := time.Now().Add(recheck)
	for chunk != nil {
		idle.Reset(k.s.cfg.StreamIdleTimeout)
		delivered.Write(chunk)
		delivered.WriteByte('\n')
		send := true
		if exclude {
			chunk, send = withoutReasoning(chunk)
		}
		if send && !out.send(st.Pending(), sseData, chunk, sseEnd) || ctx.Err() != nil {
			return k.endStream(out, st, delivered, cutOutcome(ctx))
		}
		// A key revoked while it streams stops there, not when the model
		// is done: a leaked key is revoked to stop it now.
		if now := time.Now(); now.After(checkAt) {
			checkAt = now.Add(recheck)
			if k.keyStopped() {
				return k.endStream(out, st, delivered, domain.OutcomeKeyStoppedMid)
			}
		}
		chunk, err = st.Next()
		if err != nil {
			break
		}
	}
	if err != nil && err != io.EOF {
		if ctx.Err() != nil {
			// The client left, or the shutdown cut the request: that
			// cancelled the upstream read, so the error is ours, not the
			// upstream's.
			return k.endStream(out, st, delivered, cutOutcome(ctx))
		}
		k.midErr = withoutKey(err, k.target.APIKey)
		return k.endStream(out, st, delivered, domain.OutcomeUpstreamBrokeMid)
	}
	return k.endStream(out, st, delivered, domain.OutcomeCompleted)
}

// keyStopped looks the request's key up again and reports whether it may
// no longer be used (revoked, disabled, its account suspended), keeping
// the refusal.
func (k *call) keyStopped() bool {
	key, ok := k.s.deps.Directory.Key(k.keyHash)
	if !ok {
		return false
	}
	k.stopped = stoppedKey(key)
	return k.stopped != nil
}

// endStream bills the stream by its outcome, records it and closes it.
func (k *call) endStream(out *sse, st providers.ChunkStream, delivered *bytes.Buffer, outcome string) error {
	u, final := st.Usage()
	usage := domainUsage(&u, false)
	maxIn, maxOut := k.usageBounds()
	if why := usage.Impossible(maxIn, maxOut); why != "" {
		k.refusedUsage(why)
		usage, final = domain.Usage{Refused: why}, false
	}
	if !final || u.CompletionTokens == 0 && delivered.Len() > 0 {
		// No final report (a cut, a disconnect, a host without usage) or
		// an impossible one: count what was delivered ourselves and mark
		// it estimated, within what the request allowed. The upstream's
		// reasoning text counts too, as reasoning inside the output: the
		// provider bills it as output (even when reasoning.exclude kept it
		// from the client).
		text, reasoning := deliveredText(delivered.Bytes())
		est := k.estimateUsage(text)
		r := int64(tokens.Count(reasoning))
		if usage.Input == 0 {
			usage.Input = est.Input
		}
		if !final || usage.Output == 0 {
			usage.Output = max(usage.Output, est.Output+r)
			usage.Reasoning = min(max(usage.Reasoning, r), usage.Output)
		}
		usage.Estimated = true
		usage = withinBounds(usage, maxIn, maxOut)
	}
	cost := k.cost(usage)
	finish := st.FinishReason()
	switch outcome {
	case domain.OutcomeCompleted, domain.OutcomeClientDisconnected:
		// Cancelled, not failed: the upstream's reason if it gave one
		// before the client left, else none, as OpenRouter's generation
		// reports an aborted request.
		if finish != "" {
			k.noteNativeFinish(finish, st.NativeFinishReason())
		}
	default:
		finish = "error"
	}
	st.Close()
	if err := k.complete(usage, cost, outcome, finish, true); err != nil {
		var ae *APIError
		errors.As(err, &ae)
		k.streamError(out, http.StatusServiceUnavailable, "server", ae.Message)
		k.s.observe(k, http.StatusServiceUnavailable)
		return nil
	}
	switch outcome {
	case domain.OutcomeCompleted:
		// Every stream ends with its usage, asked for or not, as
		// OpenRouter's do (stream_options.include_usage and usage.include
		// are accepted and change nothing).
		// segmentio's encoder, as for unary answers: encoding/json's
		// reflection was a few percent of a stream's CPU.
		b, _ := fastjson.Marshal(chat.NewUsageChunk(k.id, k.model.ID, k.provider(), k.start.Unix(), k.usageFor(usage, cost)))
		out.end(sseData, b, sseEnd, sseDone)
	case domain.OutcomeUpstreamBrokeMid:
		msg, md := k.brokeMid()
		k.streamErrorMeta(out, http.StatusBadGateway, msg, md)
	case domain.OutcomeShutdown:
		k.streamError(out, http.StatusServiceUnavailable, "server", "the gateway is shutting down and ended the stream early; you are billed for what was delivered")
	case domain.OutcomeGatewayFailedMid:
		k.streamError(out, http.StatusInternalServerError, "server", "the gateway failed and ended the stream early; you are billed for what was delivered")
	case domain.OutcomeKeyStoppedMid:
		k.streamError(out, k.stopped.Status, openRouterErrorType(k.stopped.Status), k.stopped.Message+"; the stream was ended there: you are billed for what was delivered")
	}
	k.s.observe(k, http.StatusOK)
	return nil
}

// streamError ends a stream whose 200 already went out: a final chunk with
// finish_reason "error" and an error object, as OpenRouter does, whose
// metadata names OpenRouter's error type (errType, one of
// openRouterErrorType's).
func (k *call) streamError(out *sse, status int, errType, msg string) {
	k.streamErrorMeta(out, status, msg, map[string]any{"error_type": errType})
}

// streamErrorMeta is streamError with more metadata; md must hold
// "error_type": @openrouter/sdk refuses a stream error's metadata without
// it, and throws a parse error in place of the chunk.
func (k *call) streamErrorMeta(out *sse, status int, msg string, md map[string]any) {
	model := ""
	if k.model != nil {
		model = k.model.ID
	}
	e := map[string]any{"code": status, "message": msg, "metadata": md}
	b, _ := json.Marshal(map[string]any{
		"id": k.id, "object": "chat.completion.chunk", "created": k.start.Unix(), "model": model,
		"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "error"}},
		"error":   e,
	})
	out.end(sseData, b, sseEnd)
}

// Bounds of an upstream's error text passed on to the client.
const (
	maxUpstreamMessage = 500
	maxUpstreamCode    = 64
)

// brokeMid is the message and metadata of a stream the upstream broke after
// content went out. An upstream's own error event (Anthropic's
// overloaded_error, an OpenAI error chunk) is passed on as OpenRouter
// forwards a provider's error: its message, cleaned and bounded, and its
// code. It is the upstream's text about its own state, never the prompt's
// or the completion's.
func (k *call) brokeMid() (string, map[string]any) {
	var ue *providers.UpstreamError
	if !errors.As(k.midErr, &ue) || ue.Message == "" {
		return "the upstream ended the stream early; you are billed for what was delivered", map[string]any{"error_type": "provider_unavailable"}
	}
	provider := ue.Provider
	if k.target != nil {
		provider = k.target.Provider
	}
	msg := cleanUpstreamText(ue.Message, maxUpstreamMessage)
	md := map[string]any{"provider": provider, "provider_name": provider, "upstream_message": msg,
		"error_type": openRouterErrorType(ue.Status)}
	if c := cleanUpstreamText(ue.Code, maxUpstreamCode); c != "" {
		md["upstream_code"] = c
		md["provider_code"] = c // OpenRouter's name for it
	}
	if t := cleanUpstreamText(ue.Type, maxUpstreamCode); t != "" {
		md["upstream_type"] = t
	}
	return fmt.Sprintf("%s ended the stream with an error: %s; you are billed for what was delivered", provider, msg), md
}

// cleanUpstreamText makes an upstream's text fit to pass on: control and
// format characters (escapes, bidirectional overrides, NULs) become spaces,
// runs of spaces one, and it is cut at max bytes on a character boundary.
func cleanUpstreamText(s string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, " ") {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) <= max {
		return out
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return strings.TrimRight(out[:cut], " ") + ellipsis
}

// nativeEvent is what an Anthropic event relayed as it came (a Messages
// stream from Claude) delivers: text, thinking, or a tool's name and input.
type nativeEvent struct {
	Delta *struct {
		Text        string `json:"text"`
		Thinking    string `json:"thinking"`
		PartialJSON string `json:"partial_json"`
	} `json:"delta"`
	ContentBlock *struct {
		Name string `json:"name"`
	} `json:"content_block"`
}

// deliveredText extracts the content and tool-call arguments of chunks (or
// of Anthropic's events), and apart from them their reasoning text.
func deliveredText(b []byte) (string, string) {
	var sb, rb strings.Builder
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		var c chat.Chunk
		if json.Unmarshal(line, &c) != nil {
			continue
		}
		if len(c.Choices) == 0 {
			nativeText(line, &sb, &rb)
		}
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				sb.WriteString(*ch.Delta.Content)
			}
			if ch.Delta.Reasoning != nil {
				rb.WriteString(*ch.Delta.Reasoning)
			}
			for _, tc := range ch.Delta.ToolCalls {
				sb.WriteString(tc.Function.Name)
				sb.WriteString(tc.Function.Arguments)
			}
		}
	}
	return sb.String(), rb.String()
}

// nativeText adds what an Anthropic event delivered to the text and the
// reasoning; an event that delivers nothing adds nothing.
func nativeText(line []byte, text, reasoning *strings.Builder) {
	var e nativeEvent
	if json.Unmarshal(line, &e) != nil {
		return
	}
	if e.ContentBlock != nil {
		text.WriteString(e.ContentBlock.Name)
	}
	if e.Delta != nil {
		text.WriteString(e.Delta.Text)
		text.WriteString(e.Delta.PartialJSON)
		reasoning.WriteString(e.Delta.Thinking)
	}
}
