package chat

import (
	"encoding/json"
	"slices"
	"unicode/utf8"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/internal/jsonscan"
)

// OpenRouterSampling are OpenRouter's sampling parameters that OpenAI's own
// API does not take (it refuses the request); many OpenAI-compatible hosts
// do take them.
var OpenRouterSampling = []string{"top_k", "min_p", "top_a", "repetition_penalty"}

// OpenAIBody returns the request body for an OpenAI-shaped upstream: every
// field as the client sent it (unknown ones included, RouteFree's options
// and the fields named in drop excluded), with model replaced and, on
// streams, include_usage forced so the gateway can always bill. Raw values
// are copied, never re-encoded, except the messages when they carry what
// OpenAI-shaped upstreams refuse (see openAIMessages).
func (r *Request) OpenAIBody(model string, drop ...string) ([]byte, error) {
	return r.OpenAIBodyFor(model, BodyOptions{Drop: drop})
}

// BodyOptions fit an OpenAI-shaped body to one upstream's API.
type BodyOptions struct {
	Drop []string // top-level fields the upstream refuses
	// MaxCompletionTokens sends max_tokens as max_completion_tokens:
	// OpenAI's reasoning models refuse the older name, and every OpenAI
	// chat model reads the newer one. A max_completion_tokens the client
	// sent itself wins.
	MaxCompletionTokens bool
	// Efforts are the reasoning efforts the model takes, lowest first: the
	// request's reasoning goes out as the nearest of them. Empty: the
	// effort goes out as asked.
	Efforts []string
	// MetadataWithStore sends metadata only beside store: true, as
	// OpenAI's API takes it (it refuses metadata otherwise); OpenRouter's
	// clients send metadata as OpenRouter's own option, with no store.
	MetadataWithStore bool
	// Only, when set, are the top-level fields the upstream's API takes
	// (after Rename): it refuses any other (Mistral's, extra_forbidden),
	// where OpenRouter ignores what a provider does not take.
	Only map[string]bool
	// Rename sends fields under the upstream's own names (Mistral's
	// max_tokens for max_completion_tokens, random_seed for seed). A field
	// renamed wins over one the client sent under the new name.
	Rename map[string]string
	// NoStreamOptions: the upstream reports a stream's usage unasked and
	// refuses stream_options.
	NoStreamOptions bool
	// NoMessageNames: the upstream refuses a message's name, whatever its
	// role (Groq); it is left out of every message.
	NoMessageNames bool
	// MessageFields, when set, are the members each role's message may
	// carry (Mistral's schema refuses any other); a developer message goes
	// as a system message.
	MessageFields map[string]map[string]bool
}

// reasoningBasis is the output allowance a reasoning.max_tokens is a share
// of when the request sets no max_tokens (the cap RouteFree holds credit
// for when a model names none).
const reasoningBasis = 32768

// OpenAIBodyFor is OpenAIBody with the options of one upstream's API.
func (r *Request) OpenAIBodyFor(model string, o BodyOptions) ([]byte, error) {
	drop := o.Drop
	fields := r.raw
	if fields == nil { // built in code rather than parsed
		var err error
		if fields, err = r.typedFields(); err != nil {
			return nil, err
		}
	}
	size := 64 + len(model)
	for k, v := range fields {
		size += len(k) + len(v) + 4
	}
	// The reasoning object's effort goes out as reasoning_effort unless the
	// client sent a reasoning_effort of its own (equal, as Parse checked).
	effort := ""
	switch rs := r.Reasoning; {
	case rs == nil || slices.Contains(drop, "reasoning_effort") || o.Only != nil && !o.Only["reasoning_effort"]:
	case len(o.Efforts) > 0:
		effort = rs.NearestEffort(o.Efforts, r.MaxOutputTokens(reasoningBasis))
	case !given(fields["reasoning_effort"]):
		effort = rs.Effort
	}
	b := make([]byte, 0, size)
	b = append(b, `{"model":`...)
	b = AppendString(b, model)
	for k, v := range fields {
		if k == "model" || k == "stream_options" || (k == "reasoning_effort" && effort != "") || slices.Contains(drop, k) {
			continue
		}
		if len(r.Tools) == 0 && toolOption(k) {
			continue
		}
		if k == "metadata" && o.MetadataWithStore && string(fields["store"]) != "true" {
			continue
		}
		if o.Rename != nil {
			if nk, ok := o.Rename[k]; ok {
				k = nk
			} else if renamedOnto(o.Rename, k, fields) {
				continue
			}
		}
		if o.Only != nil && !o.Only[k] {
			continue
		}
		if k == "max_tokens" && o.MaxCompletionTokens {
			if given(fields["max_completion_tokens"]) {
				continue
			}
			k = "max_completion_tokens"
		}
		if k == "messages" && (r.rewrite || o.NoMessageNames && r.named() || o.MessageFields != nil) {
			var err error
			if v, err = openAIMessages(v, &o); err != nil {
				return nil, err
			}
		}
		if k == "tools" && r.rewriteTools {
			var err error
			if v, err = openAITools(v); err != nil {
				return nil, err
			}
		}
		b = append(b, ',')
		b = AppendString(b, k)
		b = append(b, ':')
		b = append(b, v...)
	}
	if effort != "" {
		b = append(b, `,"reasoning_effort":`...)
		b = AppendString(b, effort)
	}
	if r.Stream && !o.NoStreamOptions {
		so, err := forceIncludeUsage(fields["stream_options"])
		if err != nil {
			return nil, err
		}
		b = append(b, `,"stream_options":`...)
		b = append(b, so...)
	}
	// A request that does not stream keeps its stream_options here, as
	// OpenRouter ignores them: OpenAI and vLLM refuse them without a stream.
	return append(b, '}'), nil
}

