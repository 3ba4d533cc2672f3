package core

import (
	"strconv"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/gateway/chat"
)

// Relay is a non-streamed completion from an OpenAI-compatible upstream,
// kept as the upstream's bytes. The server writes its choices as they
// came and its own id, model and usage around them, rather than decoding
// the whole answer and encoding it again (about a tenth of a unary
// request's CPU). As with streamed chunks, members of a choice that
// RouteFree does not model (OpenAI's annotations, say) reach the client.
type Relay struct {
	Choices           []byte     // the "choices" array as the upstream sent it
	Object            string     // "" when the upstream sent none
	SystemFingerprint []byte     // a JSON string or null; nil when absent
	Usage             chat.Usage // normalized, without the upstream's own cost
	Finish            string     // the first choice's finish_reason
	// Natives are the native_finish_reason members that choices written
	// without one get, in order: OpenRouter's choices always carry it.
	Natives []Native
	inline  [1]Native // Natives' room for one choice, the usual answer
}

// Native is a choice's native_finish_reason, to be written before its
// closing brace.
type Native struct {
	At     int    // the offset in Choices of the choice's closing brace
	Reason []byte // the JSON value: the choice's finish_reason, or null
	Comma  bool   // the choice has members before it
}

// AddNative notes a choice's native_finish_reason, allocating nothing for
// the first.
func (r *Relay) AddNative(n Native) {
	if r.Natives == nil {
		r.Natives = r.inline[:0]
	}
	r.Natives = append(r.Natives, n)
}

// AppendJSON appends the completion as the gateway answers it: the same
// members, in the same order, as chat.Response encodes, with the gateway's
// id and created (whatever clock the upstream keeps).
func (r *Relay) AppendJSON(b []byte, id, model, provider string, created int64, u *chat.Usage) []byte {
	b = append(b, `{"id":`...)
	b = chat.AppendString(b, id)
	b = append(b, `,"object":`...)
	obj := r.Object
	if obj == "" {
		obj = "chat.completion"
	}
	b = chat.AppendString(b, obj)
	b = append(b, `,"created":`...)
	b = strconv.AppendInt(b, created, 10)
	b = append(b, `,"model":`...)
	b = chat.AppendString(b, model)
	if provider != "" {
		b = append(b, `,"provider":`...)
		b = chat.AppendString(b, provider)
	}
	b = append(b, `,"choices":`...)
	b = r.appendChoices(b)
	if u != nil {
		b = append(b, `,"usage":`...)
		// Usage holds numbers only: no escaping to choose.
		b, _ = fastjson.Append(b, u, 0)
	}
	b = append(b, `,"system_fingerprint":`...)
	if r.SystemFingerprint != nil {
		b = append(b, r.SystemFingerprint...)
	} else {
		b = append(b, "null"...)
	}
	return append(b, '}')
}

// appendChoices appends the choices as they came, with the natives.
func (r *Relay) appendChoices(b []byte) []byte {
	last := 0
	for _, n := range r.Natives {
		b = append(b, r.Choices[last:n.At]...)
		if n.Comma {
			b = append(b, ',')
		}
		b = append(b, `"native_finish_reason":`...)
		b = append(b, n.Reason...)
		last = n.At
	}
	return append(b, r.Choices[last:]...)
}

// ChoicesSize is the length of the choices as AppendJSON writes them.
func (r *Relay) ChoicesSize() int {
	n := len(r.Choices)
	for _, nat := range r.Natives {
		n += len(`,"native_finish_reason":`) + len(nat.Reason)
	}
	return n
}
