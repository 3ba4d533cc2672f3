package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/projections"
)

// Rules of money and access that a changed line must not slip past: each
// test below fails if its rule is broken.

// A suspended account's keys are refused with 403 "suspended", before any
// upstream is called or anything held; the account's other facts (its
// balance, its key) are untouched, so the refusal is the suspension's own.
func TestSuspendedAccountIsRefused(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	body := `{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`
	if resp, b := h.post(body); resp.StatusCode != http.StatusOK {
		t.Fatalf("before: %d %s", resp.StatusCode, b)
	}
	if err := h.cmds.SuspendAccount(t.Context(), h.account, "unpaid invoice"); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	before := len(h.fakes["openai"].Received())
	resp, b := h.post(body)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("suspended: %d %s", resp.StatusCode, b)
	}
	if e := decodeError(t, b); !strings.Contains(e.Error.Message, "suspended") {
		t.Fatalf("message %q", e.Error.Message)
	}
	if n := len(h.fakes["openai"].Received()); n != before {
		t.Fatalf("upstream called while suspended")
	}
	h.heldSoonZero()
	// Streams too.
	resp, b = h.post(`{"model":"test/openai","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("suspended stream: %d %s", resp.StatusCode, b)
	}
}

// getGeneration calls GET /api/v1/generation with a key.
func (h *harness) getGeneration(key, id string) (int, map[string]any) {
	h.t.Helper()
	code, b := h.rawGet("/api/v1/generation?id="+id, key)
	var out map[string]any
	if err := json.Unmarshal([]byte(b), &out); err != nil {
		h.t.Fatalf("generation body %s", b)
	}
	return code, out
}

// A generation is visible to its own account's keys only: another account's
// key gets the same 404 as for an ID that does not exist, from the memory
// index and from the store alike.
func TestGenerationIsVisibleToItsOwnAccountOnly(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	resp, b := h.post(`{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	id := resp.Header.Get("X-Request-Id")
	other, err := h.cmds.OpenAccount(t.Context(), domain.AccountOpened{Organisation: "別家公司", TaxID: "12345675", Plan: domain.PlanStarter})
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := h.cmds.IssueKey(t.Context(), domain.KeyIssued{AccountID: other, Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	if st, out := h.getGeneration(h.key, id); st != http.StatusOK || out["data"].(map[string]any)["id"] != id {
		t.Fatalf("own account: %d %v", st, out)
	}
	st, out := h.getGeneration(otherKey, id)
	if st != http.StatusNotFound {
		t.Fatalf("another account sees the generation: %d %v", st, out)
	}
	_, missing := h.getGeneration(otherKey, "gen-0193a1b2c3d47e5f8a9b0c1d2e3f4a5b")
	if out["error"].(map[string]any)["message"] == nil || missing["error"] == nil {
		t.Fatalf("error shapes: %v %v", out, missing)
	}
	// Out of the memory index, read from the store: the same rule.
	h.srv.deps.Directory = storeGenerations{Projected: Projected{M: h.models, Store: h.store}}
	if st, _ := h.getGeneration(otherKey, id); st != http.StatusNotFound {
		t.Fatalf("from the store, another account: %d", st)
	}
}

// A completion with no output tokens is free, however many input tokens
// the upstream counted: nothing billed, in the response, the event and the
// balance.
func TestCompletionWithNoOutputTokensIsFree(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "", Usage: providertest.Usage{Prompt: 50_000}, FinishReason: "content_filter"},
	}})
	resp, b := h.post(`{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var out struct {
		Usage struct {
			PromptTokens     int             `json:"prompt_tokens"`
			CompletionTokens int             `json:"completion_tokens"`
			Cost             json.RawMessage `json:"cost"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Usage.PromptTokens != 50_000 || out.Usage.CompletionTokens != 0 {
		t.Fatalf("usage %s", b)
	}
	if c, err := decimal.NewFromString(strings.Trim(string(out.Usage.Cost), `"`)); err != nil || !c.IsZero() {
		t.Fatalf("cost %s", out.Usage.Cost)
	}
	evs := h.completed()
	if len(evs) != 1 || !evs[0].Cost.IsZero() || evs[0].Usage.Input != 50_000 {
		t.Fatalf("events %+v", evs)
	}
	h.catchUp()
	v, _ := h.models.Balances.View(h.account, "", evs[0].StartedAt)
	if !v.Balance.Equal(decimal.NewFromInt(1000)) {
		t.Fatalf("balance %s, want 1000", v.Balance)
	}
	// The same input with one output token is billed, input included.
	h.fakes["openai"].SetScript(providertest.Script{Text: "x", Usage: providertest.Usage{Prompt: 50_000, Completion: 1}})
	if resp, b := h.post(`{"model":"test/openai","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	evs = h.completed()
	// (50,000 × 10 + 1 × 20) / 1e6
	if len(evs) != 2 || !evs[1].Cost.Equal(decimal.RequireFromString("0.50002")) {
		t.Fatalf("events %+v", evs)
	}
}

// The hold is sized at the larger of the output and reasoning prices: with
// reasoning dearer, a request whose output could all be reasoning needs the
// reasoning price's hold, and a balance that covers only the output price's
// is a 402 naming the larger amount.
func TestHoldUsesTheReasoningPriceWhenItIsHigher(t *testing.T) {
	price := domain.ModelPrice{Input: decimal.NewFromInt(10), Output: decimal.NewFromInt(20),
		CachedInput: decimal.NewFromInt(5), Reasoning: decimal.NewFromInt(2000)}
	h := newHarness(t, harnessOpts{credit: "1", prices: map[string]domain.ModelPrice{
		"test/openai": price, "test/anthropic": defaultPrice(), "test/gemini": defaultPrice()}})
	// Input is held at one token a byte: "hi" and 8 bytes of framing.
	resp, b := h.post(`{"model":"test/openai","max_tokens":1000,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("status %d %s", resp.StatusCode, b)
	}
	e := decodeError(t, b)
	// (10 × 10 + 1,000 × 2,000) / 1e6; at the output price it would be 0.0201.
	if e.Error.Metadata["required"] != "2.0001" {
		t.Fatalf("required %v, want 2.0001: %s", e.Error.Metadata["required"], b)
	}
	if n := len(h.fakes["openai"].Received()); n != 0 {
		t.Fatalf("upstream called %d times", n)
	}
	// Reasoning priced below output: the output price sizes the hold.
	resp, b = h.post(`{"model":"test/anthropic","max_tokens":1000,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("cheaper reasoning: %d %s", resp.StatusCode, b)
	}
}

// storeGenerations knows keys and accounts but finds generations only in
// the store, as for requests older than the memory index holds.
type storeGenerations struct{ Projected }

func (d storeGenerations) Generation(id string) (Generation, bool) {
	return Projected{M: projections.NewModels(nil), Store: d.Store}.Generation(id)
}
