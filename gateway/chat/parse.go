package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/internal/jsonkind"
)

// ValidationError says why a request is malformed; the server maps it to 400.
type ValidationError struct {
	Param   string // the offending field, e.g. "messages[2].content"; may be empty
	Message string
}

func (e *ValidationError) Error() string {
	if e.Param == "" {
		return e.Message
	}
	return e.Param + ": " + e.Message
}

func invalid(param, format string, args ...any) *ValidationError {
	return &ValidationError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// ownOptions are RouteFree's (OpenRouter-style) request options: kept in
// Request.Options, never sent upstream. The last row are OpenRouter's own
// that @openrouter/sdk sends (session grouping, tracing, automatic prompt
// caching, server tools, image generation): OpenAI's API refuses them as
// unrecognized arguments.
func isOwnOption(k string) bool {
	switch k {
	case "provider", "models", "route", "transforms", "usage", "plugins", "debug",
		"session_id", "trace", "cache_control", "stop_server_tools_when", "image_config":
		return true
	}
	return false
}

// ownOptionKind is the JSON kind, by its first byte, of each of
// OpenRouter's long-standing options: of another kind it was meant as
// something else, and is refused rather than taken as if meant.
var ownOptionKind = map[string]byte{"usage": '{', "debug": '{', "transforms": '[', "plugins": '[', "route": '"'}

var ownKindName = map[byte]string{'{': "an object", '[': "an array", '"': "a string"}

// ofKind reports whether v is a JSON value of the kind whose first byte is
// want, or null.
func ofKind(v RawJSON, want byte) bool {
	b := firstByte(v)
	return b == want || b == 'n'
}

// Parse decodes and validates a chat-completions request body. The body is
// split once into top-level raw values that alias body (so the caller must
// not reuse body's memory while the Request lives); only known fields are
// decoded further, so unknown ones cost nothing more.
func Parse(body []byte) (*Request, error) {
	// Every decoder below recurses; a flat scan bounds the depth first.
	if err := CheckBody(body); err != nil {
		return nil, err
	}
	// Sized for a typical request: left nil, the decoder makes room for 64
	// fields (5 KB on every request).
	top := make(map[string]RawJSON, 12)
	if err := parseTop(body, &top); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, invalid("", "request body must be a JSON object")
		}
		return nil, invalid("", "request body is not valid JSON: %s", syntaxFault(body))
	}
	if top == nil {
		return nil, invalid("", "request body must be a JSON object")
	}
	r := &Request{raw: top}
	var effortRaw, reasoningRaw RawJSON
	var includeReasoning *bool
	for k, v := range top {
		var err error
		switch k {
		case "model":
			err = fastjson.Unmarshal(v, &r.Model)
		case "messages":
			err = decodeMessages(v, &r.Messages)
		case "tools":
			err = fastjson.Unmarshal(v, &r.Tools)
			r.rewriteTools = bytes.Contains(v, eagerInputStreaming)
		case "tool_choice":
			if firstByte(v) != 'n' {
				r.ToolChoice = new(ToolChoice)
				err = fastjson.Unmarshal(v, r.ToolChoice)
			}
		case "parallel_tool_calls":
			err = fastjson.Unmarshal(v, &r.ParallelToolCalls)
		case "response_format":
			err = fastjson.Unmarshal(v, &r.ResponseFormat)
		case "max_tokens":
			err = fastjson.Unmarshal(v, &r.MaxTokens)
		case "max_completion_tokens":
			err = fastjson.Unmarshal(v, &r.MaxCompletionTokens)
		case "temperature":
			err = fastjson.Unmarshal(v, &r.Temperature)
		case "top_p":
			err = fastjson.Unmarshal(v, &r.TopP)
		case "stop":
			err = fastjson.Unmarshal(v, &r.Stop)
		case "seed":
			err = fastjson.Unmarshal(v, &r.Seed)
		case "n":
			err = fastjson.Unmarshal(v, &r.N)
		case "user":
			err = fastjson.Unmarshal(v, &r.User)
		case "stream":
			err = fastjson.Unmarshal(v, &r.Stream)
		case "stream_options":
			err = fastjson.Unmarshal(v, &r.StreamOptions)
		case "reasoning":
			// Translated for every upstream kind, never sent as is.
			reasoningRaw = v
			delete(top, k)
		case "include_reasoning":
			// OpenRouter's older switch (the AI SDK's OpenRouter provider
			// sends it): false is reasoning.exclude; never sent upstream.
			delete(top, k)
			if firstByte(v) != 'n' {
				includeReasoning = new(bool)
				err = fastjson.Unmarshal(v, includeReasoning)
			}
		default:
			if isOwnOption(k) {
				if want, ok := ownOptionKind[k]; ok && !ofKind(v, want) {
					return nil, invalid(k, "must be %s or null, got %s", ownKindName[want], jsonkind.Got(string(v)))
				}
				if r.Options == nil {
					r.Options = make(map[string]RawJSON, 2)
				}
				r.Options[k] = v
				delete(top, k)
				continue
			}
			if k == "reasoning_effort" {
				effortRaw = v
			}
			if r.Extra == nil {
				r.Extra = make(map[string]RawJSON, 4)
			}
			r.Extra[k] = v
		}
		if err != nil {
			return nil, fieldError(k, v, err)
		}
	}
	reasoning, exclude, err := parseReasoning(effortRaw, reasoningRaw)
	if err != nil {
		return nil, err
	}
	if includeReasoning != nil && !*includeReasoning && !given(reasoningRaw) {
		exclude = true
	}
	r.Reasoning, r.ExcludeReasoning = reasoning, exclude
	if p, ok := top["prompt"]; ok {
		if err := r.promptAsMessages(p); err != nil {
			return nil, err
		}
	}
	if err := r.parseFallbacks(); err != nil {
		return nil, err
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// promptAsMessages takes OpenRouter's "prompt" in place of "messages" (its
// request schema has "either messages or prompt"): the prompt, a string, is
// the one user message. It is never sent upstream as it came, which OpenAI's
// API would refuse as an unrecognized argument.
func (r *Request) promptAsMessages(v RawJSON) error {
	delete(r.raw, "prompt")
	delete(r.Extra, "prompt")
	if !given(v) {
		return nil
	}
	if given(r.raw["messages"]) {
		return invalid("prompt", "send messages or prompt, not both")
	}
	var p string
	if firstByte(v) != '"' || fastjson.Unmarshal(v, &p) != nil {
		return invalid("prompt", "must be a string, got %s", jsonkind.Got(string(v)))
	}
	if p == "" {
		return invalid("prompt", "must not be empty")
	}
	msgs := AppendString([]byte(`[{"role":"user","content":`), p)
	msgs = append(msgs, "}]"...)
	r.raw["messages"], r.FromPrompt = msgs, true
	return decodeMessages(msgs, &r.Messages)
}

// parseTop splits the body into top-level raw values without copying them.
func parseTop(body []byte, top *map[string]RawJSON) error {
	rest, err := fastjson.Parse(body, top, fastjson.DontCopyRawMessage)
	if err == nil && len(rest) != 0 {
		return errors.New("invalid character after top-level value")
	}
	return err
}

// syntaxFault describes the first fault of a body that is not JSON, and
// where it is. It reads the body again with encoding/json, whose messages
// name the offending character alone, where the fast decoder's quote the
// input around it (a prompt); a refused body is rare enough for the cost.
func syntaxFault(body []byte) string {
	var se *json.SyntaxError
	if !errors.As(json.Unmarshal(body, new(struct{})), &se) {
		return "malformed"
	}
	if se.Offset == 0 || se.Offset >= int64(len(body)) {
		return se.Error() // the end of the input: no offset to give
	}
	// Offset counts the bytes read, the offending one included; the
	// body's other checks count from 0.
	return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset-1)
}

