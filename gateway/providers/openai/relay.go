package openai

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/internal/core"
	"github.com/routefree/routefree/internal/jsonscan"
)

// relayOf returns a non-streamed answer as a core.Relay when it can be
// written out as it came, and nil when it must be decoded whole: when it
// has no usage (the gateway then counts the tokens of its text), when a
// message carries DeepSeek's reasoning_content (renamed to reasoning),
// when the client asked for reasoning to be left out and there is some,
// or when a member the gateway reads is not of its type or has its key
// escaped or in capitals (which the decoder matches too). A malformed
// answer then fails in the decoder as before. What is relayed decodes to
// what the decoder would have made of it (FuzzRelayMatchesDecode).
func relayOf(b []byte, excludeReasoning bool) *core.Relay {
	// A body that is not JSON at all is the decoder's to report, and one
	// that is not UTF-8 the decoder's to mend; these passes allocate nothing.
	if !utf8.Valid(b) || !fastjson.Valid(b) {
		return nil
	}
	var r core.Relay
	var usage []byte
	ok, hasChoices := true, false
	wellFormed := jsonscan.Members(b, func(m jsonscan.Member) {
		switch string(m.Key) {
		case "choices":
			hasChoices = true
			r.Choices = m.Value
			ok = ok && m.Value[0] == '['
		case "usage":
			usage = nil
			if m.Value[0] != 'n' {
				usage = m.Value
			}
		case "object":
			r.Object = ""
			if m.Value[0] != 'n' {
				r.Object, ok = plainString(m.Value, ok)
			}
		case "created":
			// Replaced by the gateway's, but a decoder checks it is an integer.
			if m.Value[0] != 'n' {
				_, err := strconv.ParseInt(string(m.Value), 10, 64)
				ok = ok && err == nil
			}
		case "id", "model":
			// Replaced by the gateway's, but a decoder checks their type.
			ok = ok && (m.Value[0] == '"' || m.Value[0] == 'n')
		case "system_fingerprint":
			r.SystemFingerprint = m.Value
			ok = ok && (m.Value[0] == '"' || m.Value[0] == 'n')
		default:
			// "error", a key the decoder would read as one of the above.
			ok = ok && !oddKey(m.Key) && string(m.Key) != "error"
		}
	})
	if !wellFormed || !ok || !hasChoices || usage == nil {
		return nil
	}
	finish, ok := scanChoices(&r, excludeReasoning)
	if !ok {
		return nil
	}
	r.Finish = finish
	w, ok := scanUsage(usage)
	if !ok && fastjson.Unmarshal(usage, &w) != nil {
		return nil
	}
	r.Usage = w.normalize()
	return &r
}

// oddKey reports a key written with an escape or a capital letter: the
// decoder, like encoding/json, matches such a key to a field it knows.
func oddKey(k []byte) bool {
	for _, c := range k {
		if c == '\\' || ('A' <= c && c <= 'Z') {
			return true
		}
	}
	return false
}

// plainString returns a JSON string's text when it has no escapes (the
// strings relayOf reads are short names such as "chat.completion").
func plainString(v []byte, ok bool) (string, bool) {
	if len(v) < 2 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 {
		return "", false
	}
	return string(v[1 : len(v)-1]), ok
}

