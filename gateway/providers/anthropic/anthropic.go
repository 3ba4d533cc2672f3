// Package anthropic translates OpenAI chat completions to Anthropic's
// Messages API and back, for plain and streamed answers.
package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/internal/core"
)

// Version is the anthropic-version header sent.
const Version = "2023-06-01"

// Adapter speaks Anthropic's Messages API. Upstream.BaseURL is the host
// root, e.g. https://api.anthropic.com.
type Adapter struct{}

// Send translates the request, calls /v1/messages and translates back.
func (Adapter) Send(ctx context.Context, hc *http.Client, up core.Upstream, req *chat.Request) (*core.Result, error) {
	ar, jsonTool, err := translate(req, up.Model)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(ar)
	if err != nil {
		return nil, err
	}
	header := http.Header{"X-Api-Key": {up.APIKey}, "Anthropic-Version": {Version}}
	url := strings.TrimSuffix(strings.TrimSuffix(up.BaseURL, "/"), "/v1") + "/v1/messages"
	resp, err := core.Post(ctx, hc, up.Provider, url, body, req.Stream, header)
	if err != nil {
		return nil, contextOverflow(err)
	}
	if req.Stream {
		st := newStream(up.Provider, req.Model, jsonTool, resp.Body)
		st.stops = ar.applied
		return &core.Result{Stream: st}, nil
	}
	b, err := core.ReadBody(up.Provider, resp)
	if err != nil {
		return nil, err
	}
	if ae := core.AnswerError(up.Provider, b); ae != nil {
		return nil, ae // an error sent with a 200
	}
	r, err := decodeResponse(b, req.Model, jsonTool, ar.applied)
	if err != nil {
		return nil, core.BadResponse(up.Provider, err)
	}
	return &core.Result{Response: r}, nil
}

type response struct {
	ID         string         `json:"id"`
	Model      string         `json:"model"`
	Content    []contentBlock `json:"content"`
	StopReason string         `json:"stop_reason"`
	Usage      usage          `json:"usage"`
}

type contentBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Thinking  string          `json:"thinking"`
	Signature string          `json:"signature"`
	Data      string          `json:"data"` // redacted_thinking
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

type usage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	// CacheCreation splits the writes by how long they stay cached
	// (cache_control's ttl): Anthropic charges 2 × input for an hour,
	// 1.25 × for five minutes.
	CacheCreation *cacheCreation `json:"cache_creation"`
	// unreadable: a count was not written as an integer that fits (see UnmarshalJSON).
	unreadable bool
}

// UnmarshalJSON reads a usage report and never fails: one whose counts
// are not written as integers that fit (33.5, 1e2, a string) is kept as
// unreadable, for the gateway to refuse and count the answer itself,
// rather than failing the event, and with it an answer whose content
// came whole.
func (u *usage) UnmarshalJSON(b []byte) error {
	type plain usage
	if fastjson.Unmarshal(b, (*plain)(u)) != nil {
		*u = usage{unreadable: true}
	}
	return nil
}

type cacheCreation struct {
	Ephemeral5m int `json:"ephemeral_5m_input_tokens"`
	Ephemeral1h int `json:"ephemeral_1h_input_tokens"`
}

// openAI maps usage: OpenAI's prompt_tokens counts every input token,
// cached or not, so cache reads and writes are added back in.
func (u usage) openAI() chat.Usage {
	cu := chat.NewUsage(u.InputTokens+u.CacheReadInputTokens+u.CacheCreationInputTokens, u.OutputTokens, u.CacheReadInputTokens, 0)
	cu.PromptTokensDetails.CacheWriteTokens = u.CacheCreationInputTokens
	cu.Unreadable = u.unreadable
	if u.CacheCreation != nil {
		cu.PromptTokensDetails.CacheWrite1hTokens = min(max(u.CacheCreation.Ephemeral1h, 0), u.CacheCreationInputTokens)
	}
	return cu
}

// inputCounts reports whether a message_delta's usage repeats the input
// counts (newer API versions do), which then replace message_start's.
func (u usage) inputCounts() bool {
	return u.InputTokens > 0 || u.CacheReadInputTokens > 0 || u.CacheCreationInputTokens > 0
}

// takeDelta takes a message_delta's usage: its output count is
// cumulative, and newer API versions repeat the input counts too, which
// then replace message_start's.
func (u *usage) takeDelta(d *usage) {
	u.OutputTokens = d.OutputTokens
	if d.inputCounts() {
		u.takeInput(d)
	}
	u.unreadable = u.unreadable || d.unreadable
}

