package gemini

import (
	"io"
	"time"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/internal/core"
)

// stream translates alt=sse events. Gemini repeats the usage so far on
// every event, so only the last report counts; it has no end marker, so a
// clean end is one where every candidate gave a finish reason.
type stream struct {
	core.Body
	w        core.ChunkWriter
	pending  [][]byte // chunks from one event still to hand out
	started  map[int]bool
	open     int // candidates started and not finished
	want     int // candidates asked for (the request's n)
	tools    map[int]int
	details  map[int]int // reasoning_details sent, by candidate
	usage    usageMetadata
	hasUsage bool
	finished bool
	finish   string
	native   string // Gemini's own finishReason (or a blocked prompt's blockReason)
	// oneCall keeps only each candidate's first function call: the
	// client sent parallel_tool_calls false (see keepFirstCall).
	oneCall bool
}

func newStream(provider, model string, candidates int, body io.ReadCloser) *stream {
	return &stream{Body: core.NewBody(provider, body), want: candidates,
		w: core.ChunkWriter{Model: model, Created: time.Now().Unix()}, started: map[int]bool{}, tools: map[int]int{}, details: map[int]int{}}
}

func (s *stream) SetIdentity(id string, created int64) { s.w.ID, s.w.Created = id, created }

// nextDetail numbers a candidate's reasoning_details.
func (s *stream) nextDetail(candidate int) int {
	n := s.details[candidate]
	s.details[candidate] = n + 1
	return n
}

// Usage is final once every candidate finished: with n > 1 one finishes
// while another still writes, and a report then does not count what the
// other writes after it. A stream that ended cleanly (Next's io.EOF) is
// final whatever number of candidates came.
func (s *stream) Usage() (chat.Usage, bool) {
	whole := s.finished && s.open == 0 && (s.Err == io.EOF || len(s.started) >= s.want)
	return s.usage.openAI(), s.hasUsage && whole
}

func (s *stream) FinishReason() string { return s.finish }

// NativeFinishReason is Gemini's own reason (STOP, MAX_TOKENS, SAFETY…).
func (s *stream) NativeFinishReason() string { return s.native }

// Pending: a chunk left from the last event, or a whole event buffered.
func (s *stream) Pending() bool { return len(s.pending) > 0 || s.Body.Pending() }

func (s *stream) Next() ([]byte, error) {
	for {
		if len(s.pending) > 0 {
			out := s.pending[0]
			s.pending = s.pending[1:]
			return out, nil
		}
		if s.Err != nil {
			return nil, s.Err
		}
		data, err := s.Event()
		if err != nil {
			if err == io.EOF && s.finished && s.open == 0 {
				s.Err = io.EOF
			} else {
				s.Err = core.Cut(s.Provider, err)
			}
			continue
		}
		if err := s.translate(data); err != nil {
			s.Err = err
		}
	}
}

func (s *stream) emit(b []byte) { s.pending = append(s.pending, append([]byte(nil), b...)) }

func (s *stream) translate(data []byte) error {
	var r response
	if err := fastjson.Unmarshal(data, &r); err != nil {
		return core.BadResponse(s.Provider, err)
	}
	if r.Error != nil {
		wrapped := append([]byte(`{"error":`), *r.Error...)
		return core.StreamError(s.Provider, errorStatus(*r.Error), append(wrapped, '}'))
	}
	if s.w.ID == "" {
		s.w.ID = r.ResponseID
	}
	if r.UsageMetadata != nil {
		s.usage, s.hasUsage = *r.UsageMetadata, true // cumulative: the last one wins
	}
	for _, c := range r.Candidates {
		if !s.started[c.Index] {
			s.started[c.Index] = true
			s.open++
			s.emit(s.w.Role(c.Index))
		}
		calls := false
		for i := range c.Content.Parts {
			p := &c.Content.Parts[i]
			id := ""
			switch {
			case p.FunctionCall != nil && s.oneCall && s.tools[c.Index] > 0:
				continue // a further call, and its signature, left out
			case p.FunctionCall != nil:
				calls = true
				idx := s.tools[c.Index]
				s.tools[c.Index] = idx + 1
				id = callID(p.FunctionCall)
				s.emit(s.w.ToolStart(c.Index, idx, id, p.FunctionCall.Name, args(p.FunctionCall)))
			case p.Thought && p.Text != "":
				s.emit(s.w.ReasoningDetail(c.Index, chat.ReasoningDetail{Type: chat.ReasoningText, Text: p.Text,
					Format: chat.FormatGemini, Index: s.nextDetail(c.Index)}))
			case p.Text != "":
				s.emit(s.w.Content(c.Index, p.Text))
			}
			if p.ThoughtSignature != "" {
				s.emit(s.w.ReasoningDetail(c.Index, signatureDetail(p.ThoughtSignature, id, s.nextDetail(c.Index))))
			}
		}
		if c.FinishReason != "" {
			s.finish, s.native = finishReason(c.FinishReason, calls || s.tools[c.Index] > 0), c.FinishReason
			s.emit(s.w.Finish(c.Index, s.finish, c.FinishReason))
			s.open--
			s.finished = true
		}
	}
	if len(r.Candidates) == 0 && r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
		s.finish, s.native, s.finished = chat.FinishContentFilter, r.PromptFeedback.BlockReason, true
		s.emit(s.w.Role(0))
		s.emit(s.w.Finish(0, s.finish, r.PromptFeedback.BlockReason))
	}
	return nil
}

func errorStatus(raw []byte) int {
	var e struct {
		Code int `json:"code"`
	}
	if fastjson.Unmarshal(raw, &e) == nil && e.Code >= 400 {
		return e.Code
	}
	return 500
}
