package domain

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

func TestValidTaxID(t *testing.T) {
	for ban, want := range map[string]bool{
		"04595257": true,  // MOF example
		"10458575": true,  // 7th digit 7
		"22099131": true,  // TSMC
		"04595252": true,  // valid only under the divisor-5 rule
		"10458570": true,  // divisor-5 rule with the 7th-digit case
		"10458574": true,  // valid only when the 7th digit's 28 counts as 1
		"10458504": false, // the same sum, but the 7th digit is not 7
		"12345678": false, // fails both rules
		"1234567":  false,
		"1234567A": false,
	} {
		if got := ValidTaxID(ban); got != want {
			t.Errorf("ValidTaxID(%s) = %v, want %v", ban, got, want)
		}
	}
}

func TestRequestCompletedV1IsUpcast(t *testing.T) {
	v1 := []byte(`{"request_id":"r1","account_id":"a","model":"openai/gpt-4.1","prompt_tokens":120,"completion_tokens":30,"cost":"0.0123"}`)
	ev, err := Decode(TypeRequestCompleted, 1, v1)
	if err != nil {
		t.Fatal(err)
	}
	rc := ev.(*RequestCompleted)
	if rc.Usage.Input != 120 || rc.Usage.Output != 30 || rc.PriceList != 1 || rc.Outcome != OutcomeCompleted || !rc.Cost.Equal(decimal.RequireFromString("0.0123")) {
		t.Fatalf("upcast v1 = %+v", rc)
	}
	// The current version round-trips unchanged.
	b, _ := Encode(rc)
	ev2, err := Decode(TypeRequestCompleted, 2, b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(ev2)
	if string(b) != string(b2) {
		t.Fatalf("v2 round trip changed:\n%s\n%s", b, b2)
	}
	if _, err := Decode(TypeRequestCompleted, 3, b); err == nil {
		t.Fatal("a version newer than the build must be refused")
	}
}

func TestCostWithCachedAndReasoningTokens(t *testing.T) {
	p := ModelPrice{Input: decimal.RequireFromString("68.25"), Output: decimal.RequireFromString("273"),
		CachedInput: decimal.RequireFromString("17.0625"), Reasoning: decimal.RequireFromString("300")}
	u := Usage{Input: 12000, Cached: 2000, Output: 3000, Reasoning: 1000}
	// (10,000 × 68.25 + 2,000 × 17.0625 + 2,000 × 273 + 1,000 × 300) / 1e6
	// = (682,500 + 34,125 + 546,000 + 300,000) / 1e6 = 1.562625 NTD
	if got := p.Cost(u); !got.Equal(decimal.RequireFromString("1.562625")) {
		t.Fatalf("cost = %s, want 1.562625", got)
	}
	// Without a reasoning price, reasoning tokens bill at the output price.
	p.Reasoning = decimal.Zero
	if got := p.Cost(u); !got.Equal(decimal.RequireFromString("1.535625")) {
		t.Fatalf("cost = %s, want 1.535625", got)
	}
	if got := p.MaxCost(1000, 500); !got.Equal(decimal.RequireFromString("0.20475")) {
		t.Fatalf("max cost = %s, want 0.20475", got) // (1000×68.25 + 500×273)/1e6
	}
	// The most a request can cost takes the dearer of the output and
	// reasoning prices: any output token may be a reasoning token.
	p.Reasoning = decimal.RequireFromString("300")
	if got := p.MaxCost(1000, 500); !got.Equal(decimal.RequireFromString("0.21825")) {
		t.Fatalf("max cost = %s, want 0.21825", got) // (1000×68.25 + 500×300)/1e6
	}
	p.Reasoning = decimal.RequireFromString("100")
	if got := p.MaxCost(1000, 500); !got.Equal(decimal.RequireFromString("0.20475")) {
		t.Fatalf("max cost = %s, want 0.20475", got)
	}
}

func TestRequestEventIDIsDeterministicAndTimeOrdered(t *testing.T) {
	id, _ := uuid.NewV7()
	rid := "gen-" + hexOf(id)
	a := RequestEventID(TypeRequestCompleted, rid)
	if a != id || RequestEventID(TypeRequestCompleted, rid) != a {
		t.Fatal("completed event ID must be the request's UUIDv7")
	}
	if f := RequestEventID(TypeRequestFailed, rid); f == a {
		t.Fatal("failed and completed events of one request must differ")
	}
	if RequestEventID(TypeRequestCompleted, "other") != EventID(TypeRequestCompleted, "other") {
		t.Fatal("fallback must be EventID")
	}
}

func hexOf(id uuid.UUID) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 32)
	for i, v := range id {
		b[2*i], b[2*i+1] = digits[v>>4], digits[v&15]
	}
	return string(b)
}

