package core

import (
	"strconv"
	"strings"

	"github.com/routefree/routefree/gateway/chat"
)

// ChunkWriter builds OpenAI chunks for translated streams by appending
// bytes (no reflection), reusing one buffer.
type ChunkWriter struct {
	ID, Model string
	Created   int64
	buf       []byte
}

func (w *ChunkWriter) open(choice int) []byte {
	b := append(w.buf[:0], `{"id":`...)
	b = chat.AppendString(b, w.ID)
	b = append(b, `,"object":"chat.completion.chunk","created":`...)
	b = strconv.AppendInt(b, w.Created, 10)
	b = append(b, `,"model":`...)
	b = chat.AppendString(b, w.Model)
	b = append(b, `,"choices":[{"index":`...)
	b = strconv.AppendInt(b, int64(choice), 10)
	return append(b, `,"delta":`...)
}

func (w *ChunkWriter) close(b []byte, finish, native string) []byte {
	// A translated upstream has no system fingerprint: a chunk leaves it
	// out, as OpenRouter's chunk schema (an optional string) has it. As
	// OpenRouter's chunks do, every choice carries the provider's own
	// finish reason beside the normalised one, and logprobs null.
	b = appendNullable(append(b, `,"finish_reason":`...), finish)
	b = appendNullable(append(b, `,"native_finish_reason":`...), native)
	b = append(b, `,"logprobs":null}]}`...)
	w.buf = b
	return b
}

// appendNullable appends s as a JSON string, or null when it is empty.
func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return chat.AppendString(b, s)
}

// Role is the first chunk: the assistant role and empty content.
func (w *ChunkWriter) Role(choice int) []byte {
	return w.close(append(w.open(choice), `{"role":"assistant","content":""}`...), "", "")
}

// Content carries a piece of text.
func (w *ChunkWriter) Content(choice int, text string) []byte {
	b := append(w.open(choice), `{"content":`...)
	b = chat.AppendString(b, text)
	return w.close(append(b, '}'), "", "")
}

// ReasoningDetail carries a piece of reasoning as OpenRouter streams it:
// its text (also as delta.reasoning, when there is some) and the detail
// it belongs to (a signature arrives as a detail without text).
func (w *ChunkWriter) ReasoningDetail(choice int, d chat.ReasoningDetail) []byte {
	b := append(w.open(choice), '{')
	if d.Text != "" {
		b = append(b, `"reasoning":`...)
		b = chat.AppendString(b, d.Text)
		b = append(b, ',')
	}
	b = append(b, `"reasoning_details":[{"type":`...)
	b = chat.AppendString(b, d.Type)
	for _, f := range [...]struct{ key, v string }{{`,"text":`, d.Text}, {`,"signature":`, d.Signature}, {`,"data":`, d.Data}, {`,"id":`, d.ID}, {`,"format":`, d.Format}} {
		if f.v != "" {
			b = chat.AppendString(append(b, f.key...), f.v)
		}
	}
	b = append(b, `,"index":`...)
	b = strconv.AppendInt(b, int64(d.Index), 10)
	return w.close(append(b, `}]}`...), "", "")
}

// ToolStart opens tool call idx with its id and name.
func (w *ChunkWriter) ToolStart(choice, idx int, id, name, args string) []byte {
	b := append(w.open(choice), `{"tool_calls":[{"index":`...)
	b = strconv.AppendInt(b, int64(idx), 10)
	b = append(b, `,"id":`...)
	b = chat.AppendString(b, id)
	b = append(b, `,"type":"function","function":{"name":`...)
	b = chat.AppendString(b, name)
	b = append(b, `,"arguments":`...)
	b = chat.AppendString(b, args)
	return w.close(append(b, `}}]}`...), "", "")
}

// ToolArgs carries a fragment of tool call idx's arguments.
func (w *ChunkWriter) ToolArgs(choice, idx int, args string) []byte {
	b := append(w.open(choice), `{"tool_calls":[{"index":`...)
	b = strconv.AppendInt(b, int64(idx), 10)
	b = append(b, `,"function":{"arguments":`...)
	b = chat.AppendString(b, args)
	return w.close(append(b, `}}]}`...), "", "")
}

// Finish carries the finish reason, and the provider's own (native),
// with an empty delta.
func (w *ChunkWriter) Finish(choice int, reason, native string) []byte {
	return w.close(append(w.open(choice), `{}`...), reason, native)
}

// ParseDataURL splits a base64 data: URL into media type and payload.
func ParseDataURL(u string) (mediaType, data string, ok bool) {
	rest, found := strings.CutPrefix(u, "data:")
	if !found {
		return "", "", false
	}
	meta, data, found := strings.Cut(rest, ",")
	if !found {
		return "", "", false
	}
	mediaType, isBase64 := strings.CutSuffix(meta, ";base64")
	if !isBase64 {
		return "", "", false
	}
	if i := strings.IndexByte(mediaType, ';'); i >= 0 { // drop parameters such as charset
		mediaType = mediaType[:i]
	}
	return mediaType, data, true
}

// Unsupported reports a request feature an upstream kind cannot carry.
func Unsupported(kind, what string) error {
	return &chat.ValidationError{Message: what + " is not supported by " + kind + " upstreams"}
}
