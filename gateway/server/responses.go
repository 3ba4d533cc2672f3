package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/gateway/chat"
)

// POST /api/v1/responses serves OpenAI's Responses API (OpenRouter's beta
// of it), so that the OpenAI SDKs' responses.create works against
// RouteFree.
//
// As a Messages request does, a Responses request runs through the chat
// pipeline (key, rate limits, credit hold, routing with failover, durable
// usage event before the last bytes): the request is translated to the
// chat shape, and respWriter renders the pipeline's answer as a response
// object or its stream of typed events. It is stateless: nothing is
// stored, so previous_response_id and conversation are refused.

func (s *Server) responses(c echo.Context) error {
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
	if ae := checkBody(body); ae != nil {
		return writeAPIError(c, known.refuse(ae))
	}
	chatBody, echo, ae := parseResponses(body)
	if ae != nil {
		return writeAPIError(c, known.refuse(ae))
	}
	r.Body = io.NopCloser(bytes.NewReader(chatBody))
	r.ContentLength = int64(len(chatBody))

	return s.throughChat(c, newRespWriter(c.Response().Writer, echo), func(err error) error { return err })
}

// respWriter stands in for the client's connection while the chat pipeline
// serves a Responses request:
//   - a JSON answer or error is held until the handler returns, then
//     rewritten (finish); errors keep the gateway's shape;
//   - an event stream is translated chunk by chunk into Responses events,
//     each with its sequence_number. The pipeline writes its usage chunk
//     only once the usage event is durable, and response.completed is
//     written from it, so a client sees the end only once it is billed.
//     An error chunk (the upstream broke the stream) becomes
//     response.failed and an error event, which the SDKs raise.
type respWriter struct {
	translated
	echo respObject

	// stream state
	ids          respIDs
	seq          int
	started      bool
	ended        bool
	created      int64
	model        string
	output       []any       // *respMessageItem, *respReasoningItem, *respFunctionCall
	open         int         // index in output of the open message or reasoning item, -1 for none
	calls        map[int]int // chat tool call index → index in output
	pending      []int       // function calls not yet done, in order
	finishReason string
}

func newRespWriter(w http.ResponseWriter, echo respObject) *respWriter {
	rw := &respWriter{echo: echo, open: -1, calls: map[int]int{}}
	rw.translated.w = w
	rw.onStatus = func() { rw.ids = newRespIDs(rw.w.Header().Get("X-Request-Id")) }
	rw.onEvent = rw.event
	return rw
}

// finish writes a held JSON answer: a response object, or the error as the
// gateway wrote it.
func (rw *respWriter) finish() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.stream || rw.status == 0 {
		return nil
	}
	out := respErrorBody(rw.buf.Bytes())
	if rw.status == http.StatusOK {
		var err error
		if out, err = renderResponse(rw.buf.Bytes(), rw.ids, rw.echo); err != nil {
			rw.status = http.StatusBadGateway
			out, _ = json.Marshal(map[string]any{"error": map[string]any{"code": http.StatusBadGateway,
				"message": "the upstream's answer could not be rendered", "metadata": map[string]any{}}})
		}
	}
	rw.w.Header().Set("Content-Type", "application/json")
	rw.w.WriteHeader(rw.status)
	_, err := rw.w.Write(out)
	return err
}

