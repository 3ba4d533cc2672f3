package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/routefree/routefree/internal/jsonscan"
)

// ErrStreamCut marks a stream the upstream ended before its end marker.
var ErrStreamCut = errors.New("upstream stream ended before completion")

// UpstreamError is an error answer from an upstream (or a broken answer).
type UpstreamError struct {
	Provider  string
	Status    int    // the upstream's HTTP status
	Retryable bool   // whether another upstream may succeed
	Message   string // the upstream's error message
	Type      string // the upstream's error type or code, if any
	// Code is the upstream's error code (OpenAI's code, Gemini's status),
	// else its type.
	Code       string
	RetryAfter time.Duration
	// Native is the upstream's own message when Message restates it
	// (ContextOverflow); empty otherwise.
	Native string
	// Reason is the reason of Google's ErrorInfo detail (API_KEY_INVALID…)
	// in a refusal of Gemini's; empty otherwise.
	Reason string
	// Reasons are the categories a moderator or content filter flagged the
	// input for: OpenRouter's metadata.reasons, or the categories Azure
	// OpenAI's content_filter_result marks filtered. Nil when none is named.
	Reasons []string
	// FlaggedInput is the part of the client's input a moderator flagged
	// (OpenRouter's metadata.flagged_input): the client's own words, which
	// go back to the client and nowhere else.
	FlaggedInput string
}

// Flagged reports whether the upstream refused the client's input under
// its usage policy: a moderation flag in OpenRouter's shape (a 403 with
// metadata.reasons and flagged_input), or a content filter's code
// (OpenAI's content_policy_violation, Azure OpenAI's content_filter).
func (e *UpstreamError) Flagged() bool {
	return len(e.Reasons) > 0 || e.FlaggedInput != "" || e.Code == "content_policy_violation" || e.Code == "content_filter"
}

// RefusesGateway reports whether the upstream refused the gateway itself
// rather than the request: its key (401; Gemini's 400 naming an invalid or
// expired key), its permissions (403), its account's funds (402;
// Anthropic's 400 for a credit balance too low) or the region it calls
// from (Gemini's 400 FAILED_PRECONDITION "User location is not
// supported"). Another upstream of the same provider would answer the
// same; the client can change nothing. A 403 that flags the input
// (Flagged) is the client's to change, not the gateway's.
func (e *UpstreamError) RefusesGateway() bool {
	if e.Flagged() {
		return false
	}
	switch e.Status {
	case http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden:
		return true
	case http.StatusBadRequest:
		return strings.HasPrefix(e.Reason, "API_KEY_") ||
			e.Type == "invalid_request_error" && strings.Contains(e.Message, "credit balance is too low") ||
			e.Code == "FAILED_PRECONDITION" && strings.Contains(e.Message, "location is not supported")
	}
	return false
}

// Raw is the upstream's own message.
func (e *UpstreamError) Raw() string {
	if e.Native != "" {
		return e.Native
	}
	return e.Message
}

// ContextOverflow restates a provider's refusal of a request longer than
// the model's context as OpenAI's: code context_length_exceeded and its
// message ("This model's maximum context length is … tokens"), which
// clients written for OpenAI and OpenRouter (LangChain's
// ContextOverflowError, LiteLLM, agents that compact their history)
// recognise by its code or its words. limit is the model's context in
// tokens; prompt and completion what the request came to (completion 0
// when the provider counted the prompt alone). The provider's own words
// stay in Native.
func ContextOverflow(e *UpstreamError, limit, prompt, completion int64) {
	e.Native = e.Raw()
	e.Type, e.Code = "invalid_request_error", "context_length_exceeded"
	switch {
	case limit <= 0 || prompt <= 0:
		e.Message = "This model's maximum context length was exceeded: " + e.Native
	case completion > 0:
		e.Message = fmt.Sprintf("This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
			limit, prompt+completion, prompt, completion)
	default:
		e.Message = fmt.Sprintf("This model's maximum context length is %d tokens. However, your messages resulted in %d tokens. Please reduce the length of the messages.",
			limit, prompt)
	}
}

func (e *UpstreamError) Error() string {
	return fmt.Sprintf("upstream %s: status %d: %s", e.Provider, e.Status, e.Message)
}

