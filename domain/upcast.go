package domain

import (
	"encoding/json"
)

type upcastKey struct {
	typ     string
	version int
}

// upcasters turn the JSON of version N of a type into version N+1. History is
// never edited: old events are read through these.
var upcasters = map[upcastKey]func([]byte) ([]byte, error){
	{TypeRequestCompleted, 1}: upcastRequestCompletedV1,
}

// requestCompletedV1 is the first shape of request.completed: flat prompt and
// completion token counts, no cached or reasoning tokens, and the price list
// unnamed (version 1 was the only list then).
type requestCompletedV1 struct {
	RequestCompleted
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
}

func upcastRequestCompletedV1(data []byte) ([]byte, error) {
	var v1 requestCompletedV1
	if err := json.Unmarshal(data, &v1); err != nil {
		return nil, err
	}
	v2 := v1.RequestCompleted
	v2.Usage = Usage{Input: v1.PromptTokens, Output: v1.CompletionTokens}
	if v2.PriceList == 0 {
		v2.PriceList = 1
	}
	if v2.Outcome == "" {
		v2.Outcome = OutcomeCompleted
	}
	return json.Marshal(v2)
}
