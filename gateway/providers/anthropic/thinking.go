package anthropic

import (
	"fmt"
	"strings"

	"github.com/routefree/routefree/gateway/chat"
)

// Extended thinking limits.
const (
	// MinThinkingBudget is Anthropic's smallest budget_tokens.
	MinThinkingBudget = 1024
	// maxEffortBudget caps budgets derived from an effort, as OpenRouter
	// does; an explicit reasoning.max_tokens may go higher.
	maxEffortBudget = 32000
	// DefaultThinkingMaxTokens replaces DefaultMaxTokens when thinking is
	// on and the client set no limit, leaving room for an answer after the
	// budget. With no limit set the gateway holds credit for the catalog's
	// output cap of the model (32768 unless configured), so this default
	// stays inside the hold; every Claude model that thinks accepts it.
	DefaultThinkingMaxTokens = 16000
	// minThinkingTopP is the lowest top_p Anthropic accepts with thinking.
	minThinkingTopP = 0.95
)

// applyThinking maps the client's reasoning request onto extended thinking:
// budget_tokens is reasoning.max_tokens when given, else the effort's share
// of max_tokens (high 80%, medium 50%, low 20%) within [1024, 32000];
// efforts none and minimal leave thinking off.
//
// max_tokens is never raised to fit the budget: the gateway held credit for
// the client's max_tokens, and Anthropic bills thinking as output, so a
// larger max_tokens could spend more than was held. A budget that does not
// fit below the client's max_tokens is a 400 instead.
func (r *request) applyThinking(req *chat.Request, model string) error {
	rs := req.Reasoning
	if rs == nil || !canThink(model) || r.forcesTool() || r.continuesAssistantTurn() {
		return nil
	}
	limit, param := DefaultThinkingMaxTokens, "reasoning.max_tokens"
	if req.MaxCompletionTokens != nil {
		limit, param = *req.MaxCompletionTokens, "max_completion_tokens"
	} else if req.MaxTokens != nil {
		limit, param = *req.MaxTokens, "max_tokens"
	}
	budget := rs.Budget(limit)
	if budget == 0 {
		return nil // as little thinking as Claude allows: none
	}
	if rs.MaxTokens == nil {
		budget = min(budget, maxEffortBudget)
	}
	budget = max(budget, MinThinkingBudget)
	if budget >= limit {
		if param == "reasoning.max_tokens" {
			return &chat.ValidationError{Param: param, Message: fmt.Sprintf(
				"must be below max_tokens, which defaults to %d for Anthropic models with reasoning; set max_tokens above it", limit)}
		}
		return &chat.ValidationError{Param: param, Message: fmt.Sprintf(
			"must be greater than the reasoning budget of %d tokens (Anthropic's minimum is %d); raise it or lower the reasoning", budget, MinThinkingBudget)}
	}
	r.MaxTokens = limit
	r.Thinking = &thinking{Type: "enabled", BudgetTokens: budget}
	// Claude thinks at fixed sampling: temperature and top_k must be unset
	// and top_p at least 0.95. They are dropped to what is allowed rather
	// than rejected, as many clients send a temperature with every request.
	r.Temperature, r.TopK = nil, nil
	if r.TopP != nil && *r.TopP < minThinkingTopP {
		p := minThinkingTopP
		r.TopP = &p
	}
	return nil
}

// forcesTool: Anthropic rejects thinking with a forced tool, whether the
// client's tool_choice or the one that asks for structured output. The
// tool call is the answer's contract, so thinking gives way.
func (r *request) forcesTool() bool {
	return r.ToolChoice != nil && (r.ToolChoice.Type == "any" || r.ToolChoice.Type == "tool")
}

// continuesAssistantTurn reports a request that continues an assistant
// turn without the thinking it began with: a prefill, or tool results for
// the last assistant message's tool calls when that message came back
// without its signed thinking blocks (its reasoning_details). With
// thinking on, Anthropic wants such a turn to start with them, so these
// requests go without thinking.
func (r *request) continuesAssistantTurn() bool {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		m := r.Messages[i]
		if m.Role != "assistant" {
			continue
		}
		if i == len(r.Messages)-1 {
			return true // prefill
		}
		if len(m.Content) > 0 && isThinking(m.Content[0]) {
			return false
		}
		for _, b := range m.Content {
			if b.Type == "tool_use" {
				return true
			}
		}
		return false
	}
	return false
}

// canThink reports whether a model supports extended thinking: Claude 3.7
// and every later model; older ones reject the parameter.
func canThink(model string) bool {
	switch {
	case strings.HasPrefix(model, "claude-3-7"):
		return true
	case strings.HasPrefix(model, "claude-3"), strings.HasPrefix(model, "claude-2"), strings.HasPrefix(model, "claude-instant"):
		return false
	}
	return true
}