// RetryableStatus reports whether an HTTP status allows failover:
// 408, 429 and 5xx (including Anthropic's 529 overloaded).
func RetryableStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// Retryable reports whether a Send error allows trying the next upstream:
// connect errors, timeouts, 408, 429 and 5xx do; other 4xx, a cancelled
// client and requests that cannot be translated do not.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ue *UpstreamError
	if errors.As(err, &ue) {
		return ue.Retryable
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true // dial, reset, timeout: the request never got an answer
	}
	return false
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// ErrorFromResponse builds an UpstreamError from a non-2xx answer and
// closes its body. OpenAI, Anthropic and Gemini all nest the message as
// {"error":{"message":…}} (Gemini sometimes inside an array).
func ErrorFromResponse(provider string, resp *http.Response) *UpstreamError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	e := &UpstreamError{Provider: provider, Status: resp.StatusCode, Retryable: RetryableStatus(resp.StatusCode)}
	e.RetryAfter = retryAfter(resp.Header, time.Now())
	e.Message, e.Type, e.Code = errorMessage(body)
	e.Reasons, e.FlaggedInput = moderation(body)
	if e.Status == http.StatusBadRequest {
		e.Reason = googleReason(body)
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// maxRetryAfter bounds an upstream's retry time (and keeps a huge one from
// overflowing a Duration).
const maxRetryAfter = 24 * time.Hour

// retryAfter reads when an upstream said to retry: OpenAI's retry-after-ms,
// else Retry-After in delta-seconds or as an HTTP date; 0 when none is
// given or it has passed.
func retryAfter(h http.Header, now time.Time) time.Duration {
	var d time.Duration
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms > 0 {
		d = time.Duration(min(ms, float64(maxRetryAfter/time.Millisecond)) * float64(time.Millisecond))
	} else if s := h.Get("Retry-After"); s == "" {
		return 0
	} else if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		d = time.Duration(min(max(n, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(s); err == nil && t.After(now) {
		d = t.Sub(now)
	}
	return min(d, maxRetryAfter)
}

type errorEnvelope struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		// Status is Gemini's name for the error (a string); Azure OpenAI
		// repeats the HTTP status there as a number, which is not read.
		Status any `json:"status"`
		Code   any `json:"code"`
	} `json:"error"`
}

// moderation reads what an error body says a moderator flagged:
// OpenRouter's metadata.reasons and flagged_input, or the categories that
// Azure OpenAI's innererror.content_filter_result marks filtered (sorted,
// as a map has no order). Parts of another shape are left out, never
// fatal to reading the rest of the error.
func moderation(body []byte) (reasons []string, flagged string) {
	var env struct {
		Error struct {
			Metadata struct {
				Reasons      json.RawMessage `json:"reasons"`
				FlaggedInput json.RawMessage `json:"flagged_input"`
			} `json:"metadata"`
			InnerError struct {
				Filter map[string]json.RawMessage `json:"content_filter_result"`
			} `json:"innererror"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil {
		return nil, ""
	}
	md := env.Error.Metadata
	_ = json.Unmarshal(md.Reasons, &reasons)
	_ = json.Unmarshal(md.FlaggedInput, &flagged)
	if len(reasons) == 0 {
		for category, raw := range env.Error.InnerError.Filter {
			var r struct {
				Filtered bool `json:"filtered"`
			}
			if json.Unmarshal(raw, &r) == nil && r.Filtered {
				reasons = append(reasons, category)
			}
		}
		slices.Sort(reasons)
	}
	return reasons, flagged
}

// googleReason is the reason of the ErrorInfo in a Google API error's
// details, empty when it has none.
func googleReason(body []byte) string {
	var env struct {
		Error struct {
			Details []struct {
				Type   string `json:"@type"`
				Reason string `json:"reason"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil {
		return ""
	}
	for _, d := range env.Error.Details {
		if strings.HasSuffix(d.Type, "google.rpc.ErrorInfo") {
			return d.Reason
		}
	}
	return ""
}

// plainError is the error shape of Hugging Face's TGI and of some vLLM
// builds: the message is the error member itself, {"error":"CUDA out of
// memory","error_type":"generation"}.
type plainError struct {
	Error     string `json:"error"`
	ErrorType string `json:"error_type"`
}

// flatError reads Mistral's error shape, {"object":"error","message":…,
// "type":…,"code":…}, whose message is a string or, for a body its schema
// refuses, {"detail":[{"loc":[…],"msg":…,"input":…}]}: each fault is given
// as where it is and what ("body.stream_options: Extra inputs are not
// permitted"), never its input, which may be the client's prompt.
func flatError(body []byte) (msg, typ, code string, ok bool) {
	var flat struct {
		Object  string          `json:"object"`
		Message json.RawMessage `json:"message"`
		Type    string          `json:"type"`
		Code    any             `json:"code"`
	}
	if json.Unmarshal(body, &flat) != nil || flat.Object != "error" || len(flat.Message) == 0 {
		return "", "", "", false
	}
	if json.Unmarshal(flat.Message, &msg) != nil {
		var faults struct {
			Detail []struct {
				Loc []any  `json:"loc"`
				Msg string `json:"msg"`
			} `json:"detail"`
		}
		if json.Unmarshal(flat.Message, &faults) != nil || len(faults.Detail) == 0 {
			return "", "", "", false
		}
		parts := make([]string, 0, len(faults.Detail))
		for _, d := range faults.Detail {
			at := make([]string, 0, len(d.Loc))
			for _, l := range d.Loc {
				switch v := l.(type) {
				case string:
					at = append(at, v)
				case float64:
					at = append(at, strconv.FormatFloat(v, 'f', -1, 64))
				}
			}
			parts = append(parts, strings.Join(at, ".")+": "+d.Msg)
		}
		msg = strings.Join(parts, "; ")
	}
	switch c := flat.Code.(type) {
	case string:
		code = c
	case float64:
		code = strconv.FormatFloat(c, 'f', -1, 64)
	}
	if code == "" {
		code = flat.Type
	}
	return msg, flat.Type, code, msg != ""
}

// errorMessage extracts message, type and code from an error body.
func errorMessage(body []byte) (msg, typ, code string) {
	var env errorEnvelope
	if json.Unmarshal(body, &env) != nil {
		var pe plainError
		if json.Unmarshal(body, &pe) == nil && pe.Error != "" {
			return pe.Error, pe.ErrorType, pe.ErrorType
		}
		var arr []errorEnvelope
		if json.Unmarshal(body, &arr) != nil || len(arr) == 0 {
			return "", "", ""
		}
		env = arr[0]
	}
	if env.Error.Message == "" {
		if msg, typ, code, ok := flatError(body); ok {
			return msg, typ, code
		}
	}
	switch c := env.Error.Code.(type) {
	case string:
		code = c
	case float64:
		code = strconv.FormatFloat(c, 'f', -1, 64)
	}
	status, _ := env.Error.Status.(string)
	typ = env.Error.Type
	if typ == "" {
		typ = status
	}
	if typ == "" {
		if s, ok := env.Error.Code.(string); ok {
			typ = s
		}
	}
	if status != "" {
		code = status // Gemini's code is the HTTP status; its status names the error
	}
	if code == "" {
		code = typ
	}
	return env.Error.Message, typ, code
}

// AnswerError is the error a 2xx body carries in place of an answer (a
// top-level "error" member that is not null, as some hosts send when they
// fail after their headers went out), nil when it carries none. Its status
// is read from the error, as an error event's is, so that failover treats
// it as it would the status.
func AnswerError(provider string, body []byte) *UpstreamError {
	failed := false
	jsonscan.Members(body, func(m jsonscan.Member) {
		failed = failed || string(m.Key) == "error" && m.Value[0] != 'n'
	})
	if !failed {
		return nil
	}
	return StreamError(provider, 0, body)
}

// StreamError is an error event inside a stream (after headers). A status
// of 0 is read from the event itself (eventStatus).
func StreamError(provider string, status int, data []byte) *UpstreamError {
	msg, typ, code := errorMessage(data)
	msg = RedactKeys(msg)
	if msg == "" {
		msg = "error event in stream"
	}
	if status == 0 {
		status = eventStatus(typ, code)
	}
	reasons, flagged := moderation(data)
	return &UpstreamError{Provider: provider, Status: status, Retryable: RetryableStatus(status), Message: msg, Type: typ, Code: code,
		Reasons: reasons, FlaggedInput: flagged}
}

// eventStatus is the HTTP status an error event stands for: its code when
// that is one (OpenRouter's and vLLM's are numbers), 429 for OpenAI's
// rate-limit and quota codes, 400 for a content filter's refusal of the
// input (which the next upstream would be sent for nothing), so that
// failover treats it as it would the status; else 502.
func eventStatus(typ, code string) int {
	if n, err := strconv.Atoi(code); err == nil && n >= 400 && n <= 599 {
		return n
	}
	for _, c := range [...]string{code, typ} {
		switch c {
		case "rate_limit_exceeded", "rate_limit_error", "insufficient_quota":
			return http.StatusTooManyRequests
		case "content_filter", "content_policy_violation", "invalid_prompt":
			return http.StatusBadRequest
		}
	}
	return http.StatusBadGateway
}
