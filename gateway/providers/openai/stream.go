package openai

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"unicode/utf8"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/internal/core"
	"github.com/routefree/routefree/internal/jsonscan"
)

var doneMarker = []byte("[DONE]")

// stream relays OpenAI chunks: each is re-emitted member by member with
// "id", "created" and "model" replaced and "usage" lifted out; nothing
// else is decoded.
type stream struct {
	core.Body
	idJSON    []byte // quoted id, nil to keep the upstream's id and created
	created   int64  // with idJSON: the "created" every chunk carries
	modelJSON []byte // quoted model the client asked for
	out       []byte
	usage     chat.Usage
	hasUsage  bool
	// stale: content was relayed after the last usage report, which so
	// does not count it.
	stale  bool
	finish string
	calls  map[int]*callSlots // by choice index: its tool calls so far
}

func newStream(provider, model string, body io.ReadCloser) *stream {
	return &stream{Body: core.NewBody(provider, body),
		modelJSON: chat.AppendString(nil, model), out: make([]byte, 0, 512)}
}

func (s *stream) SetIdentity(id string, created int64) {
	s.idJSON, s.created = chat.AppendString(s.idJSON[:0], id), created
}

// Usage is final unless content was relayed after the upstream's last
// report: a report older than the content after it (a host that counts on
// its opening chunk) leaves the server to count what was delivered.
func (s *stream) Usage() (chat.Usage, bool) { return s.usage, s.hasUsage && !s.stale }

func (s *stream) FinishReason() string { return s.finish }

// NativeFinishReason: the upstream's finish reason is relayed as it wrote it.
func (s *stream) NativeFinishReason() string { return s.finish }

var replacementChar = []byte(string(utf8.RuneError))

func (s *stream) Next() ([]byte, error) {
	if s.Err != nil {
		return nil, s.Err
	}
	for {
		data, err := s.Event()
		if err != nil {
			s.Err = core.Cut(s.Provider, err)
			return nil, s.Err
		}
		if bytes.Equal(data, doneMarker) {
			s.Err = io.EOF
			return nil, io.EOF
		}
		if !utf8.Valid(data) {
			// Relayed as it came, the chunk must be JSON a strict client
			// reads: mended as the decoder mends a whole answer.
			data = bytes.ToValidUTF8(data, replacementChar)
		}
		out, keep, err := s.rewrite(data)
		if err != nil {
			s.Err = err
			return nil, err
		}
		if keep {
			return out, nil
		}
	}
}

// rewrite re-emits one chunk. It drops a usage-only chunk (keep false)
// after recording its usage: the server sends its own, with the cost.
func (s *stream) rewrite(data []byte) (out []byte, keep bool, err error) {
	b := append(s.out[:0], '{')
	var usage, errorValue []byte
	var written uint8 // the members the gateway writes itself, once seen
	emptyChoices, finishing := false, false
	ok := jsonscan.Members(data, func(m jsonscan.Member) {
		switch string(m.Key) {
		case "usage":
			if m.Value[0] != 'n' {
				usage = m.Value
			}
			return
		case "error":
			if m.Value[0] == 'n' {
				return // a host writing every member: no error, and not relayed
			}
			errorValue = m.Value
		case "choices":
			emptyChoices = isEmptyArray(m.Value)
			finishing = s.noteFinish(m.Value)
			m.Value = renameReasoning(m.Value)
			m.Value = s.numberToolCalls(m.Value)
		case "system_fingerprint":
			if m.Value[0] == 'n' {
				return // OpenRouter's chunks leave an unknown one out, never null
			}
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, m.Key...)
		b = append(b, '"', ':')
		switch {
		case string(m.Key) == "id" && s.idJSON != nil:
			b, written = append(b, s.idJSON...), written|wroteID
		case string(m.Key) == "created" && s.idJSON != nil:
			b, written = strconv.AppendInt(b, s.created, 10), written|wroteCreated
		case string(m.Key) == "object" && s.idJSON != nil:
			b, written = append(b, chunkObject...), written|wroteObject
		case string(m.Key) == "model":
			b, written = append(b, s.modelJSON...), written|wroteModel
		case finishing && string(m.Key) == "choices":
			b = appendNatives(b, m.Value)
		default:
			b = append(b, m.Value...)
		}
	})
	b = s.appendMissing(b, written)
	s.out = b
	if !ok {
		return nil, false, core.BadResponse(s.Provider, errBadChunk)
	}
	if errorValue != nil {
		// A host that ends with an error may still report what it used.
		if usage != nil {
			_ = s.noteUsage(usage)
		}
		wrapped := append([]byte(`{"error":`), errorValue...)
		return nil, false, core.StreamError(s.Provider, 0, append(wrapped, '}')) // its status read from the event
	}
	if usage != nil {
		if err := s.noteUsage(usage); err != nil {
			return nil, false, err
		}
		if emptyChoices {
			return nil, false, nil
		}
	} else if s.hasUsage && !s.stale && delivers(data) {
		s.stale = true
	}
	return append(b, '}'), true, nil
}

