package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/routefree/routefree/gateway/chat"
)

// This file renders the chat pipeline's answers as Responses API objects.
// No I/O.

// respObject is a Responses API response. The request's own settings are
// echoed as OpenAI echoes them; store is always false (nothing is kept).
type respObject struct {
	ID                 string          `json:"id"`
	Object             string          `json:"object"`
	CreatedAt          int64           `json:"created_at"`
	CompletedAt        *int64          `json:"completed_at"`
	Status             string          `json:"status"`
	Error              *respError      `json:"error"`
	IncompleteDetails  *respIncomplete `json:"incomplete_details"`
	Instructions       *string         `json:"instructions"`
	MaxOutputTokens    *int            `json:"max_output_tokens"`
	FrequencyPenalty   *float64        `json:"frequency_penalty"`
	Model              string          `json:"model"`
	Output             []any           `json:"output"`
	ParallelToolCalls  bool            `json:"parallel_tool_calls"`
	PresencePenalty    *float64        `json:"presence_penalty"`
	PreviousResponseID *string         `json:"previous_response_id"`
	Reasoning          json.RawMessage `json:"reasoning"`
	Store              bool            `json:"store"`
	Temperature        *float64        `json:"temperature"`
	Text               json.RawMessage `json:"text"`
	ToolChoice         json.RawMessage `json:"tool_choice"`
	Tools              json.RawMessage `json:"tools"`
	TopP               *float64        `json:"top_p"`
	Truncation         string          `json:"truncation"`
	Usage              *respUsage      `json:"usage"`
	User               *string         `json:"user"`
	Metadata           json.RawMessage `json:"metadata"`
}

type respError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type respIncomplete struct {
	Reason string `json:"reason"` // max_output_tokens | content_filter
}

// respUsage is the Responses usage: input_tokens include the cached ones
// and output_tokens the reasoning ones, as OpenAI counts them. cost and
// is_byok are the chat answer's (cost in NTD); cost_details splits it as
// OpenRouter's Responses usage does (input and output), chat's names kept
// beside them.
type respUsage struct {
	InputTokens        int `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int              `json:"total_tokens"`
	Cost        *chat.Cost       `json:"cost,omitempty"`
	IsBYOK      *bool            `json:"is_byok,omitempty"`
	CostDetails *respCostDetails `json:"cost_details,omitempty"`
}

// respCostDetails: @openrouter/sdk's Responses schema requires
// upstream_inference_input_cost and upstream_inference_output_cost.
type respCostDetails struct {
	chat.CostDetails
	UpstreamInferenceInputCost  chat.Cost `json:"upstream_inference_input_cost"`
	UpstreamInferenceOutputCost chat.Cost `json:"upstream_inference_output_cost"`
}

func respUsageOf(u *chat.Usage) *respUsage {
	if u == nil {
		return nil
	}
	r := &respUsage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, TotalTokens: u.PromptTokens + u.CompletionTokens,
		Cost: u.Cost, IsBYOK: u.IsBYOK}
	if d := u.CostDetails; d != nil {
		r.CostDetails = &respCostDetails{CostDetails: *d, UpstreamInferenceInputCost: d.UpstreamInferencePromptCost,
			UpstreamInferenceOutputCost: d.UpstreamInferenceCompletionsCost}
	}
	if d := u.PromptTokensDetails; d != nil {
		r.InputTokensDetails.CachedTokens = d.CachedTokens
	}
	if d := u.CompletionTokensDetails; d != nil {
		r.OutputTokensDetails.ReasoningTokens = d.ReasoningTokens
	}
	return r
}

// Output items. Their arrays that RouteFree never fills (annotations,
// summary) are zero-length arrays, so that they are written as [].
type respMessageItem struct {
	Type    string           `json:"type"` // message
	ID      string           `json:"id"`
	Status  string           `json:"status"`
	Role    string           `json:"role"`
	Content []respOutputPart `json:"content"`
}

type respOutputPart struct {
	Type        string      `json:"type"` // output_text
	Text        string      `json:"text"`
	Annotations [0]struct{} `json:"annotations"`
}

type respFunctionCall struct {
	Type      string `json:"type"` // function_call
	ID        string `json:"id"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	Status    string `json:"status"`
}

type respReasoningItem struct {
	Type    string              `json:"type"` // reasoning
	ID      string              `json:"id"`
	Summary [0]struct{}         `json:"summary"`
	Content []respReasoningText `json:"content"`
}

type respReasoningText struct {
	Type string `json:"type"` // reasoning_text
	Text string `json:"text"`
}

// respIDs names a response and its items after the request: the request
// gen-<hex> answers as resp_<hex> (GET /generation takes gen-<hex>).
type respIDs string

func newRespIDs(requestID string) respIDs { return respIDs(strings.TrimPrefix(requestID, "gen-")) }

func (h respIDs) response() string { return "resp_" + string(h) }

// item is the ID of the output item at index i.
func (h respIDs) item(prefix string, i int) string { return fmt.Sprintf("%s_%s_%d", prefix, h, i) }

// respChat is a chat answer or chunk, as much as Responses needs.
type respChat struct {
	Model   string `json:"model"`
	Created int64  `json:"created"`
	Choices []struct {
		Message      oaMessage `json:"message"`
		Delta        oaMessage `json:"delta"`
		FinishReason *string   `json:"finish_reason"`
	} `json:"choices"`
	Usage *chat.Usage `json:"usage"`
	Error *struct {
		Code     int             `json:"code"`
		Message  string          `json:"message"`
		Metadata json.RawMessage `json:"metadata"`
	} `json:"error"`
}

