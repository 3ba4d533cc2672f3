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
	b = append(b, r.Choices...)
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