// takeInput replaces u's input counts with d's.
func (u *usage) takeInput(d *usage) {
	u.InputTokens, u.CacheReadInputTokens, u.CacheCreationInputTokens = d.InputTokens, d.CacheReadInputTokens, d.CacheCreationInputTokens
	if d.CacheCreation != nil {
		u.CacheCreation = d.CacheCreation
	}
}

func finishReason(stop string, jsonTool string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return chat.FinishLength
	case "tool_use":
		if jsonTool != "" {
			return chat.FinishStop
		}
		return chat.FinishToolCalls
	case "refusal":
		return chat.FinishContentFilter
	}
	return chat.FinishStop // end_turn, stop_sequence, pause_turn
}

// decodeResponse turns a Messages answer into an OpenAI completion.
// Thinking blocks become the message's reasoning text and, with their
// signatures, its reasoning_details, as OpenRouter returns them; Anthropic
// bills them as output tokens but reports no separate count.
//
// The answer's text ends where the first of stops begins (splitStops):
// what followed, tool calls included, is left out, as OpenAI's model would
// not have written it. The usage stays Anthropic's, which counted it.
func decodeResponse(b []byte, model, jsonTool string, stops []string) (*chat.Response, error) {
	var r response
	if err := fastjson.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	var text, thought strings.Builder
	var calls []chat.ToolCall
	var details []chat.ReasoningDetail
blocks:
	for _, c := range r.Content {
		switch c.Type {
		case "thinking":
			thought.WriteString(c.Thinking)
			details = append(details, chat.ReasoningDetail{Type: chat.ReasoningText, Text: c.Thinking, Signature: c.Signature,
				Format: chat.FormatAnthropic, Index: len(details)})
		case "redacted_thinking":
			details = append(details, chat.ReasoningDetail{Type: chat.ReasoningEncrypted, Data: c.Data, Format: chat.FormatAnthropic, Index: len(details)})
		case "text":
			text.WriteString(c.Text)
			if at := stopAt(text.String(), stops); at >= 0 {
				cut := text.String()[:at]
				text.Reset()
				text.WriteString(cut)
				r.StopReason = "stop_sequence"
				break blocks
			}
		case "tool_use":
			args := string(c.Input)
			if args == "" {
				args = "{}"
			}
			if jsonTool != "" && c.Name == jsonTool {
				text.WriteString(args)
				continue
			}
			calls = append(calls, chat.ToolCall{ID: c.ID, Type: "function", Function: chat.FunctionCall{Name: c.Name, Arguments: args}})
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
	u := r.Usage.openAI()
	return &chat.Response{ID: r.ID, Object: "chat.completion", Created: time.Now().Unix(), Model: model,
		Choices: []chat.Choice{{Index: 0, Message: msg, FinishReason: finishReason(r.StopReason, jsonTool), NativeFinishReason: chat.Native(r.StopReason)}},
		Usage:   &u}, nil
}

// Anthropic's refusals of a request longer than the model's context: the
// prompt alone ("prompt is too long: 208310 tokens > 200000 maximum"), or
// the prompt and max_tokens together ("input length and `max_tokens`
// exceed context limit: 195000 + 8192 > 200000, …").
var (
	promptTooLong  = regexp.MustCompile(`prompt is too long: (\d+) tokens > (\d+) maximum`)
	inputExceedsCx = regexp.MustCompile("input length and `?max_tokens`? exceed context limit: (\\d+) \\+ (\\d+) > (\\d+)")
)

// contextOverflow restates Anthropic's context-length refusal as OpenAI's
// (core.ContextOverflow), for the chat clients that recognise OpenAI's;
// any other error is returned as it is. /messages, whose clients read
// Anthropic's own words, does not pass through here.
func contextOverflow(err error) error {
	var ue *core.UpstreamError
	if !errors.As(err, &ue) || ue.Status != http.StatusBadRequest {
		return err
	}
	num := func(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
	if m := promptTooLong.FindStringSubmatch(ue.Message); m != nil {
		core.ContextOverflow(ue, num(m[2]), num(m[1]), 0)
	} else if m := inputExceedsCx.FindStringSubmatch(ue.Message); m != nil {
		core.ContextOverflow(ue, num(m[3]), num(m[1]), num(m[2]))
	}
	return err
}
