package server

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// responseCost reads usage.cost from a JSON response or from a stream's
// usage chunk.
func responseCost(t *testing.T, body []byte, stream bool) decimal.Decimal {
	t.Helper()
	type withUsage struct {
		Usage *struct {
			Cost json.Number `json:"cost"` // a number, as OpenRouter sends it
		} `json:"usage"`
	}
	if !stream {
		var r withUsage
		if err := json.Unmarshal(body, &r); err != nil || r.Usage == nil {
			t.Fatalf("no usage in %s", body)
		}
		return dec(r.Usage.Cost.String())
	}
	for _, line := range strings.Split(string(body), "\n") {
		var c withUsage
		if strings.HasPrefix(line, "data: {") && json.Unmarshal([]byte(line[6:]), &c) == nil && c.Usage != nil {
			return dec(c.Usage.Cost.String())
		}
	}
	t.Fatalf("no usage chunk in %s", body)
	return decimal.Zero
}

// Worked examples. Prices per million tokens: input 75, cached input 18.75,
// output 300, reasoning 450. The usage: 1234 prompt tokens of which 567
// cached, 890 completion tokens of which 321 reasoning.
//
//	uncached input  (1234 − 567) × 75    =  667 × 75    =  50 025
//	cached input            567 × 18.75 =                 10 631.25
//	plain output     (890 − 321) × 300   =  569 × 300   = 170 700
//	reasoning               321 × 450   =                144 450
//	                                               sum = 375 806.25
//	cost = 375 806.25 / 1 000 000 = NT$0.37580625
//
// Anthropic reports no reasoning split (thinking is plain output), so there
// all 890 output tokens bill at 300:
//
//	50 025 + 10 631.25 + 890 × 300 = 327 656.25 → NT$0.32765625
//
// An Enterprise account with a 12 % volume discount pays 0.88 of that:
//
//	0.37580625 × 0.88 = 0.3307095
//	0.32765625 × 0.88 = 0.28833750
func TestWorkedCostExamplesWithCachedAndReasoningTokens(t *testing.T) {
	full := providertest.Usage{Prompt: 1234, Cached: 567, Completion: 890, Reasoning: 321}
	noSplit := full
	noSplit.Reasoning = 0
	p := price("75", "300", "18.75", "450")
	cases := []struct {
		name     string
		discount string
		want     map[string]string // kind → cost
	}{
		{"list price", "", map[string]string{"openai": "0.37580625", "gemini": "0.37580625", "anthropic": "0.32765625"}},
		{"enterprise 12% off", "0.12", map[string]string{"openai": "0.3307095", "gemini": "0.3307095", "anthropic": "0.2883375"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{
				scripts: map[string]providertest.Script{
					"openai":    {Text: "ok", Usage: full},
					"gemini":    {Text: "ok", Reasoning: "thinking", Usage: full},
					"anthropic": {Text: "ok", Usage: noSplit},
				},
				prices: map[string]domain.ModelPrice{"test/openai": p, "test/gemini": p, "test/anthropic": p},
			})
			if c.discount != "" {
				h.changePlan(domain.PlanChanged{Plan: domain.PlanEnterprise, VolumeDiscount: dec(c.discount)})
			}
			spent := decimal.Zero
			for _, kind := range []string{"openai", "anthropic", "gemini"} {
				want := dec(c.want[kind])
				for _, stream := range []bool{false, true} {
					resp, b := h.post(chatBody("test/"+kind, 1000, stream))
					if resp.StatusCode != 200 {
						t.Fatalf("%s stream=%v: %d %s", kind, stream, resp.StatusCode, b)
					}
					if got := responseCost(t, b, stream); !got.Equal(want) {
						t.Errorf("%s stream=%v: response cost %s, want %s", kind, stream, got, want)
					}
					spent = spent.Add(want)
				}
			}
			evs := h.completed()
			if len(evs) != 6 {
				t.Fatalf("%d completed events, want 6", len(evs))
			}
			for _, e := range evs {
				kind := strings.TrimPrefix(e.Model, "test/")
				u := e.Usage
				if !e.Cost.Equal(dec(c.want[kind])) || u.Input != 1234 || u.Cached != 567 || u.Output != 890 || u.Estimated {
					t.Errorf("%s event: cost %s usage %+v", kind, e.Cost, u)
				}
				if kind != "anthropic" && u.Reasoning != 321 {
					t.Errorf("%s event: reasoning %d, want 321", kind, u.Reasoning)
				}
			}
			if bal := h.balance(); !bal.Equal(dec("1000").Sub(spent)) {
				t.Fatalf("balance %s, want 1000 − %s", bal, spent)
			}
			if r := h.replayBalance(); !r.Equal(dec("1000").Sub(spent)) {
				t.Fatalf("replayed balance %s", r)
			}
		})
	}
}

// A request is billed at the price list in force when it started, even if
// a new list is published while it streams.
func TestPriceChangeDuringAStreamBillsTheOldList(t *testing.T) {
	h := newHarness(t, harnessOpts{
		models: map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "a b c d e f", Chunks: 6, ChunkDelay: 30 * time.Millisecond,
			Usage: providertest.Usage{Prompt: 100, Completion: 60}}},
	})
	resp, r := openStream(t, h.http.URL, h.key, chatBody("test/openai", 1000, true))
	// Mid-stream: list 2 doubles every price, effective now.
	ver, err := h.cmds.PublishPrices(context.Background(), map[string]domain.ModelPrice{"test/openai": price("20", "40", "10", "")}, time.Now())
	if err != nil || ver != 2 {
		t.Fatalf("publish: version %d, %v", ver, err)
	}
	h.catchUp()
	rest, _ := io.ReadAll(r)
	resp.Body.Close()
	// List 1: (100 × 10 + 60 × 20) / 1e6 = 0.0022.
	if got := responseCost(t, rest, true); !got.Equal(dec("0.0022")) {
		t.Fatalf("stream cost %s, want 0.0022 (list 1)", got)
	}
	// A request started after the change pays list 2:
	// (100 × 20 + 60 × 40) / 1e6 = 0.0044.
	resp2, b := h.post(chatBody("test/openai", 1000, false))
	if resp2.StatusCode != 200 || !responseCost(t, b, false).Equal(dec("0.0044")) {
		t.Fatalf("after the change: %d %s", resp2.StatusCode, b)
	}
	evs := h.completed()
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	for _, e := range evs {
		want, list := dec("0.0022"), 1
		if !e.Stream {
			want, list = dec("0.0044"), 2
		}
		if e.PriceList != list || !e.Cost.Equal(want) {
			t.Fatalf("event stream=%v: list %d cost %s, want list %d cost %s", e.Stream, e.PriceList, e.Cost, list, want)
		}
	}
	if bal := h.balance(); !bal.Equal(dec("999.9934")) { // 1000 − 0.0022 − 0.0044
		t.Fatalf("balance %s", bal)
	}
}
