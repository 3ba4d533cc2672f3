package server

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// msgWriter stands in for the client's connection while the chat pipeline
// serves a Messages request, rendering what the pipeline writes in
// Anthropic's shape:
//   - a JSON answer or error is held until the handler returns, then
//     rewritten (finish);
//   - an event stream is translated event by event: OpenAI chunks become
//     content block events, an Anthropic upstream's own events pass through,
//     keep-alive comments become pings. The pipeline writes its usage chunk
//     and [DONE] only after the usage event is durable, and message_delta
//     and message_stop are written from them, so a client sees the end of a
//     message only once it is billed.
type msgWriter struct {
	translated
	requestID string
	native    *nativeAnswer

	// stream state
	started      bool // message_start written
	block        int  // index of the open content block, -1 for none
	blockKind    string
	next         int         // index of the next content block
	tools        map[int]int // OpenAI tool call index → content block index
	finishReason string
	deltaSent    bool // message_delta written
	stopped      bool // message_stop written
	model        string
}

func newMsgWriter(w http.ResponseWriter, native *nativeAnswer) *msgWriter {
	m := &msgWriter{native: native, block: -1, tools: map[int]int{}}
	m.translated.w = w
	// Anthropic's SDKs read request-id.
	m.onStatus = func() {
		m.requestID = m.w.Header().Get("X-Request-Id")
		m.w.Header().Set("Request-Id", m.requestID)
	}
	m.onEvent = m.event
	return m
}

// finish writes a held JSON answer in the Messages shape.
func (m *msgWriter) finish() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stream || m.status == 0 {
		return nil
	}
	body := m.buf.Bytes()
	out := renderError(m.status, body)
	if m.status == http.StatusOK {
		var err error
		if raw := m.native.take(); raw != nil {
			var c oaCompletion
			_ = json.Unmarshal(body, &c)
			out, err = patchNative(raw, m.requestID, c.Model, c.Usage)
		} else {
			out, err = renderMessage(body, m.requestID)
		}
		if err != nil {
			m.status, out = http.StatusBadGateway, msgError(http.StatusBadGateway, "the upstream's answer could not be rendered", nil)
		}
	}
	m.w.Header().Set("Content-Type", "application/json")
	m.w.WriteHeader(m.status)
	_, err := m.w.Write(out)
	return err
}

