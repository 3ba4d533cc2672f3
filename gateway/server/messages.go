package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/gateway/providers"
	"github.com/routefree/routefree/gateway/providers/anthropic"
	"github.com/routefree/routefree/gateway/tokens"
)

// POST /api/v1/messages serves Anthropic's Messages API, so Claude Code and
// the Anthropic SDKs work with ANTHROPIC_BASE_URL pointing at RouteFree.
//
// A Messages request runs through the same pipeline as a chat completion
// (key, rate limits, credit hold, routing with failover, durable usage
// event before the last bytes): the request is translated to the chat
// shape, and msgWriter renders the pipeline's answer back. An Anthropic
// upstream gets the client's own body (anthropic.Native), so thinking
// signatures, cache_control and betas survive; other upstreams get the
// translation.

// ctxAdapters is the echo context key of per-request adapter overrides.
const ctxAdapters = "routefree.adapters"

// adapter returns the adapter for an upstream kind: the request's own
// override if it set one (a Messages request's native relay), else the
// shared one.
func (k *call) adapter(kind string) (providers.Adapter, error) {
	if m, ok := k.c.Get(ctxAdapters).(map[string]providers.Adapter); ok {
		if a := m[kind]; a != nil {
			return a, nil
		}
	}
	return providers.For(kind)
}

// nativeAnswer keeps an Anthropic upstream's own non-streamed answer.
type nativeAnswer struct {
	mu  sync.Mutex
	raw []byte
}

func (n *nativeAnswer) set(b []byte) { n.mu.Lock(); n.raw = b; n.mu.Unlock() }

func (n *nativeAnswer) take() []byte {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	b := n.raw
	n.raw = nil
	return b
}

// useAPIKeyHeader accepts Anthropic's x-api-key as the API key when no
// Authorization header is sent. Each x-api-key line becomes one
// Authorization header, so that two keys are refused as two headers are.
func useAPIKeyHeader(r *http.Request) {
	if r.Header.Get("Authorization") == "" {
		keys := r.Header.Values("X-Api-Key")
		if len(keys) == 1 && strings.TrimSpace(keys[0]) == "" {
			return
		}
		r.Header.Del("Authorization")
		for _, k := range keys {
			r.Header.Add("Authorization", "Bearer "+strings.TrimSpace(k))
		}
	}
}

func writeMsgError(c echo.Context, status int, msg string) error {
	return c.Blob(status, echo.MIMEApplicationJSON, msgError(status, msg, nil))
}

// writeMsgAPIError writes one of the gateway's errors in the Messages shape,
// with its Retry-After when it has one.
func writeMsgAPIError(c echo.Context, ae *APIError) error {
	if ra, ok := ae.Metadata["retry_after_seconds"]; ok {
		c.Response().Header().Set("Retry-After", fmt.Sprint(ra))
	}
	meta, _ := json.Marshal(ae.Metadata)
	return c.Blob(ae.Status, echo.MIMEApplicationJSON, msgError(ae.Status, ae.Message, meta))
}

func (s *Server) messages(c echo.Context) error {
	r := c.Request()
	useAPIKeyHeader(r)
	// The key before a byte of the body, as for chat.
	known, ae := s.keyFirst(c)
	if ae != nil {
		return writeMsgError(c, ae.Status, ae.Message)
	}
	body, err := readBody(c.Response(), r, s.cfg.MaxBodyBytes, s.cfg.BodyReadTimeout)
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			ae = apiErr(http.StatusBadRequest, "invalid_request", "could not read the request body", nil)
		}
		known.refuse(ae)
		return writeMsgError(c, ae.Status, ae.Message)
	}
	if ae := checkBody(body); ae != nil {
		return writeMsgAPIError(c, known.refuse(ae))
	}
	mr, err := parseMessages(body)
	if err != nil {
		known.refuse(apiErr(http.StatusBadRequest, "invalid_request", "", nil))
		return writeMsgError(c, http.StatusBadRequest, err.Error())
	}
	model := catalogModel(s.deps.Router.Catalog(), mr.Model)
	chatBody, err := mr.chatBody(model, s.native(model))
	if err != nil {
		known.refuse(apiErr(http.StatusBadRequest, "invalid_request", "", nil))
		return writeMsgError(c, http.StatusBadRequest, err.Error())
	}
	var answer nativeAnswer
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) == nil {
		delete(fields, "provider") // the gateway's routing, not Anthropic's
		c.Set(ctxAdapters, map[string]providers.Adapter{
			providers.KindAnthropic: &anthropic.Native{Body: fields, Answer: answer.set, Header: http.Header{
				"Anthropic-Version": r.Header.Values("Anthropic-Version"), "Anthropic-Beta": r.Header.Values("Anthropic-Beta")}},
		})
	}
	r.Body = io.NopCloser(bytes.NewReader(chatBody))
	r.ContentLength = int64(len(chatBody))

	return s.throughChat(c, newMsgWriter(c.Response().Writer, &answer), func(err error) error {
		s.cfg.Logger.Error("messages request failed", "err", err)
		return writeMsgError(c, http.StatusInternalServerError, "internal error")
	})
}