// named reports a message with a name.
func (r *Request) named() bool {
	for i := range r.Messages {
		if r.Messages[i].Name != "" {
			return true
		}
	}
	return false
}

// renamedOnto reports a field k that a field the client gave renames
// onto: the renamed one goes out under k instead.
func renamedOnto(rename map[string]string, k string, fields map[string]RawJSON) bool {
	for from, to := range rename {
		if to == k && given(fields[from]) {
			return true
		}
	}
	return false
}

// toolOption reports the fields that mean something only beside tools: a
// request without tools (none, null or an empty list) keeps them here, as
// OpenRouter serves it, where OpenAI refuses an empty tools list and a
// tool_choice or parallel_tool_calls without tools (the AI SDK's
// OpenRouter provider sends parallel_tool_calls whenever its settings
// have it).
func toolOption(k string) bool {
	return k == "tools" || k == "tool_choice" || k == "parallel_tool_calls"
}

// openAIMessages re-emits the messages array without what OpenAI-shaped
// upstreams refuse: a tool message's name (LangChain and the AI SDK send
// one; OpenAI's schema has none), an empty tool_calls (hosts that answer
// every message with one, kept by clients that send the answer back), and
// the reasoning an answer carried (reasoning, reasoning_details,
// reasoning_content), which clients send back with assistant messages
// (OpenRouter's SDKs do; DeepSeek refuses it).
func openAIMessages(v RawJSON, opts *BodyOptions) (RawJSON, error) {
	return withoutMembers(v, func(o map[string]RawJSON) (changed bool) {
		var role string
		_ = fastjson.Unmarshal(o["role"], &role)
		if opts.MessageFields != nil {
			if role == RoleDeveloper {
				role, o["role"], changed = RoleSystem, RawJSON(`"system"`), true
			}
			for k := range o {
				if !opts.MessageFields[role][k] {
					delete(o, k)
				}
			}
		} else if role == RoleTool || opts.NoMessageNames {
			delete(o, "name")
		}
		if tc, ok := o["tool_calls"]; ok && emptyArray(tc) {
			delete(o, "tool_calls")
		}
		delete(o, "reasoning")
		delete(o, "reasoning_details")
		delete(o, "reasoning_content")
		return changed
	})
}

// emptyArray reports a JSON array with no elements.
func emptyArray(v RawJSON) bool {
	var elems []RawJSON
	return firstByte(v) == '[' && fastjson.Unmarshal(v, &elems) == nil && len(elems) == 0
}

// eagerInputStreaming is the tool member only Anthropic takes.
var eagerInputStreaming = []byte(`"eager_input_streaming"`)

// openAITools re-emits the tools array without Anthropic's
// eager_input_streaming, which the AI SDK's OpenRouter provider sends on a
// tool and OpenAI's API refuses as an unknown parameter, as it refuses
// OpenRouter's other own options.
func openAITools(v RawJSON) (RawJSON, error) {
	return withoutMembers(v, func(o map[string]RawJSON) bool { delete(o, "eager_input_streaming"); return false })
}

// withoutMembers re-emits an array of objects, each without the members
// drop deletes from it (and with any it changes, when it says so); an
// element it leaves whole, or that is no object, is copied as received.
func withoutMembers(v RawJSON, drop func(o map[string]RawJSON) (changed bool)) (RawJSON, error) {
	var elems []RawJSON
	if err := fastjson.Unmarshal(v, &elems); err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(v))
	b = append(b, '[')
	for i, e := range elems {
		if i > 0 {
			b = append(b, ',')
		}
		if firstByte(e) != '{' {
			b = append(b, e...)
			continue
		}
		var o map[string]RawJSON
		if err := fastjson.Unmarshal(e, &o); err != nil {
			return nil, err
		}
		n := len(o)
		if changed := drop(o); !changed && len(o) == n {
			b = append(b, e...)
			continue
		}
		enc, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		b = append(b, enc...)
	}
	return append(b, ']'), nil
}

// includeUsage is the stream options of a client that sent no other; its
// callers copy it, never change it.
var includeUsage = RawJSON(`{"include_usage":true}`)

// forceIncludeUsage sets include_usage in the client's stream_options,
// keeping any other option it sent.
func forceIncludeUsage(so RawJSON) (RawJSON, error) {
	if firstByte(so) != '{' {
		return includeUsage, nil
	}
	// The usual object holds include_usage alone: scanned, not decoded.
	only := true
	if jsonscan.Members(so, func(m jsonscan.Member) { only = only && string(m.Key) == "include_usage" }) && only {
		return includeUsage, nil
	}
	var m map[string]RawJSON
	if err := json.Unmarshal(so, &m); err != nil {
		return nil, err
	}
	if len(m) == 0 || (len(m) == 1 && m["include_usage"] != nil) {
		return includeUsage, nil
	}
	m["include_usage"] = RawJSON("true")
	return json.Marshal(m)
}

// typedFields encodes the typed fields plus Extra into raw values.
func (r *Request) typedFields() (map[string]RawJSON, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var m map[string]RawJSON
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range r.Extra {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return m, nil
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string literal (no HTML escaping).
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
