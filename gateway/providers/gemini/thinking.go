package gemini

import (
	"strings"

	"github.com/routefree/routefree/gateway/chat"
)

// thinkingRange is the thinkingBudget range Gemini documents for a model:
// 2.5 Pro takes 128–32768 and cannot turn thinking off; Flash-Lite takes 0
// or 512–24576; Flash 0–24576. ok is false for models that do not think
// (1.x, 2.0, Gemma), which reject a thinkingConfig.
func thinkingRange(model string) (lo, hi int, canDisable, ok bool) {
	m := strings.TrimPrefix(model, "models/")
	switch {
	case strings.HasPrefix(m, "gemini-1."), strings.HasPrefix(m, "gemini-2.0"), strings.HasPrefix(m, "gemma"):
		return 0, 0, false, false
	case strings.Contains(m, "flash-lite"):
		return 512, 24576, true, true
	case strings.Contains(m, "pro"):
		return 128, 32768, false, true
	}
	return 1, 24576, true, true
}

// mapThinking maps the client's reasoning request onto thinkingBudget:
// reasoning.max_tokens when given, else the effort's share (high 80%,
// medium 50%, low 20%) of the client's max_tokens, or of the model's
// largest budget when the client set none, kept within the model's range.
// Efforts none and minimal, and enabled false, turn thinking off where
// the model allows it and ask for its smallest budget where it does not.
// Thinking counts against maxOutputTokens, so the credit held for
// max_tokens still covers it. Thought summaries are asked for whenever the
// model thinks, unless the client excluded them (reasoning.exclude): they
// come back as the message's reasoning, as OpenRouter returns them.
func mapThinking(req *chat.Request, model string) *thinkingConfig {
	rs := req.Reasoning
	lo, hi, canDisable, ok := thinkingRange(model)
	if rs == nil || !ok {
		return nil
	}
	basis := hi
	if req.MaxCompletionTokens != nil || req.MaxTokens != nil {
		basis = req.MaxOutputTokens(hi)
	}
	budget := rs.Budget(basis)
	switch {
	case budget == 0 && canDisable:
	case budget == 0:
		budget = lo
	default:
		budget = min(max(budget, lo), hi)
	}
	return &thinkingConfig{ThinkingBudget: budget, IncludeThoughts: budget > 0 && !req.ExcludeReasoning}
}
