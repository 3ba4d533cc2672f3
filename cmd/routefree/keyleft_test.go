package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// A key refused with a 402 at its spending limit, while the account has
// credit: the customer's account page and the keys API show what the key
// has spent this period and what its limit leaves, the figures the 402 and
// GET /api/v1/key give, so that the page says why its requests are refused
// (it showed the limit alone, beside a balance that would pay for them).
func TestKeyPageShowsWhatTheLimitLeavesAsThe402Does(t *testing.T) {
	s := startSelfServe(t)
	var created struct {
		Data struct {
			Hash string `json:"hash"`
		} `json:"data"`
		Key string `json:"key"`
	}
	if code := s.do(http.MethodPost, "/api/v1/keys", s.owner, map[string]any{"name": "capped", "limit": 5, "limit_reset": "monthly"}, &created); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/keys: %d", code)
	}
	refused := false
	for range 20 {
		if o := chat(t.Context(), s.p.base, created.Key, false, 16); o.status == http.StatusPaymentRequired {
			refused = true
			break
		} else if o.status != http.StatusOK {
			t.Fatalf("request: %d", o.status)
		}
	}
	if !refused {
		t.Fatal("the key's limit never refused a request")
	}
	// The 402's figures.
	req, _ := http.NewRequest(http.MethodPost, s.p.base+"/api/v1/chat/completions",
		bytes.NewReader([]byte(`{"model":"routefree/echo","max_tokens":16,"messages":[{"role":"user","content":"hello"}]}`)))
	req.Header.Set("Authorization", "Bearer "+created.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var e struct {
		Error struct {
			Metadata struct {
				Cause     string          `json:"cause"`
				Available decimal.Decimal `json:"available"`
				Balance   decimal.Decimal `json:"balance"`
			} `json:"metadata"`
		} `json:"error"`
	}
	if resp.StatusCode != http.StatusPaymentRequired || json.Unmarshal(body, &e) != nil || e.Error.Metadata.Cause != "key_spend_limit" {
		t.Fatalf("402: %d %s", resp.StatusCode, body)
	}
	left := decimal.Max(e.Error.Metadata.Available, decimal.Zero)
	spent := s.key(created.Key).UsageMonthly
	if !spent.IsPositive() {
		t.Fatalf("nothing spent: %s", spent)
	}

	page := s.page(s.consoleAs(s.owner), "/console/accounts/acct_demo")
	row := regexp.MustCompile(`(?s)<tr data-key="` + regexp.QuoteMeta(created.Data.Hash) + `".*?</tr>`).FindString(page)
	m := regexp.MustCompile(`data-spent="([^"]*)" data-left="([^"]*)"`).FindStringSubmatch(row)
	if m == nil {
		t.Fatalf("the key's row shows neither what it spent nor what its limit leaves:\n%s", row)
	}
	if got, err := decimal.NewFromString(m[1]); err != nil || !got.Equal(spent) {
		t.Errorf("page: spent %q, GET /api/v1/key says %s", m[1], spent)
	}
	if got, err := decimal.NewFromString(m[2]); err != nil || !got.Equal(left) {
		t.Errorf("page: left %q, the 402 says %s", m[2], left)
	}
	if !strings.Contains(row, "NT$") {
		t.Errorf("the row gives no amount: %s", row)
	}

	var keys struct {
		Data []struct {
			KeyID     string           `json:"key_id"`
			Spent     *decimal.Decimal `json:"spend_this_period"`
			Remaining *decimal.Decimal `json:"spend_limit_remaining"`
		} `json:"data"`
	}
	if code := s.do(http.MethodGet, "/admin/api/accounts/acct_demo/keys", s.owner, nil, &keys); code != http.StatusOK {
		t.Fatalf("keys API: %d", code)
	}
	found := false
	for _, k := range keys.Data {
		if k.KeyID != created.Data.Hash {
			continue
		}
		found = true
		if k.Spent == nil || !k.Spent.Equal(spent) || k.Remaining == nil || !k.Remaining.Equal(e.Error.Metadata.Available) {
			t.Errorf("keys API: spent %v, remaining %v; want %s and the 402's %s", k.Spent, k.Remaining, spent, e.Error.Metadata.Available)
		}
	}
	if !found {
		t.Fatal("the keys API does not list the key")
	}
}
