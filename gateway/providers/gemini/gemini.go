// Package gemini translates OpenAI chat completions to Gemini's
// generateContent / streamGenerateContent (alt=sse) and back.
package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/internal/core"
)

// Adapter speaks Gemini's API. Upstream.BaseURL is the host root, e.g.
// https://generativelanguage.googleapis.com.
type Adapter struct{}

// Send translates the request, calls the model and translates back.
func (Adapter) Send(ctx context.Context, hc *http.Client, up core.Upstream, req *chat.Request) (*core.Result, error) {
	gr, err := translate(req, up.Model)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(gr)
	if err != nil {
		return nil, err
	}
	url := strings.TrimSuffix(strings.TrimSuffix(up.BaseURL, "/"), "/v1beta") + "/v1beta/models/" + up.Model
	if req.Stream {
		url += ":streamGenerateContent?alt=sse"
	} else {
		url += ":generateContent"
	}
	resp, err := core.Post(ctx, hc, up.Provider, url, body, req.Stream, http.Header{"X-Goog-Api-Key": {up.APIKey}})
	if err != nil {
		return nil, contextOverflow(err)
	}
	oneCall := req.ParallelToolCalls != nil && !*req.ParallelToolCalls
	if req.Stream {
		s := newStream(up.Provider, req.Model, req.Choices(), resp.Body)
		s.oneCall = oneCall
		return &core.Result{Stream: s}, nil
	}
	b, err := core.ReadBody(up.Provider, resp)
	if err != nil {
		return nil, err
	}
	if ae := core.AnswerError(up.Provider, b); ae != nil {
		return nil, ae // an error sent with a 200
	}
	r, err := decodeResponse(b, req.Model)
	if err != nil {
		return nil, core.BadResponse(up.Provider, err)
	}
	if oneCall {
		keepFirstCall(r)
	}
	return &core.Result{Response: r}, nil
}

// keepFirstCall answers parallel_tool_calls false, which Gemini has no
// switch for: of the function calls the model made at once, only the
// first is kept, as a model that calls one function at a time would have
// made it. The thought signatures of the calls left out go with them
// (Gemini signs the first call of a turn, which stays).
func keepFirstCall(r *chat.Response) {
	for i := range r.Choices {
		m := &r.Choices[i].Message
		if len(m.ToolCalls) <= 1 {
			continue
		}
		dropped := map[string]bool{}
		for _, tc := range m.ToolCalls[1:] {
			dropped[tc.ID] = true
		}
		m.ToolCalls = m.ToolCalls[:1]
		kept := m.ReasoningDetails[:0]
		for _, d := range m.ReasoningDetails {
			if d.Type == chat.ReasoningEncrypted && dropped[d.ID] {
				continue
			}
			d.Index = len(kept)
			kept = append(kept, d)
		}
		m.ReasoningDetails = kept
	}
}

type response struct {
	Candidates     []candidate    `json:"candidates"`
	UsageMetadata  *usageMetadata `json:"usageMetadata"`
	ResponseID     string         `json:"responseId"`
	PromptFeedback *struct {
		BlockReason string `json:"blockReason"`
	} `json:"promptFeedback"`
	Error *json.RawMessage `json:"error"`
}

type candidate struct {
	Content      content `json:"content"`
	FinishReason string  `json:"finishReason"`
	Index        int     `json:"index"`
}

type usageMetadata struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount"`
	CachedContentTokenCount int `json:"cachedContentTokenCount"`
	ToolUsePromptTokenCount int `json:"toolUsePromptTokenCount"`
	// unreadable: a count was not written as an integer that fits (see UnmarshalJSON).
	unreadable bool
}

// UnmarshalJSON reads a usage report and never fails: one whose counts
// are not written as integers that fit (33.5, 1e2, a string) is kept as
// unreadable, for the gateway to refuse and count the answer itself,
// rather than failing the event, and with it the answer.
func (u *usageMetadata) UnmarshalJSON(b []byte) error {
	type plain usageMetadata
	if fastjson.Unmarshal(b, (*plain)(u)) != nil {
		*u = usageMetadata{unreadable: true}
	}
	return nil
}

// openAI maps usage: thoughts are reasoning tokens inside completion
// tokens; cached content is inside the prompt count already.
func (u usageMetadata) openAI() chat.Usage {
	cu := chat.NewUsage(u.PromptTokenCount+u.ToolUsePromptTokenCount, u.CandidatesTokenCount+u.ThoughtsTokenCount,
		u.CachedContentTokenCount, u.ThoughtsTokenCount)
	cu.Unreadable = u.unreadable
	return cu
}