// delivers reports whether a chunk's choices carry anything in their
// deltas beyond the role: content, reasoning, a tool call. Only asked of
// chunks after a usage report, which OpenAI's own streams send last.
func delivers(chunk []byte) bool {
	found := false
	jsonscan.Members(chunk, func(m jsonscan.Member) {
		if string(m.Key) != "choices" {
			return
		}
		jsonscan.Elements(m.Value, func(c []byte) {
			jsonscan.Members(c, func(f jsonscan.Member) {
				if string(f.Key) != "delta" {
					return
				}
				jsonscan.Members(f.Value, func(d jsonscan.Member) {
					found = found || string(d.Key) != "role" && len(d.Value) > 2 && string(d.Value) != "null"
				})
			})
		})
	})
	return found
}

// noteUsage records a usage report, which counts every chunk so far.
func (s *stream) noteUsage(usage []byte) error {
	var w wireUsage
	if err := fastjson.Unmarshal(usage, &w); err != nil {
		return core.BadResponse(s.Provider, err)
	}
	s.usage, s.hasUsage, s.stale = w.normalize(), true, false
	return nil
}

// The members every chunk carries as OpenRouter's schema requires them:
// the gateway's id, created and model, and object "chat.completion.chunk".
// Azure opens a stream with a chunk of its content filter's results whose
// id, model and object are empty, and some hosts leave object or created
// out; OpenRouter's SDK refuses a chunk without them.
const (
	wroteID uint8 = 1 << iota
	wroteCreated
	wroteObject
	wroteModel
)

var chunkObject = []byte(`"chat.completion.chunk"`)

// appendMissing adds, after a chunk's own members, those of the gateway's
// that the upstream's chunk lacked.
func (s *stream) appendMissing(b []byte, written uint8) []byte {
	if s.idJSON != nil {
		if written&wroteID == 0 {
			b = append(member(b, `"id":`), s.idJSON...)
		}
		if written&wroteCreated == 0 {
			b = strconv.AppendInt(member(b, `"created":`), s.created, 10)
		}
		if written&wroteObject == 0 {
			b = append(member(b, `"object":`), chunkObject...)
		}
	}
	if written&wroteModel == 0 {
		b = append(member(b, `"model":`), s.modelJSON...)
	}
	return b
}

// member starts a member of the object b opens: a comma after another.
func member(b []byte, key string) []byte {
	if len(b) > 1 {
		b = append(b, ',')
	}
	return append(b, key...)
}

var finishKey = []byte(`"finish_reason":`)

var (
	reasoningContentMember = []byte(`"reasoning_content":`)
	reasoningMember        = []byte(`"reasoning":`)
)

// renameReasoning gives DeepSeek-style delta.reasoning_content OpenRouter's
// name, delta.reasoning, unless the chunk already has one. As in
// noteFinish, a key pattern cannot match inside a string value.
func renameReasoning(choices []byte) []byte {
	if !bytes.Contains(choices, reasoningContentMember) || bytes.Contains(choices, reasoningMember) {
		return choices
	}
	return bytes.ReplaceAll(choices, reasoningContentMember, reasoningMember)
}

// noteFinish records the last non-null finish_reason inside choices and
// reports whether there is one. A string value never contains an unescaped
// quote, so the key pattern cannot match inside content.
func (s *stream) noteFinish(choices []byte) bool {
	found := false
	for i := 0; ; {
		k := bytes.Index(choices[i:], finishKey)
		if k < 0 {
			return found
		}
		i = jsonscan.Space(choices, i+k+len(finishKey))
		if i >= len(choices) || choices[i] != '"' {
			continue
		}
		end := jsonscan.String(choices, i)
		if end < 0 {
			return found
		}
		s.setFinish(choices[i+1 : end-1])
		found, i = true, end
	}
}

// setFinish records a finish reason, without an allocation for OpenAI's.
func (s *stream) setFinish(v []byte) {
	switch string(v) {
	case chat.FinishStop:
		s.finish = chat.FinishStop
	case chat.FinishLength:
		s.finish = chat.FinishLength
	case chat.FinishToolCalls:
		s.finish = chat.FinishToolCalls
	case chat.FinishContentFilter:
		s.finish = chat.FinishContentFilter
	default:
		s.finish = string(v)
	}
}

var nativeMember = []byte(`,"native_finish_reason":`)

// appendNatives appends a chunk's choices, giving each choice that ends
// with a finish_reason and has no native_finish_reason one equal to it, as
// OpenRouter's chunks have it; an upstream's own (another OpenRouter's) is
// kept. Only the chunk that ends a choice comes here.
func appendNatives(b, choices []byte) []byte {
	last := 0
	i := jsonscan.Space(choices, 1)
	for i < len(choices) && choices[i] == '{' {
		j := jsonscan.Value(choices, i)
		if j < 0 {
			break
		}
		var reason []byte
		native := false
		well := jsonscan.Members(choices[i:j], func(m jsonscan.Member) {
			switch string(m.Key) {
			case "finish_reason":
				reason = m.Value
			case "native_finish_reason":
				native = true
			}
		})
		if well && !native && len(reason) > 0 && reason[0] == '"' {
			b = append(b, choices[last:j-1]...)
			b = append(append(b, nativeMember...), reason...)
			last = j - 1
		}
		i = jsonscan.Space(choices, j)
		if i < len(choices) && choices[i] == ',' {
			i = jsonscan.Space(choices, i+1)
		}
	}
	return append(b, choices[last:]...)
}