// native reports a model with an Anthropic upstream, which gets the
// client's own body: blocks only Anthropic reads are not refused for it.
func (s *Server) native(model string) bool {
	m, ok := variantOf(s.deps.Router.Catalog(), model)
	if !ok {
		return false
	}
	for _, u := range m.Upstreams {
		if u.Kind == providers.KindAnthropic {
			return true
		}
	}
	return false
}

// countTokens answers POST /api/v1/messages/count_tokens with the offline
// tokenizer's count: the same one the gateway bills by when an upstream
// reports no usage. It needs a valid key, takes one of the key's requests
// per minute (no tokens, no credit) and records nothing.
func (s *Server) countTokens(c echo.Context) error {
	r := c.Request()
	useAPIKeyHeader(r)
	k := &call{s: s, c: c, id: newRequestID(), start: s.cfg.Now()}
	if err := k.authenticate(); err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			return writeMsgAPIError(c, ae)
		}
		return err
	}
	body, err := readBody(c.Response(), r, s.cfg.MaxBodyBytes, s.cfg.BodyReadTimeout)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			return writeMsgAPIError(c, ae)
		}
		return writeMsgError(c, http.StatusBadRequest, "could not read the request body")
	}
	if ae := checkBody(body); ae != nil {
		return writeMsgAPIError(c, ae)
	}
	// max_tokens is not part of a count request.
	mr, err := decodeMsgRequest(body)
	if err != nil {
		return writeMsgError(c, http.StatusBadRequest, err.Error())
	}
	if mr.Model == "" || len(mr.Messages) == 0 {
		return writeMsgError(c, http.StatusBadRequest, "model and messages are required")
	}
	if err := mr.checkRoles(); err != nil {
		return writeMsgError(c, http.StatusBadRequest, err.Error())
	}
	// A model variant (":nitro") is counted as its model, and one not
	// offered refused, as /messages does.
	model := catalogModel(s.deps.Router.Catalog(), mr.Model)
	m, ok := s.deps.Router.Catalog().Get(model)
	if !ok {
		var ae *APIError
		if m, ae = k.variant(model, "model"); ae != nil {
			return writeMsgAPIError(c, ae)
		}
		ok = m != nil
	}
	if !ok {
		return writeMsgError(c, http.StatusNotFound, "model "+mr.Model+" does not exist; GET /api/v1/models lists them")
	}
	if !k.key.Allows(m.ID) {
		return writeMsgAPIError(c, apiErr(http.StatusForbidden, "model_not_allowed", "this key may not use "+m.ID, map[string]any{"model": m.ID, "param": "model"}))
	}
	// A body the count cannot read, or one /messages would refuse for this
	// model, is refused before it takes anything from the key's limit, as
	// other calls' refusals are.
	native := s.native(model)
	if _, err := mr.chatMessages(native); err != nil {
		return writeMsgError(c, http.StatusBadRequest, err.Error())
	}
	if err := mr.serverTools(native); err != nil {
		return writeMsgError(c, http.StatusBadRequest, err.Error())
	}
	text, n, err := mr.countInput()
	if err != nil {
		return writeMsgError(c, http.StatusBadRequest, err.Error())
	}
	// A count costs the gateway work in proportion to the body: it takes a
	// request from the key's limit like any other call. It generates no
	// tokens, so it adds none to the key's tokens per minute.
	if err := k.admit(); err != nil {
		var ae *APIError
		errors.As(err, &ae)
		return writeMsgAPIError(c, ae)
	}
	t, err := tokens.CountContext(r.Context(), text)
	if r.Context().Err() != nil {
		// The client left: nobody is waiting for the count, so it stopped.
		return nil
	}
	if err != nil {
		return writeMsgError(c, http.StatusBadRequest, err.Error())
	}
	n += t
	return c.JSON(http.StatusOK, map[string]int{"input_tokens": n})
}

// countInput is what count_tokens counts: the text of the system, every
// text, tool call and tool result and the tool declarations, to tokenize,
// and a fixed allowance per message and per image or document, in tokens.
func (r *msgRequest) countInput() (string, int, error) {
	system, err := blocksText(r.System)
	if err != nil {
		return "", 0, invalidf("system: must be a string or an array of text blocks")
	}
	var b strings.Builder
	b.WriteString(system)
	n := 0
	for i, turn := range r.Messages {
		bs, err := blocks(turn.Content)
		if err != nil {
			return "", 0, invalidf("messages.%d.content: must be a string or an array of content blocks", i)
		}
		n += 4
		for _, bl := range bs {
			switch bl.Type {
			case "text":
				b.WriteString(bl.Text)
			case "thinking":
			case "tool_use":
				b.WriteString(bl.Name)
				b.Write(bl.Input)
			case "tool_result":
				t, _ := blocksText(bl.Content)
				b.WriteString(t)
			case "image", "document":
				n += attachmentTokens
			}
		}
	}
	for _, t := range r.Tools {
		b.WriteString(t.Name)
		b.WriteString(t.Description)
		b.Write(t.InputSchema)
	}
	return b.String(), n, nil
}