// decodeMessages decodes the array in one pass; only on failure does it
// decode element by element to name the offending message.
func decodeMessages(v RawJSON, dst *[]Message) error {
	err := fastjson.Unmarshal(v, dst)
	if err == nil {
		return nil
	}
	var elems []RawJSON
	if json.Unmarshal(v, &elems) != nil {
		return invalid("messages", "must be an array of message objects")
	}
	for i, e := range elems {
		var m Message
		if err := json.Unmarshal(e, &m); err != nil {
			return fieldError(fmt.Sprintf("messages[%d]", i), e, err)
		}
	}
	return invalid("messages", "%v", err)
}

// fieldError turns a decoding error into a ValidationError naming the field.
func fieldError(param string, v RawJSON, err error) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return invalid(param+fieldPath(te.Field), "must be of type %s, got %s", jsonTypeName(te.Type.Kind().String()), jsonkind.Got(te.Value))
	}
	// The decoder reports an integer beyond 64 bits as a syntax error
	// ("invalid character after top-level value"). A field that takes
	// other kinds (stop, tool_choice) says what it takes in its own error.
	var se *fastjson.SyntaxError
	if errors.As(err, &se) && isInteger(v) {
		return invalid(param, "must be an integer from %d to %d, got %s", math.MinInt64, math.MaxInt64, v)
	}
	return invalid(param, "%v", err)
}

