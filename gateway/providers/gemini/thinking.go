package gemini

import (
	"strconv"
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

// Gemini 3's thinking levels, from least to most thinking.
const (
	levelMinimal = "minimal"
	levelLow     = "low"
	levelMedium  = "medium"
	levelHigh    = "high"
)

// thinkingLevels is the levels a Gemini 3 (or later) model takes, least
// first, or nil for a model that takes a budget. Gemini 3 Pro takes low and
// high; later Pro models add medium; Flash models take all four. None can
// turn thinking off: minimal (or Pro's low) is the least there is.
func thinkingLevels(model string) []string {
	m := strings.TrimPrefix(model, "models/")
	rest, ok := strings.CutPrefix(m, "gemini-")
	if !ok {
		return nil
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if major, err := strconv.Atoi(rest[:i]); err != nil || major < 3 {
		return nil
	}
	version := rest[:i]
	if i < len(rest) && rest[i] == '.' { // 3.1, 3.5…
		j := i + 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		version = rest[:j]
	}
	if strings.Contains(rest, "pro") {
		if version == "3" || version == "3.0" {
			return []string{levelLow, levelHigh}
		}
		return []string{levelLow, levelMedium, levelHigh}
	}
	return []string{levelMinimal, levelLow, levelMedium, levelHigh}
}

// levelFor maps an effort onto the nearest level the model takes: none,
// minimal and enabled false ask for its least thinking; medium on a model
// without it gets high, the models' own default.
func levelFor(rs *chat.Reasoning, levels []string) string {
	want := levelMedium
	switch {
	case rs.Enabled != nil && !*rs.Enabled:
		want = levelMinimal
	default:
		switch rs.Effort {
		case chat.EffortNone, chat.EffortMinimal:
			want = levelMinimal
		case chat.EffortLow:
			want = levelLow
		case chat.EffortHigh, chat.EffortXHigh:
			want = levelHigh
		}
	}
	if want == levelMinimal {
		return levels[0]
	}
	for _, l := range levels {
		if l == want {
			return l
		}
	}
	return levelHigh
}

// mapThinking maps the client's reasoning request onto the thinking
// config. Gemini 3 and later models take a level: the effort's nearest
// (levelFor), or none with a bare enabled true, which leaves the model's
// own dynamic default; an explicit reasoning.max_tokens still goes as a
// budget, which they accept too. Earlier models take thinkingBudget:
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
	if levels := thinkingLevels(model); levels != nil && rs.MaxTokens == nil {
		cfg := &thinkingConfig{IncludeThoughts: !req.ExcludeReasoning}
		if rs.Effort != "" || rs.Enabled != nil && !*rs.Enabled {
			cfg.ThinkingLevel = levelFor(rs, levels)
		}
		return cfg
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
	return &thinkingConfig{ThinkingBudget: &budget, IncludeThoughts: budget > 0 && !req.ExcludeReasoning}
}