func isEmptyArray(v []byte) bool {
	return len(v) >= 2 && v[0] == '[' && jsonscan.Space(v, 1) == len(v)-1
}

type chunkError string

func (e chunkError) Error() string { return string(e) }

const errBadChunk = chunkError("chunk is not a JSON object")

var toolCallsMember = []byte(`"tool_calls":`)

// callSlots follows one choice's streamed tool calls: how many have
// opened, and the index and id of the current one.
type callSlots struct {
	n, cur int
	curID  string
}

// seen notes a delta that came with its index.
func (c *callSlots) seen(i int, id string) {
	c.n, c.cur = max(c.n, i+1), i
	if id != "" {
		c.curID = id
	}
}

// next is the index of a delta that came without one: an id not the
// current call's opens the next call; no id, or the same, continues it.
func (c *callSlots) next(id string) int {
	if c.n == 0 || id != "" && id != c.curID {
		c.cur, c.curID = c.n, id
		c.n++
	}
	return c.cur
}

// numberToolCalls gives each streamed tool-call delta its "index", as
// OpenAI's schema requires and OpenRouter's streams always have, where the
// upstream left it out (Mistral's API, SGLang, Gemini's OpenAI-compatible
// endpoint): SDKs join a call's pieces by it, and without it drop calls or
// merge them into one. Chunks with every index in place are left as sent.
func (s *stream) numberToolCalls(choices []byte) []byte {
	if !bytes.Contains(choices, toolCallsMember) || s.noteIndexed(choices) {
		return choices
	}
	var cs []map[string]json.RawMessage
	if json.Unmarshal(choices, &cs) != nil {
		return choices
	}
	changed := false
	for _, c := range cs {
		var delta map[string]json.RawMessage
		var calls []map[string]json.RawMessage
		if json.Unmarshal(c["delta"], &delta) != nil || json.Unmarshal(delta["tool_calls"], &calls) != nil || len(calls) == 0 {
			continue
		}
		var ci int
		_ = json.Unmarshal(c["index"], &ci)
		slots := s.slots(ci)
		numbered := false
		for _, tc := range calls {
			if tc == nil {
				continue // a null delta: nothing to number, and no map to number it in
			}
			var id string
			_ = json.Unmarshal(tc["id"], &id)
			var i *int
			_ = json.Unmarshal(tc["index"], &i)
			if i != nil {
				slots.seen(*i, id)
				continue
			}
			tc["index"] = strconv.AppendInt(nil, int64(slots.next(id)), 10)
			numbered = true
		}
		if numbered {
			delta["tool_calls"], _ = json.Marshal(calls)
			c["delta"], _ = json.Marshal(delta)
			changed = true
		}
	}
	if !changed {
		return choices
	}
	out, err := json.Marshal(cs)
	if err != nil {
		return choices
	}
	return out
}

// slots is the tool-call record of choice ci.
func (s *stream) slots(ci int) *callSlots {
	if s.calls == nil {
		s.calls = map[int]*callSlots{}
	}
	c := s.calls[ci]
	if c == nil {
		c = &callSlots{}
		s.calls[ci] = c
	}
	return c
}

// noteIndexed records the tool-call deltas of choices when every one has
// its index, as OpenAI's always do, scanning rather than decoding them (a
// call's arguments come a few characters a chunk); false when one lacks
// it, for numberToolCalls to decode and number.
func (s *stream) noteIndexed(choices []byte) bool {
	all := true
	jsonscan.Elements(choices, func(c []byte) {
		ci, calls := 0, []byte(nil)
		jsonscan.Members(c, func(m jsonscan.Member) {
			switch string(m.Key) {
			case "index":
				ci, _ = strconv.Atoi(string(m.Value))
			case "delta":
				jsonscan.Members(m.Value, func(d jsonscan.Member) {
					if string(d.Key) == "tool_calls" {
						calls = d.Value
					}
				})
			}
		})
		jsonscan.Elements(calls, func(tc []byte) {
			i, id := -1, []byte(nil)
			jsonscan.Members(tc, func(f jsonscan.Member) {
				switch string(f.Key) {
				case "index":
					if n, err := strconv.Atoi(string(f.Value)); err == nil {
						i = n
					}
				case "id":
					if len(f.Value) >= 2 && f.Value[0] == '"' {
						id = f.Value[1 : len(f.Value)-1]
					}
				}
			})
			if i < 0 || !all {
				all = false
				return
			}
			s.slots(ci).seen(i, string(id))
		})
	})
	return all
}