// send writes one Anthropic event.
func (m *msgWriter) send(typ string, data []byte) error {
	b := make([]byte, 0, len(typ)+len(data)+16)
	b = append(b, "event: "...)
	b = append(b, typ...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	b = append(b, sseEnd...)
	_, err := m.w.Write(b)
	return err
}

func (m *msgWriter) sendJSON(v map[string]any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return m.send(v["type"].(string), b)
}

// event handles one event the pipeline wrote.
func (m *msgWriter) event(ev []byte) error {
	if bytes.HasPrefix(ev, []byte(":")) { // keep-alive comment
		return m.send("ping", []byte(`{"type":"ping"}`))
	}
	data, ok := bytes.CutPrefix(ev, sseData)
	if !ok {
		return nil
	}
	if bytes.Equal(data, []byte("[DONE]")) {
		return m.end(nil)
	}
	var head struct {
		Type   string          `json:"type"`
		Object string          `json:"object"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil
	}
	if head.Type != "" && head.Object == "" {
		return m.passNative(head.Type, data)
	}
	var c oaCompletion
	if err := json.Unmarshal(data, &c); err != nil {
		return nil
	}
	if c.Error != nil {
		typ := msgStreamErrorType(c.Error.Code, c.Error.Metadata)
		return m.send("error", msgErrorOfType(typ, c.Error.Message, c.Error.Metadata))
	}
	if m.model == "" {
		m.model = c.Model
	}
	if err := m.start(); err != nil {
		return err
	}
	if len(c.Choices) == 0 {
		if c.Usage != nil {
			return m.end(c.Usage)
		}
		return nil
	}
	ch := c.Choices[0]
	d := &ch.Delta
	if r := d.reasoning(); r != "" {
		if err := m.open("thinking", map[string]any{"type": "thinking", "thinking": ""}); err != nil {
			return err
		}
		if err := m.delta(map[string]any{"type": "thinking_delta", "thinking": r}); err != nil {
			return err
		}
	}
	if d.Content != nil && *d.Content != "" {
		if err := m.open("text", map[string]any{"type": "text", "text": ""}); err != nil {
			return err
		}
		if err := m.delta(map[string]any{"type": "text_delta", "text": *d.Content}); err != nil {
			return err
		}
	}
	for _, tc := range d.ToolCalls {
		idx := 0
		if tc.Index != nil {
			idx = *tc.Index
		}
		blk, known := m.tools[idx]
		if !known || tc.ID != "" && m.block != blk {
			if err := m.closeBlock(); err != nil {
				return err
			}
			blk = m.next
			m.tools[idx] = blk
			if err := m.openAt("tool_use", map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Function.Name, "input": map[string]any{}}); err != nil {
				return err
			}
		}
		if tc.Function.Arguments != "" {
			if err := m.deltaAt(blk, map[string]any{"type": "input_json_delta", "partial_json": tc.Function.Arguments}); err != nil {
				return err
			}
		}
	}
	if ch.FinishReason != nil && *ch.FinishReason != "" {
		m.finishReason = *ch.FinishReason
		if err := m.closeBlock(); err != nil {
			return err
		}
	}
	if c.Usage != nil {
		return m.end(c.Usage)
	}
	return nil
}

func (m *msgWriter) start() error {
	if m.started {
		return nil
	}
	m.started = true
	return m.sendJSON(map[string]any{"type": "message_start", "message": map[string]any{
		"id": messageID(m.requestID), "type": "message", "role": "assistant", "model": m.model,
		"content": []any{}, "stop_reason": nil, "stop_sequence": nil,
		"usage": msgUsage{},
	}})
}

// open makes sure a block of kind is the open one.
func (m *msgWriter) open(kind string, block map[string]any) error {
	if m.block >= 0 && m.blockKind == kind {
		return nil
	}
	if err := m.closeBlock(); err != nil {
		return err
	}
	return m.openAt(kind, block)
}

func (m *msgWriter) openAt(kind string, block map[string]any) error {
	m.block, m.blockKind = m.next, kind
	m.next++
	return m.sendJSON(map[string]any{"type": "content_block_start", "index": m.block, "content_block": block})
}

func (m *msgWriter) closeBlock() error {
	if m.block < 0 {
		return nil
	}
	i := m.block
	m.block, m.blockKind = -1, ""
	return m.sendJSON(map[string]any{"type": "content_block_stop", "index": i})
}

func (m *msgWriter) delta(d map[string]any) error { return m.deltaAt(m.block, d) }

func (m *msgWriter) deltaAt(i int, d map[string]any) error {
	return m.sendJSON(map[string]any{"type": "content_block_delta", "index": i, "delta": d})
}

// end writes message_delta (unless an Anthropic upstream's own went out)
// and message_stop, once.
func (m *msgWriter) end(u *oaUsage) error {
	if m.stopped {
		return nil
	}
	if err := m.start(); err != nil {
		return err
	}
	if err := m.closeBlock(); err != nil {
		return err
	}
	if !m.deltaSent {
		m.deltaSent = true
		if err := m.sendJSON(map[string]any{"type": "message_delta",
			"delta": map[string]any{"stop_reason": stopReason(m.finishReason), "stop_sequence": nil},
			"usage": u.messages()}); err != nil {
			return err
		}
	}
	m.stopped = true
	return m.send("message_stop", []byte(`{"type":"message_stop"}`))
}

// passNative relays an event of an Anthropic upstream's own stream. Its
// message_stop is held back by the adapter and written by end.
func (m *msgWriter) passNative(typ string, data []byte) error {
	switch typ {
	case "message_start":
		m.started = true
	case "message_delta":
		m.deltaSent = true
	case "error":
		return m.send("error", data)
	}
	return m.send(typ, data)
}