// respEcho builds the response object's echo of the request's settings.
func respEcho(r *respRequest, fields map[string]json.RawMessage) respObject {
	o := respObject{Object: "response", Instructions: r.Instructions, MaxOutputTokens: r.MaxOutputTokens,
		ParallelToolCalls: r.ParallelToolCalls == nil || *r.ParallelToolCalls, Temperature: r.Temperature, TopP: r.TopP,
		Truncation: "disabled", User: r.User, Output: []any{},
		Metadata: json.RawMessage(`{}`), Text: json.RawMessage(`{"format":{"type":"text"}}`),
		ToolChoice: json.RawMessage(`"auto"`), Tools: json.RawMessage(`[]`)}
	pick := func(dst *json.RawMessage, key string) {
		if v := fields[key]; given(v) {
			*dst = v
		}
	}
	pick(&o.Metadata, "metadata")
	pick(&o.Text, "text")
	pick(&o.ToolChoice, "tool_choice")
	pick(&o.Tools, "tools")
	// The penalties go to the chat pipeline as sent; a number is echoed.
	for key, dst := range map[string]**float64{"frequency_penalty": &o.FrequencyPenalty, "presence_penalty": &o.PresencePenalty} {
		var f float64
		if v := fields[key]; given(v) && json.Unmarshal(v, &f) == nil {
			*dst = &f
		}
	}
	effort := json.RawMessage("null")
	if r.Reasoning != nil && given(r.Reasoning.Effort) {
		effort = r.Reasoning.Effort
	}
	o.Reasoning, _ = json.Marshal(map[string]json.RawMessage{"effort": effort, "summary": json.RawMessage("null")})
	return o
}

// respStatus is the response status for a chat finish reason.
func respStatus(finish string) (string, *respIncomplete) {
	switch finish {
	case "length":
		return "incomplete", &respIncomplete{Reason: "max_output_tokens"}
	case "content_filter":
		return "incomplete", &respIncomplete{Reason: "content_filter"}
	}
	return "completed", nil
}

// respCompletedAt is completed_at for a response of this status: now,
// once it completed (OpenAI and OpenRouter write it then only), else null.
func respCompletedAt(status string) *int64 {
	if status != "completed" {
		return nil
	}
	now := time.Now().Unix()
	return &now
}

// renderResponse turns a chat completion into a response object.
func renderResponse(body []byte, ids respIDs, echo respObject) ([]byte, error) {
	var c respChat
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, err
	}
	o := echo
	o.ID, o.CreatedAt, o.Model, o.Usage = ids.response(), c.Created, c.Model, respUsageOf(c.Usage)
	o.Output = []any{}
	finish := ""
	if len(c.Choices) > 0 {
		ch := c.Choices[0]
		if ch.FinishReason != nil {
			finish = *ch.FinishReason
		}
		o.Status, o.IncompleteDetails = respStatus(finish)
		o.CompletedAt = respCompletedAt(o.Status)
		m := &ch.Message
		if r := m.reasoning(); r != "" {
			o.Output = append(o.Output, &respReasoningItem{Type: "reasoning", ID: ids.item("rs", len(o.Output)),
				Content: []respReasoningText{{Type: "reasoning_text", Text: r}}})
		}
		// A message item whenever there is text, or nothing else: the
		// SDKs' output_text reads it.
		if m.Content != nil && *m.Content != "" || len(m.ToolCalls) == 0 {
			text := ""
			if m.Content != nil {
				text = *m.Content
			}
			o.Output = append(o.Output, &respMessageItem{Type: "message", ID: ids.item("msg", len(o.Output)), Status: o.Status,
				Role: "assistant", Content: []respOutputPart{{Type: "output_text", Text: text}}})
		}
		for _, tc := range m.ToolCalls {
			o.Output = append(o.Output, &respFunctionCall{Type: "function_call", ID: ids.item("fc", len(o.Output)),
				CallID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments, Status: "completed"})
		}
	} else {
		o.Status = "completed"
		o.CompletedAt = respCompletedAt(o.Status)
	}
	return json.Marshal(&o)
}

// respParamNames are the chat pipeline's names of parameters a Responses
// client names otherwise.
var respParamNames = map[string]string{"max_tokens": "max_output_tokens"}

// respErrorBody is the gateway's error body with the parameter named as
// the client named it.
func respErrorBody(body []byte) []byte {
	var e struct {
		Error map[string]json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == nil {
		return body
	}
	var md map[string]any
	if json.Unmarshal(e.Error["metadata"], &md) != nil {
		return body
	}
	param, _ := md["param"].(string)
	name, ok := respParamNames[param]
	if !ok {
		return body
	}
	md["param"] = name
	e.Error["metadata"], _ = json.Marshal(md)
	var msg string
	if json.Unmarshal(e.Error["message"], &msg) == nil && strings.HasPrefix(msg, param) {
		e.Error["message"], _ = json.Marshal(name + strings.TrimPrefix(msg, param))
	}
	out, err := json.Marshal(e)
	if err != nil {
		return body
	}
	return bytes.TrimSpace(out)
}