// A cost keeps every decimal place of its price: dividing by a million is a
// shift, not a division rounded to 16 places.
func TestCostKeepsFullPrecision(t *testing.T) {
	p := ModelPrice{Input: decimal.RequireFromString("0.1234567891234567"), Output: decimal.RequireFromString("3.25")}
	got := p.Cost(Usage{Input: 3, Output: 7})
	// 3 × 0.1234567891234567 + 7 × 3.25 = 0.3703703673703701 + 22.75, per million.
	want := decimal.RequireFromString("0.0000231203703673703701")
	if !got.Equal(want) || got.String() != "0.0000231203703673703701" {
		t.Fatalf("cost %s, want %s", got, want)
	}
	if m := p.MaxCost(3, 7); !m.Equal(want) {
		t.Fatalf("max cost %s, want %s", m, want)
	}
}

// TestEventIDKnownAnswers pins event IDs: they are stored, and a retried
// append deduplicates only if the same fact always derives the same ID. The
// parts are joined by a NUL byte, none before the first.
func TestEventIDKnownAnswers(t *testing.T) {
	if got, want := EventID("a", "b"), uuid.NewSHA1(idNamespace, []byte("a\x00b")); got != want {
		t.Fatalf("EventID(a, b) = %s, want %s", got, want)
	}
	if got, want := EventID("single"), uuid.NewSHA1(idNamespace, []byte("single")); got != want {
		t.Fatalf("EventID(single) = %s, want %s", got, want)
	}
	// Written down once: a change to the derivation would orphan every
	// stored request's ID.
	if got := EventID(TypeRequestCompleted, "gen-1"); got.String() != "253d8a06-de5d-5994-a7fa-3c586adb8c06" {
		t.Fatalf("EventID(request.completed, gen-1) = %s", got)
	}
	if EventID("ab") == EventID("a", "b") {
		t.Fatal("the parts' boundary must be part of the ID")
	}
}

// Only an Enterprise account has custom rate limits or a volume discount.
func TestCheckCustomTerms(t *testing.T) {
	for _, c := range []struct {
		pc PlanChanged
		ok bool
	}{
		{PlanChanged{Plan: PlanEnterprise, RPM: 600, TPM: 2_000_000, VolumeDiscount: decimal.RequireFromString("0.1")}, true},
		{PlanChanged{Plan: PlanBusiness, CreditLimit: decimal.NewFromInt(1000)}, true},
		{PlanChanged{Plan: PlanStarter}, true},
		{PlanChanged{Plan: PlanBusiness, RPM: 600}, false},
		{PlanChanged{Plan: PlanStarter, TPM: 1}, false},
		{PlanChanged{Plan: PlanBusiness, VolumeDiscount: decimal.RequireFromString("0.05")}, false},
	} {
		if err := c.pc.CheckCustomTerms(); (err == nil) != c.ok || err != nil && !errors.Is(err, ErrCustomTerms) {
			t.Errorf("%+v: %v", c.pc, err)
		}
	}
}