// scanChoices returns the first choice's finish_reason ("" when null or
// when there is no choice) and whether the choices can be relayed: each
// an object, none with a message the decoder would rewrite. It notes the
// native_finish_reason of each choice that has none: its finish_reason,
// as OpenRouter writes an OpenAI answer's.
func scanChoices(r *core.Relay, excludeReasoning bool) (finish string, ok bool) {
	choices := r.Choices
	ok = true
	first := true
	i := jsonscan.Space(choices, 1)
	for ok && i < len(choices) && choices[i] != ']' {
		j := jsonscan.Value(choices, i)
		if j < 0 || choices[i] != '{' {
			return "", false
		}
		var reason, native []byte
		members := false
		ok = jsonscan.Members(choices[i:j], func(m jsonscan.Member) {
			members = true
			switch string(m.Key) {
			case "finish_reason":
				reason = m.Value
				if first {
					finish = ""
					if m.Value[0] != 'n' {
						finish, ok = plainString(m.Value, ok)
					}
				}
			case "native_finish_reason":
				native = m.Value
			case "message":
				if m.Value[0] == 'n' {
					return
				}
				well := m.Value[0] == '{' && jsonscan.Members(m.Value, func(f jsonscan.Member) {
					ok = ok && !oddKey(f.Key) && string(f.Key) != "reasoning_content" &&
						!(excludeReasoning && bytes.HasPrefix(f.Key, reasoningPrefix))
				})
				ok = ok && well
			default:
				ok = ok && !oddKey(m.Key)
			}
		}) && ok
		switch {
		case native == nil:
			r.AddNative(core.Native{At: j - 1, Reason: nativeReason(reason), Comma: members})
		case native[0] == 'n' && reason != nil && reason[0] != 'n':
			// A null beside a reason: the decoder gives it the reason.
			ok = false
		}
		first = false
		i = jsonscan.Space(choices, j)
		if i < len(choices) && choices[i] == ',' {
			i = jsonscan.Space(choices, i+1)
		}
	}
	return finish, ok
}

var jsonNull = []byte("null")

// nativeReason is the native_finish_reason of a choice written without
// one: its finish_reason, null when it has none (or an empty one, which
// the decoder reads as none).
func nativeReason(finish []byte) []byte {
	if finish == nil || string(finish) == `""` {
		return jsonNull
	}
	return finish
}

var reasoningPrefix = []byte("reasoning")

// scanUsage reads the usage members that count (OpenAI's, and DeepSeek's
// prompt_cache_hit_tokens) when each is a plain integer, as answers have
// them; ok is false otherwise, and the decoder reads the usage instead.
// Other members are skipped, as the decoder skips them.
func scanUsage(b []byte) (w wireUsage, ok bool) {
	ok = true
	num := func(v []byte) int {
		n, err := strconv.Atoi(string(v))
		ok = ok && err == nil
		return n
	}
	// details reads a details object, whose members field names.
	details := func(v []byte, field func(key string) *int) bool {
		return jsonscan.Members(v, func(m jsonscan.Member) {
			if p := field(string(m.Key)); p != nil {
				*p = num(m.Value)
			} else {
				ok = ok && !oddKey(m.Key)
			}
		})
	}
	well := jsonscan.Members(b, func(m jsonscan.Member) {
		switch string(m.Key) {
		case "prompt_tokens":
			w.PromptTokens = num(m.Value)
		case "completion_tokens":
			w.CompletionTokens = num(m.Value)
		case "total_tokens":
			w.TotalTokens = num(m.Value)
		case "prompt_cache_hit_tokens":
			w.PromptCacheHitTokens = num(m.Value)
		case "prompt_tokens_details":
			d := &chat.PromptTokensDetails{}
			w.PromptTokensDetails = d
			ok = details(m.Value, func(key string) *int {
				switch key {
				case "cached_tokens":
					return &d.CachedTokens
				case "cache_write_tokens":
					return &d.CacheWriteTokens
				case "audio_tokens":
					return &d.AudioTokens
				}
				return nil
			}) && ok
		case "completion_tokens_details":
			d := &chat.CompletionTokensDetails{}
			w.CompletionTokensDetails = d
			ok = details(m.Value, func(key string) *int {
				switch key {
				case "reasoning_tokens":
					return &d.ReasoningTokens
				case "audio_tokens":
					return &d.AudioTokens
				case "image_tokens":
					return &d.ImageTokens
				}
				return nil
			}) && ok
		case "cost", "is_byok", "cost_details":
			// An OpenRouter-like host's own cost: dropped by normalize, but
			// the decoder checks its type.
			ok = false
		default:
			ok = ok && !oddKey(m.Key)
		}
	})
	return w, ok && well
}