// send writes one event, numbered.
func (rw *respWriter) send(typ string, ev map[string]any) error {
	ev["type"], ev["sequence_number"] = typ, rw.seq
	rw.seq++
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	b := make([]byte, 0, len(typ)+len(data)+16)
	b = append(b, "event: "...)
	b = append(b, typ...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	b = append(b, sseEnd...)
	_, err = rw.w.Write(b)
	return err
}

// event handles one event the pipeline wrote.
func (rw *respWriter) event(ev []byte) error {
	if bytes.HasPrefix(ev, []byte(":")) { // keep-alive comment, as it is
		_, err := rw.w.Write(append(ev, sseEnd...))
		return err
	}
	data, ok := bytes.CutPrefix(ev, sseData)
	if !ok || rw.ended {
		return nil
	}
	if bytes.Equal(data, []byte("[DONE]")) {
		return rw.end(nil)
	}
	var c respChat
	if err := json.Unmarshal(data, &c); err != nil {
		return nil
	}
	if rw.model == "" {
		rw.model, rw.created = c.Model, c.Created
	}
	if err := rw.start(); err != nil {
		return err
	}
	if c.Error != nil {
		return rw.fail(c.Error.Message, c.Error.Metadata, data)
	}
	if len(c.Choices) > 0 {
		ch := c.Choices[0]
		d := &ch.Delta
		if r := d.reasoning(); r != "" {
			if err := rw.reasoningDelta(r); err != nil {
				return err
			}
		}
		if d.Content != nil && *d.Content != "" {
			if err := rw.textDelta(*d.Content); err != nil {
				return err
			}
		}
		for _, tc := range d.ToolCalls {
			if err := rw.callDelta(tc); err != nil {
				return err
			}
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			rw.finishReason = *ch.FinishReason
		}
	}
	if c.Usage != nil {
		return rw.end(c.Usage)
	}
	return nil
}

// snapshot is the response as it stands.
func (rw *respWriter) snapshot(status string) *respObject {
	o := rw.echo
	o.ID, o.CreatedAt, o.Model, o.Status, o.Output = rw.ids.response(), rw.created, rw.model, status, rw.output
	if o.Output == nil {
		o.Output = []any{}
	}
	return &o
}

func (rw *respWriter) start() error {
	if rw.started {
		return nil
	}
	rw.started = true
	if err := rw.send("response.created", map[string]any{"response": rw.snapshot("in_progress")}); err != nil {
		return err
	}
	return rw.send("response.in_progress", map[string]any{"response": rw.snapshot("in_progress")})
}

// openItem makes the open item one of kind, opening it with its first
// content part if needed; it returns its index.
func (rw *respWriter) openItem(kind string) (int, error) {
	if rw.open >= 0 {
		if _, isMsg := rw.output[rw.open].(*respMessageItem); isMsg == (kind == "message") {
			return rw.open, nil
		}
		if err := rw.closeOpen("completed"); err != nil {
			return 0, err
		}
	}
	i := len(rw.output)
	var part any
	switch kind {
	case "message":
		item := &respMessageItem{Type: "message", ID: rw.ids.item("msg", i), Status: "in_progress", Role: "assistant", Content: []respOutputPart{}}
		rw.output = append(rw.output, item)
		if err := rw.send("response.output_item.added", map[string]any{"output_index": i, "item": item}); err != nil {
			return 0, err
		}
		item.Content = append(item.Content, respOutputPart{Type: "output_text"})
		part = item.Content[0]
	default:
		item := &respReasoningItem{Type: "reasoning", ID: rw.ids.item("rs", i), Content: []respReasoningText{}}
		rw.output = append(rw.output, item)
		if err := rw.send("response.output_item.added", map[string]any{"output_index": i, "item": item}); err != nil {
			return 0, err
		}
		item.Content = append(item.Content, respReasoningText{Type: "reasoning_text"})
		part = item.Content[0]
	}
	rw.open = i
	return i, rw.send("response.content_part.added", map[string]any{"item_id": rw.itemID(i), "output_index": i, "content_index": 0, "part": part})
}

func (rw *respWriter) itemID(i int) string {
	switch it := rw.output[i].(type) {
	case *respMessageItem:
		return it.ID
	case *respReasoningItem:
		return it.ID
	case *respFunctionCall:
		return it.ID
	}
	return ""
}

func (rw *respWriter) textDelta(s string) error {
	i, err := rw.openItem("message")
	if err != nil {
		return err
	}
	item := rw.output[i].(*respMessageItem)
	item.Content[0].Text += s
	return rw.send("response.output_text.delta", map[string]any{"item_id": item.ID, "output_index": i, "content_index": 0, "delta": s, "logprobs": []any{}})
}

func (rw *respWriter) reasoningDelta(s string) error {
	i, err := rw.openItem("reasoning")
	if err != nil {
		return err
	}
	item := rw.output[i].(*respReasoningItem)
	item.Content[0].Text += s
	return rw.send("response.reasoning_text.delta", map[string]any{"item_id": item.ID, "output_index": i, "content_index": 0, "delta": s})
}

// callDelta opens a function call item for a new tool call, and adds its
// arguments as they come. Calls stay open until the answer ends: a
// stream may carry several at once.
func (rw *respWriter) callDelta(tc oaToolCall) error {
	idx := 0
	if tc.Index != nil {
		idx = *tc.Index
	}
	i, known := rw.calls[idx]
	if !known || tc.ID != "" && rw.output[i].(*respFunctionCall).CallID != tc.ID {
		if err := rw.closeOpen("completed"); err != nil {
			return err
		}
		i = len(rw.output)
		item := &respFunctionCall{Type: "function_call", ID: rw.ids.item("fc", i), CallID: tc.ID, Name: tc.Function.Name, Status: "in_progress"}
		rw.output = append(rw.output, item)
		rw.calls[idx] = i
		rw.pending = append(rw.pending, i)
		if err := rw.send("response.output_item.added", map[string]any{"output_index": i, "item": item}); err != nil {
			return err
		}
	}
	if tc.Function.Arguments == "" {
		return nil
	}
	item := rw.output[i].(*respFunctionCall)
	item.Arguments += tc.Function.Arguments
	return rw.send("response.function_call_arguments.delta", map[string]any{"item_id": item.ID, "output_index": i, "delta": tc.Function.Arguments})
}

// closeOpen ends the open message or reasoning item with status.
func (rw *respWriter) closeOpen(status string) error {
	i := rw.open
	if i < 0 {
		return nil
	}
	rw.open = -1
	switch item := rw.output[i].(type) {
	case *respMessageItem:
		p := item.Content[0]
		if err := rw.send("response.output_text.done", map[string]any{"item_id": item.ID, "output_index": i, "content_index": 0, "text": p.Text, "logprobs": []any{}}); err != nil {
			return err
		}
		if err := rw.send("response.content_part.done", map[string]any{"item_id": item.ID, "output_index": i, "content_index": 0, "part": p}); err != nil {
			return err
		}
		item.Status = status
	case *respReasoningItem:
		p := item.Content[0]
		if err := rw.send("response.reasoning_text.done", map[string]any{"item_id": item.ID, "output_index": i, "content_index": 0, "text": p.Text}); err != nil {
			return err
		}
		if err := rw.send("response.content_part.done", map[string]any{"item_id": item.ID, "output_index": i, "content_index": 0, "part": p}); err != nil {
			return err
		}
	}
	return rw.send("response.output_item.done", map[string]any{"output_index": i, "item": rw.output[i]})
}

// closeCalls ends the function calls still open.
func (rw *respWriter) closeCalls() error {
	for _, i := range rw.pending {
		item := rw.output[i].(*respFunctionCall)
		if err := rw.send("response.function_call_arguments.done", map[string]any{"item_id": item.ID, "output_index": i, "name": item.Name, "arguments": item.Arguments}); err != nil {
			return err
		}
		item.Status = "completed"
		if err := rw.send("response.output_item.done", map[string]any{"output_index": i, "item": item}); err != nil {
			return err
		}
	}
	rw.pending = nil
	return nil
}

// end closes every item and writes response.completed (or
// response.incomplete when the output limit cut the answer), once.
func (rw *respWriter) end(u *chat.Usage) error {
	if rw.ended {
		return nil
	}
	if err := rw.start(); err != nil {
		return err
	}
	status, incomplete := respStatus(rw.finishReason)
	// An answer with no text and no call still has its (empty) message,
	// as the unary answer has.
	if len(rw.output) == 0 {
		if _, err := rw.openItem("message"); err != nil {
			return err
		}
	}
	if err := rw.closeOpen(status); err != nil {
		return err
	}
	if err := rw.closeCalls(); err != nil {
		return err
	}
	rw.ended = true
	o := rw.snapshot(status)
	o.IncompleteDetails = incomplete
	o.CompletedAt = respCompletedAt(status)
	o.Usage = respUsageOf(u)
	typ := "response.completed"
	if status == "incomplete" {
		typ = "response.incomplete"
	}
	return rw.send(typ, map[string]any{"response": o})
}

// fail ends a stream the upstream (or the gateway) broke after the 200:
// response.failed with what was delivered, then an error event whose
// error is the gateway's own error object (code, message, metadata), on
// which the OpenAI SDKs throw, as they do on a chat stream's error chunk.
func (rw *respWriter) fail(msg string, metadata json.RawMessage, chunk []byte) error {
	rw.ended = true
	var md struct {
		ErrorType string `json:"error_type"`
	}
	_ = json.Unmarshal(metadata, &md)
	code := "server_error"
	if md.ErrorType == "rate_limit_exceeded" {
		code = md.ErrorType
	}
	for _, it := range rw.output {
		switch item := it.(type) {
		case *respMessageItem:
			item.Status = "incomplete"
		case *respFunctionCall:
			item.Status = "incomplete"
		}
	}
	o := rw.snapshot("failed")
	o.Error = &respError{Code: code, Message: msg}
	if err := rw.send("response.failed", map[string]any{"response": o}); err != nil {
		return err
	}
	var whole struct {
		Error json.RawMessage `json:"error"`
	}
	_ = json.Unmarshal(chunk, &whole)
	return rw.send("error", map[string]any{"code": code, "message": msg, "param": nil, "error": whole.Error})
}
