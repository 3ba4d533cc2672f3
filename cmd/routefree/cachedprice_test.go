package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/catalog"
	gwchat "github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// Models whose providers give no discount on cached prompt tokens bill
// those tokens at the input price: an upstream that reports cached tokens
// for them (as OpenAI-compatible hosts may) does not make them free.
func TestCachedTokensOfModelsWithoutCacheDiscountBillAtInputPrice(t *testing.T) {
	usage := providertest.Usage{Prompt: 1000, Cached: 600, Completion: 10}
	up := fakeUpstream(t, providertest.Script{Text: "ok", Usage: usage})
	env := append(baseEnv(up), "GROQ_BASE_URL="+up, "GROQ_API_KEY=sk-groq",
		"MISTRAL_BASE_URL="+up, "MISTRAL_API_KEY=sk-mistral", "TOGETHER_BASE_URL="+up, "TOGETHER_API_KEY=sk-together")
	dir := t.TempDir()
	store := []string{"--data-dir", dir}
	key := prepareDemo(t, env, store, 1000, "1000")
	p := startServe(t, env, store...)

	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	prices := cat.NTDPrices()
	models := []string{"meta-llama/llama-3.3-70b-instruct", "mistralai/mistral-large", "qwen/qwen3-235b-a22b"}
	want := map[string]decimal.Decimal{}
	for _, m := range models {
		pr := prices[m]
		// Every prompt token at the input price, cached or not.
		want[m] = pr.Input.Mul(decimal.NewFromInt(int64(usage.Prompt))).
			Add(pr.Output.Mul(decimal.NewFromInt(int64(usage.Completion)))).Shift(-6)
		if !want[m].IsPositive() {
			t.Fatalf("%s: no price", m)
		}
		body, _ := json.Marshal(map[string]any{"model": m, "max_tokens": 16,
			"messages": []map[string]string{{"role": "user", "content": "hello"}}})
		req, _ := http.NewRequest(http.MethodPost, p.base+"/api/v1/chat/completions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Usage struct {
				Cost decimal.Decimal `json:"cost"`
			} `json:"usage"`
		}
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s %v", m, resp.Status, err)
		}
		if shown := want[m].Round(gwchat.CostDigits); !r.Usage.Cost.Equal(shown) {
			t.Errorf("%s: response cost %s, want %s (cached tokens at the input price)", m, r.Usage.Cost, shown)
		}
	}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d after SIGTERM", code)
	}

	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seen := 0
	eachEvent(t, s, domain.TypeRequestCompleted, func(data []byte) {
		var rc domain.RequestCompleted
		if err := json.Unmarshal(data, &rc); err != nil {
			t.Fatal(err)
		}
		w, ok := want[rc.Model]
		if !ok {
			return
		}
		seen++
		if rc.Usage.Cached != int64(usage.Cached) || !rc.Cost.Equal(w) {
			t.Errorf("%s event: cached %d cost %s, want %d at %s", rc.Model, rc.Usage.Cached, rc.Cost, usage.Cached, w)
		}
	})
	if seen != len(models) {
		t.Errorf("%d usage events, want %d", seen, len(models))
	}
}
