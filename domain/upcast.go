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
	// A plain adjustment of v2 reads as v3 as it is: v3 adds the reversal.
	{TypeCreditsAdjusted, 2}: func(data []byte) ([]byte, error) { return data, nil },
	{TypePriceListPublished, 1}: func(data []byte) ([]byte, error) {
		// Before v2 every publication replaced the whole list.
		return withFields(data, map[string]any{"actor": unknownActor, "replace": true})
	},
}

// unknownActor is the actor of command events recorded before events named
// one: nobody can say now who caused them.
var unknownActor = Actor{Kind: ActorUnknown}

// The command events' v1 had no actor; v2 adds it. Their v1 bodies are read
// with the actor unknown.
func init() {
	for _, typ := range []string{TypeAccountOpened, TypePlanChanged, TypeAccountSuspended, TypeKeyIssued, TypeKeyRevoked,
		TypeCreditsToppedUp, TypeCreditsAdjusted, TypeInvoiceIssued, TypeInvoiceVoided, TypeAllowanceIssued,
		TypeQuoteIssued, TypeQuoteAccepted, TypeContractIssued, TypeInvoiceRangeSet, TypeStaffTokenIssued, TypeStaffTokenRevoked} {
		upcasters[upcastKey{typ, 1}] = func(data []byte) ([]byte, error) {
			return withFields(data, map[string]any{"actor": unknownActor})
		}
	}
}

// withFields sets fields of a JSON object, keeping every other field as is.
func withFields(data []byte, fields map[string]any) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		obj = map[string]json.RawMessage{}
	}
	for k, v := range fields {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		obj[k] = b
	}
	return json.Marshal(obj)
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