// fieldPath writes a decoder's dotted path below a field ("0.function.name")
// as the request's own errors name fields: "[0].function.name".
func fieldPath(field string) string {
	if field == "" {
		return ""
	}
	var b strings.Builder
	for _, seg := range strings.Split(field, ".") {
		if seg != "" && strings.Trim(seg, "0123456789") == "" {
			b.WriteString("[" + seg + "]")
		} else {
			b.WriteString("." + seg)
		}
	}
	return b.String()
}

// isInteger reports whether v is a JSON integer literal (no fraction or
// exponent), whatever its size.
func isInteger(v RawJSON) bool {
	digits := strings.TrimPrefix(string(v), "-")
	return digits != "" && strings.Trim(digits, "0123456789") == ""
}

func jsonTypeName(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "integer"
	case strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "slice":
		return "array"
	case kind == "struct", kind == "map":
		return "object"
	}
	return kind
}

// MaxChoices bounds n, as OpenAI does: each choice may write max_tokens,
// and the credit hold covers them all.
const MaxChoices = 128

// MaxFallbacks bounds OpenRouter's models list: each entry may cost a round
// of upstream attempts.
const MaxFallbacks = 8

// parseFallbacks reads OpenRouter's models list: the models to try, in order,
// after model fails. Without a model, the list's first entry is the model.
func (r *Request) parseFallbacks() error {
	v, ok := r.Options["models"]
	if !ok || !given(v) {
		return nil
	}
	var list []string
	if err := fastjson.Unmarshal(v, &list); err != nil {
		return invalid("models", "must be an array of model IDs")
	}
	if len(list) > MaxFallbacks+1 {
		return invalid("models", "lists %d models; at most %d are tried", len(list), MaxFallbacks+1)
	}
	for i, m := range list {
		if m == "" {
			return invalid(fmt.Sprintf("models[%d]", i), "must be a non-empty model ID")
		}
		if r.Model == "" {
			r.Model = m
			continue
		}
		if m != r.Model && !slices.Contains(r.Fallbacks, m) {
			r.Fallbacks = append(r.Fallbacks, m)
		}
	}
	if len(r.Fallbacks) > MaxFallbacks {
		return invalid("models", "lists %d fallback models; at most %d are tried", len(r.Fallbacks), MaxFallbacks)
	}
	return nil
}

func (r *Request) validate() error {
	if r.Model == "" {
		return invalid("model", "is required and must be a non-empty string")
	}
	if len(r.Messages) == 0 {
		return invalid("messages", "is required and must be a non-empty array")
	}
	for i := range r.Messages {
		if err := validateMessage(i, &r.Messages[i]); err != nil {
			return err
		}
		if m := &r.Messages[i]; m.Role == RoleTool && m.Name != "" ||
			m.Reasoning != nil || m.ReasoningContent != nil || m.ReasoningDetails != nil ||
			m.ToolCalls != nil && len(m.ToolCalls) == 0 {
			r.rewrite = true
		}
	}
	for i, t := range r.Tools {
		if t.Type != "function" {
			return invalid(fmt.Sprintf("tools[%d].type", i), `must be "function"`)
		}
		if t.Function.Name == "" {
			return invalid(fmt.Sprintf("tools[%d].function.name", i), "is required")
		}
	}
	if err := r.validateAllowed(); err != nil {
		return err
	}
	if rf := r.ResponseFormat; rf != nil {
		switch rf.Type {
		case "text", "json_object":
		case "json_schema":
			if rf.JSONSchema == nil || rf.JSONSchema.Name == "" {
				return invalid("response_format.json_schema.name", "is required")
			}
		default:
			return invalid("response_format.type", `must be "text", "json_object" or "json_schema"`)
		}
	}
	if r.N != nil && *r.N < 1 {
		return invalid("n", "must be at least 1")
	}
	if r.N != nil && *r.N > MaxChoices {
		return invalid("n", "must be at most %d", MaxChoices)
	}
	if err := tokenCount("max_tokens", r.MaxTokens); err != nil {
		return err
	}
	if err := tokenCount("max_completion_tokens", r.MaxCompletionTokens); err != nil {
		return err
	}
	if r.Temperature != nil && (*r.Temperature < 0 || *r.Temperature > 2) {
		return invalid("temperature", "must be between 0 and 2")
	}
	if r.TopP != nil && (*r.TopP < 0 || *r.TopP > 1) {
		return invalid("top_p", "must be between 0 and 1")
	}
	return nil
}

