package anthropic

import (
	"io"
	"time"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/internal/core"
)

// event is any Messages stream event; only the fields of its type are set.
type event struct {
	Type         string        `json:"type"`
	Message      *response     `json:"message"`
	Index        int           `json:"index"`
	ContentBlock *contentBlock `json:"content_block"`
	Delta        *struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		Thinking    string `json:"thinking"`
		Signature   string `json:"signature"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Usage *usage `json:"usage"`
}

const (
	blockOther    = iota // anything unknown: not relayed
	blockThinking        // relayed as delta.reasoning and reasoning_details, as OpenRouter does
	blockText
	blockTool     // a tool call whose arguments have not begun
	blockToolArgs // a tool call whose arguments have begun
	blockJSON     // the forced structured-output tool: relayed as content
	blockJSONArgs // the forced tool, its JSON begun
)

type stream struct {
	core.Body
	jsonTool string
	w        core.ChunkWriter
	kinds    map[int]int // content block index → kind
	toolIdx  map[int]int // content block index → OpenAI tool call index
	tools    int
	thoughts map[int]int // thinking block index → its reasoning_details index
	usage    usage
	// reported: a message_delta's usage came and no content after it. It
	// comes after every content block with the cumulative output count,
	// so it counts all that was delivered even if message_stop never does.
	reported bool
	done     bool
	finish   string
	native   string // Anthropic's own stop_reason
	// stops are the stop sequences the gateway applies (splitStops); held
	// is text kept back that may begin one, and stopped says one was met:
	// the next chunk is the finish, and the stream ends there.
	stops   []string
	held    string
	stopped bool
}

func newStream(provider, model, jsonTool string, body io.ReadCloser) *stream {
	return &stream{Body: core.NewBody(provider, body), jsonTool: jsonTool,
		w: core.ChunkWriter{Model: model, Created: time.Now().Unix()}, kinds: map[int]int{}, toolIdx: map[int]int{}, thoughts: map[int]int{}}
}

func (s *stream) SetIdentity(id string, created int64) { s.w.ID, s.w.Created = id, created }

func (s *stream) Usage() (chat.Usage, bool) { return s.usage.openAI(), s.done || s.reported }

func (s *stream) FinishReason() string { return s.finish }

// NativeFinishReason is Anthropic's own stop_reason (end_turn, max_tokens…).
func (s *stream) NativeFinishReason() string { return s.native }

// thought is a chunk of thinking block i: text, or the block's signature.
func (s *stream) thought(i int, text, signature string) []byte {
	return s.w.ReasoningDetail(0, chat.ReasoningDetail{Type: chat.ReasoningText, Text: text, Signature: signature,
		Format: chat.FormatAnthropic, Index: s.thoughts[i]})
}

func (s *stream) Next() ([]byte, error) {
	for {
		if s.stopped && s.finish == "" {
			s.finish, s.native = chat.FinishStop, "stop_sequence"
			s.Err = io.EOF
			return s.w.Finish(0, s.finish, s.native), nil
		}
		if s.Err != nil {
			return nil, s.Err
		}
		data, err := s.Event()
		if err != nil {
			s.Err = core.Cut(s.Provider, err)
			return nil, s.Err
		}
		out, err := s.translate(data)
		if err != nil {
			s.Err = err
			return nil, err // io.EOF after message_stop
		}
		if out != nil {
			return out, nil
		}
	}
}

// translate maps one event to a chunk, or nil for events with none.
func (s *stream) translate(data []byte) ([]byte, error) {
	var e event
	if err := fastjson.Unmarshal(data, &e); err != nil {
		return nil, core.BadResponse(s.Provider, err)
	}
	switch e.Type {
	case "message_start":
		if e.Message != nil {
			if s.w.ID == "" {
				s.w.ID = e.Message.ID
			}
			s.usage = e.Message.Usage
		}
		return s.w.Role(0), nil
	case "content_block_start":
		s.reported = false
		if e.ContentBlock == nil {
			return nil, nil
		}
		switch e.ContentBlock.Type {
		case "thinking":
			s.kinds[e.Index] = blockThinking
			s.thoughts[e.Index] = len(s.thoughts)
			if e.ContentBlock.Thinking != "" || e.ContentBlock.Signature != "" {
				return s.thought(e.Index, e.ContentBlock.Thinking, e.ContentBlock.Signature), nil
			}
		case "redacted_thinking":
			s.thoughts[e.Index] = len(s.thoughts)
			return s.w.ReasoningDetail(0, chat.ReasoningDetail{Type: chat.ReasoningEncrypted, Data: e.ContentBlock.Data,
				Format: chat.FormatAnthropic, Index: s.thoughts[e.Index]}), nil
		case "text":
			s.kinds[e.Index] = blockText
			if e.ContentBlock.Text != "" {
				return s.text(e.ContentBlock.Text), nil
			}
		case "tool_use":
			if s.jsonTool != "" && e.ContentBlock.Name == s.jsonTool {
				s.kinds[e.Index] = blockJSON
				return nil, nil
			}
			s.kinds[e.Index] = blockTool
			s.toolIdx[e.Index] = s.tools
			s.tools++
			return s.w.ToolStart(0, s.toolIdx[e.Index], e.ContentBlock.ID, e.ContentBlock.Name, ""), nil
		}
		return nil, nil
	case "content_block_delta":
		s.reported = false
		if e.Delta == nil {
			return nil, nil
		}
		switch s.kinds[e.Index] {
		case blockThinking:
			if e.Delta.Type == "thinking_delta" && e.Delta.Thinking != "" {
				return s.thought(e.Index, e.Delta.Thinking, ""), nil
			}
			if e.Delta.Type == "signature_delta" && e.Delta.Signature != "" {
				return s.thought(e.Index, "", e.Delta.Signature), nil
			}
		case blockText:
			if e.Delta.Type == "text_delta" && e.Delta.Text != "" {
				return s.text(e.Delta.Text), nil
			}
		case blockJSON, blockJSONArgs:
			if e.Delta.PartialJSON != "" {
				s.kinds[e.Index] = blockJSONArgs
				return s.w.Content(0, e.Delta.PartialJSON), nil
			}
		case blockTool, blockToolArgs:
			if e.Delta.PartialJSON != "" {
				s.kinds[e.Index] = blockToolArgs
				return s.w.ToolArgs(0, s.toolIdx[e.Index], e.Delta.PartialJSON), nil
			}
		}
		return nil, nil
	case "content_block_stop":
		// A call of a tool without arguments streams no JSON (or only
		// ""): its arguments are {}, as the OpenAI SDKs must parse them.
		// So does the forced tool whose input is the empty object: the
		// content is "{}", as in the unary answer.
		switch s.kinds[e.Index] {
		case blockText:
			if s.held != "" {
				held := s.held
				s.held = ""
				return s.w.Content(0, held), nil
			}
		case blockTool:
			s.kinds[e.Index] = blockToolArgs
			return s.w.ToolArgs(0, s.toolIdx[e.Index], "{}"), nil
		case blockJSON:
			s.kinds[e.Index] = blockJSONArgs
			return s.w.Content(0, "{}"), nil
		}
		return nil, nil
	case "message_delta":
		if e.Usage != nil {
			s.usage.takeDelta(e.Usage)
			s.reported = true
		}
		if e.Delta != nil && e.Delta.StopReason != "" {
			s.finish, s.native = finishReason(e.Delta.StopReason, s.jsonTool), e.Delta.StopReason
			return s.w.Finish(0, s.finish, e.Delta.StopReason), nil
		}
		return nil, nil
	case "message_stop":
		s.done = true
		return nil, io.EOF
	case "error":
		return nil, core.StreamError(s.Provider, errorStatus(data), data)
	}
	return nil, nil // ping, and event types added later
}

// text is the chunk of a piece of the answer's text, or nil when all of
// it is kept back. Where one of the stop sequences the gateway applies
// begins, the text ends: the chunk carries what came before it, and the
// stream ends after it (Next gives the finish, then io.EOF, and the
// upstream is closed without its final usage: the gateway counts what was
// delivered).
func (s *stream) text(t string) []byte {
	if len(s.stops) == 0 {
		return s.w.Content(0, t)
	}
	t, s.held = s.held+t, ""
	if at := stopAt(t, s.stops); at >= 0 {
		s.stopped = true
		if at == 0 {
			return nil
		}
		return s.w.Content(0, t[:at])
	}
	n := len(t) - heldBack(t, s.stops)
	s.held = t[n:]
	if n == 0 {
		return nil
	}
	return s.w.Content(0, t[:n])
}

// errorStatus maps an in-stream error type to the HTTP status Anthropic
// uses for it.
func errorStatus(data []byte) int {
	var e struct {
		Error struct {
			Type string `json:"type"`
		} `json:"error"`
	}
	_ = fastjson.Unmarshal(data, &e)
	switch e.Error.Type {
	case "overloaded_error":
		return 529
	case "rate_limit_error":
		return 429
	case "invalid_request_error":
		return 400
	}
	return 500
}