// finishReason normalises Gemini's finish reason as OpenRouter does: its
// filters' reasons are content_filter, and a generation that ended without
// a natural stop (a function call the model could not form, a call of a
// tool it was not given, an unsupported language, an unknown reason) is
// "error".
func finishReason(reason string, calls bool) string {
	switch reason {
	case "MAX_TOKENS":
		return chat.FinishLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return chat.FinishContentFilter
	case "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS", "MALFORMED_RESPONSE",
		"MISSING_THOUGHT_SIGNATURE", "LANGUAGE", "OTHER", "IMAGE_OTHER", "NO_IMAGE", "FINISH_REASON_UNSPECIFIED":
		return chat.FinishError
	}
	if calls {
		return chat.FinishToolCalls
	}
	return chat.FinishStop
}

// callID names a function call: Gemini's own id when it gives one.
func callID(fc *functionCall) string {
	if fc.ID != "" {
		return fc.ID
	}
	return "call_" + strconv.FormatUint(rand.Uint64(), 36)
}

// signatureDetail carries a thought signature as OpenRouter does: an
// encrypted detail, naming the function call it came with.
func signatureDetail(signature, callID string, index int) chat.ReasoningDetail {
	return chat.ReasoningDetail{Type: chat.ReasoningEncrypted, Data: signature, ID: callID, Format: chat.FormatGemini, Index: index}
}

func args(fc *functionCall) string {
	if len(fc.Args) == 0 {
		return "{}"
	}
	return string(fc.Args)
}

func decodeResponse(b []byte, model string) (*chat.Response, error) {
	var r response
	if err := fastjson.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	out := &chat.Response{ID: r.ResponseID, Object: "chat.completion", Created: time.Now().Unix(), Model: model,
		Choices: make([]chat.Choice, 0, len(r.Candidates))}
	for _, c := range r.Candidates {
		var text, thought strings.Builder
		var calls []chat.ToolCall
		var details []chat.ReasoningDetail
		for i := range c.Content.Parts {
			p := &c.Content.Parts[i]
			id := ""
			switch {
			case p.FunctionCall != nil:
				id = callID(p.FunctionCall)
				calls = append(calls, chat.ToolCall{ID: id, Type: "function",
					Function: chat.FunctionCall{Name: p.FunctionCall.Name, Arguments: args(p.FunctionCall)}})
			case p.Thought:
				thought.WriteString(p.Text)
				details = append(details, chat.ReasoningDetail{Type: chat.ReasoningText, Text: p.Text, Format: chat.FormatGemini, Index: len(details)})
			default:
				text.WriteString(p.Text)
			}
			if p.ThoughtSignature != "" {
				details = append(details, signatureDetail(p.ThoughtSignature, id, len(details)))
			}
		}
		msg := chat.Message{Role: chat.RoleAssistant, ToolCalls: calls}
		if text.Len() > 0 || len(calls) == 0 {
			msg.Content = chat.TextContent(text.String())
		}
		if thought.Len() > 0 {
			r := thought.String()
			msg.Reasoning = &r
		}
		msg.ReasoningDetails = details
		out.Choices = append(out.Choices, chat.Choice{Index: c.Index, Message: msg, FinishReason: finishReason(c.FinishReason, len(calls) > 0),
			NativeFinishReason: chat.Native(c.FinishReason)})
	}
	if len(out.Choices) == 0 && r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
		out.Choices = append(out.Choices, chat.Choice{Message: chat.Message{Role: chat.RoleAssistant, Content: chat.TextContent("")},
			FinishReason: chat.FinishContentFilter, NativeFinishReason: chat.Native(r.PromptFeedback.BlockReason)})
	}
	if r.UsageMetadata != nil {
		u := r.UsageMetadata.openAI()
		out.Usage = &u
	}
	return out, nil
}

// inputTooLong is Gemini's refusal of a prompt longer than the model's
// context: "The input token count (1200293) exceeds the maximum number of
// tokens allowed (1048576)."
var inputTooLong = regexp.MustCompile(`(?i)input token count \((\d+)\) exceeds the maximum number of tokens allowed \((\d+)\)`)

// contextOverflow restates Gemini's context-length refusal as OpenAI's
// (core.ContextOverflow), for the clients that recognise OpenAI's; any
// other error is returned as it is.
func contextOverflow(err error) error {
	var ue *core.UpstreamError
	if !errors.As(err, &ue) || ue.Status != http.StatusBadRequest {
		return err
	}
	if m := inputTooLong.FindStringSubmatch(ue.Message); m != nil {
		prompt, _ := strconv.ParseInt(m[1], 10, 64)
		limit, _ := strconv.ParseInt(m[2], 10, 64)
		core.ContextOverflow(ue, limit, prompt, 0)
	}
	return err
}
