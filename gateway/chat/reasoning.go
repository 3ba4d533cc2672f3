package chat

import (
	"math"

	fastjson "github.com/segmentio/encoding/json"
)

// Reasoning efforts, as OpenAI's reasoning_effort and OpenRouter's
// reasoning.effort spell them.
const (
	EffortNone    = "none"
	EffortMinimal = "minimal"
	EffortLow     = "low"
	EffortMedium  = "medium"
	EffortHigh    = "high"
	EffortXHigh   = "xhigh"
)

// Reasoning is how much the client wants the model to think before it
// answers: OpenAI's reasoning_effort and OpenRouter's reasoning object,
// merged. Request.Reasoning is nil when the client asked nothing.
type Reasoning struct {
	Effort    string // an Effort value, or "" when only a budget or a switch was given
	MaxTokens *int   // reasoning.max_tokens: an explicit thinking budget
	Enabled   *bool  // reasoning.enabled
	// reasoning.exclude is Request.ExcludeReasoning: it may come alone.
}

// effortShares are the parts of the output allowance each effort gives to
// thinking, as OpenRouter maps efforts onto token budgets.
var effortShares = map[string]float64{
	EffortNone: 0, EffortMinimal: 0,
	EffortLow: 0.2, EffortMedium: 0.5, EffortHigh: 0.8, EffortXHigh: 0.95,
}

// Budget returns the thinking budget asked for, in tokens, given the
// request's output allowance: reasoning.max_tokens when given, else the
// effort's share of maxOutput (medium for a bare enabled:true). 0 asks for
// as little thinking as the model allows: enabled false, effort none or
// minimal. Providers clamp the result to what their models accept.
func (r *Reasoning) Budget(maxOutput int) int {
	switch {
	case r.Enabled != nil && !*r.Enabled:
		return 0
	case r.MaxTokens != nil:
		return *r.MaxTokens
	}
	effort := r.Effort
	if effort == "" {
		effort = EffortMedium
	}
	share := effortShares[effort]
	if share == 0 {
		return 0
	}
	// At least 1, so a real effort on a tiny allowance still asks for
	// some thinking rather than none.
	return max(1, int(math.Round(share*float64(max(maxOutput, 0)))))
}

// NearestEffort returns the effort among takes (the efforts a model
// accepts) nearest to what the request asks, as OpenRouter sends any
// effort to any reasoning model: the effort asked for; else the share of
// maxOutput that reasoning.max_tokens is; else medium for enabled, the
// least for reasoning turned off.
func (r *Reasoning) NearestEffort(takes []string, maxOutput int) string {
	want := effortShares[EffortMedium]
	switch {
	case r.Enabled != nil && !*r.Enabled:
		want = 0
	case r.Effort != "":
		want = effortShares[r.Effort]
	case r.MaxTokens != nil && maxOutput > 0:
		want = float64(*r.MaxTokens) / float64(maxOutput)
	}
	best := ""
	for _, e := range takes {
		share, ok := effortShares[e]
		if ok && (best == "" || math.Abs(share-want) < math.Abs(effortShares[best]-want)) {
			best = e
		}
	}
	return best
}

// reasoningObject is OpenRouter's reasoning parameter as it arrives.
type reasoningObject struct {
	Effort    *string `json:"effort"`
	MaxTokens *int    `json:"max_tokens"`
	Exclude   *bool   `json:"exclude"`
	Enabled   *bool   `json:"enabled"`
}

// parseReasoning merges reasoning_effort and the reasoning object (either
// may be absent or null) and validates them; exclude is reasoning.exclude,
// which may come without anything else.
func parseReasoning(effortRaw, objectRaw RawJSON) (r *Reasoning, exclude bool, err error) {
	var effort string
	if given(effortRaw) {
		if err := fastjson.Unmarshal(effortRaw, &effort); err != nil {
			return nil, false, fieldError("reasoning_effort", effortRaw, err)
		}
		if _, ok := effortShares[effort]; !ok {
			return nil, false, invalidEffort("reasoning_effort")
		}
	}
	var o reasoningObject
	if given(objectRaw) {
		if firstByte(objectRaw) != '{' {
			return nil, false, invalid("reasoning", "must be an object")
		}
		if err := fastjson.Unmarshal(objectRaw, &o); err != nil {
			return nil, false, fieldError("reasoning", objectRaw, err)
		}
	}
	exclude = o.Exclude != nil && *o.Exclude
	r = &Reasoning{Effort: effort, MaxTokens: o.MaxTokens, Enabled: o.Enabled}
	if o.Effort != nil {
		if _, ok := effortShares[*o.Effort]; !ok {
			return nil, false, invalidEffort("reasoning.effort")
		}
		switch {
		case effort == "":
			r.Effort = *o.Effort
		case effort != *o.Effort:
			return nil, false, invalid("reasoning.effort", "is %q but reasoning_effort is %q; send one", *o.Effort, effort)
		}
	}
	if r.MaxTokens != nil && (*r.MaxTokens < 0 || *r.MaxTokens > MaxTokenCount) {
		return nil, false, invalid("reasoning.max_tokens", "must be a whole number of tokens from 0 to %d, got %d", MaxTokenCount, *r.MaxTokens)
	}
	if r.Enabled != nil && !*r.Enabled && ((r.Effort != "" && r.Effort != EffortNone) || (r.MaxTokens != nil && *r.MaxTokens > 0)) {
		return nil, false, invalid("reasoning.enabled", "is false, but an effort or a max_tokens asks for reasoning")
	}
	if r.Effort == "" && r.MaxTokens == nil && r.Enabled == nil {
		return nil, exclude, nil // only exclude, or nothing: no reasoning asked for
	}
	return r, exclude, nil
}

// given reports whether a field was sent with a value other than null.
func given(v RawJSON) bool { return v != nil && firstByte(v) != 'n' }

func invalidEffort(param string) *ValidationError {
	return invalid(param, `must be one of "none", "minimal", "low", "medium", "high", "xhigh"`)
}