// validateAllowed checks that each tool allowed_tools lists is one of the
// request's tools: the model may call only among those.
func (r *Request) validateAllowed() error {
	tc := r.ToolChoice
	if tc == nil || tc.Allowed == nil {
		return nil
	}
	for i, name := range tc.Allowed {
		if !slices.ContainsFunc(r.Tools, func(t Tool) bool { return t.Function.Name == name }) {
			return invalid(fmt.Sprintf("tool_choice.allowed_tools.tools[%d].function.name", i), "%q is not one of the request's tools", name)
		}
	}
	return nil
}

func validateMessage(i int, m *Message) error {
	at := func(field string) string { return fmt.Sprintf("messages[%d]%s", i, field) }
	switch m.Role {
	case RoleSystem, RoleDeveloper, RoleTool:
		if m.Content.IsNull() {
			return invalid(at(".content"), "is required for role %q", m.Role)
		}
		// An empty tool_call_id is taken: some OpenAI-shaped hosts write
		// tool calls without IDs, and their clients answer them so.
		return validateParts(at, m, PartText)
	case RoleUser:
		if m.Content.IsNull() {
			return invalid(at(".content"), "is required for role \"user\"")
		}
		return validateParts(at, m, PartText, PartImageURL, PartFile, PartInputAudio, PartVideoURL, PartInputVideo)
	case RoleAssistant:
		if m.Content.IsNull() && len(m.ToolCalls) == 0 && m.Refusal == nil {
			return invalid(at(".content"), "is required unless tool_calls is given")
		}
		for j, tc := range m.ToolCalls {
			if tc.Function.Name == "" || (tc.Type != "" && tc.Type != "function") {
				return invalid(at(fmt.Sprintf(".tool_calls[%d]", j)), "needs type \"function\" and function.name")
			}
		}
		return validateParts(at, m, PartText, PartRefusal)
	case "":
		return invalid(at(".role"), "is required")
	}
	return invalid(at(".role"), "must be one of system, developer, user, assistant, tool; got %q", m.Role)
}

func validateParts(at func(string) string, m *Message, allowed ...string) error {
	for j, p := range m.Content.Parts {
		param := at(fmt.Sprintf(".content[%d]", j))
		ok := false
		for _, a := range allowed {
			ok = ok || p.Type == a
		}
		if !ok {
			return invalid(param+".type", "part type %q is not allowed for role %q", p.Type, m.Role)
		}
		switch p.Type {
		case PartImageURL:
			if p.ImageURL == nil || !validImageURL(p.ImageURL.URL) {
				return invalid(param+".image_url.url", "must be an http(s) URL or a data: URL")
			}
		case PartFile:
			if p.File == nil || (p.File.FileData == "" && p.File.FileID == "") {
				return invalid(param+".file", "needs file_data or file_id")
			}
		case PartInputAudio:
			if p.InputAudio == nil || p.InputAudio.Data == "" {
				return invalid(param+".input_audio.data", "is required")
			}
		case PartVideoURL, PartInputVideo:
			if p.VideoURL == nil || !validImageURL(p.VideoURL.URL) {
				return invalid(param+".video_url.url", "must be an http(s) URL or a data: URL")
			}
		}
	}
	return nil
}

func validImageURL(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "data:")
}
