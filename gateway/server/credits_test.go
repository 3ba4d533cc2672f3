package server

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/projections"
)

// exactCreditOpts: an account whose balance covers exactly 20 requests.
// Input is free and the fake writes all of max_tokens, so each request's
// hold equals its cost: 1000 tokens × NT$20 / 1e6 = NT$0.02, and
// NT$0.40 / NT$0.02 = 20.
func exactCreditOpts() harnessOpts {
	return harnessOpts{
		models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
		scripts: map[string]providertest.Script{"openai": {Text: "ok", UseMaxTokens: true}},
		prices:  map[string]domain.ModelPrice{"test/openai": price("0", "20", "0", "")},
		plan:    domain.PlanEnterprise,
		credit:  "0.40",
	}
}

// highLimits keeps rate limits out of a credit test.
var highLimits = domain.PlanChanged{Plan: domain.PlanEnterprise, RPM: 1_000_000, TPM: 1_000_000_000}

// checkExactlyTwenty checks the outcome of spending an exactCreditOpts
// account with n concurrent requests, and that the balance equals a replay.
func checkExactlyTwenty(t *testing.T, h *harness, counts map[int]int, n int) {
	t.Helper()
	if counts[200] != 20 || counts[402] != n-20 {
		t.Fatalf("statuses %v: want exactly 20 × 200 and %d × 402", counts, n-20)
	}
	h.waitHeldZero()
	evs := h.completed()
	sum := decimal.Zero
	for _, e := range evs {
		if !e.Cost.Equal(dec("0.02")) {
			t.Fatalf("cost %s, want 0.02 (1000 × 20 / 1e6)", e.Cost)
		}
		sum = sum.Add(e.Cost)
	}
	if len(evs) != 20 || !sum.Equal(dec("0.4")) {
		t.Fatalf("%d completed events costing %s, want 20 costing 0.4", len(evs), sum)
	}
	bal := h.balance()
	if bal.IsNegative() || !bal.IsZero() {
		t.Fatalf("balance %s, want 0 (0.40 − 20 × 0.02)", bal)
	}
	if r := h.replayBalance(); !r.Equal(bal) {
		t.Fatalf("replayed balance %s ≠ projected %s", r, bal)
	}
	rejected := 0
	for _, f := range h.waitFailed(n - 20) {
		if f.Status == 402 && f.Outcome == domain.OutcomeRejected {
			rejected++
		}
	}
	if rejected != n-20 {
		t.Fatalf("%d rejected events with status 402, want %d", rejected, n-20)
	}
}

func TestRaceExactlyTwentyOfTwoHundredSucceed(t *testing.T) {
	h := newHarness(t, exactCreditOpts())
	h.changePlan(highLimits)
	counts := burst(t, []string{h.http.URL}, h.key, chatBody("test/openai", 1000, false), 200)
	checkExactlyTwenty(t, h, counts, 200)
}

// read402 posts body and returns the 402's metadata.
func read402(t *testing.T, h *harness, key, body string) map[string]any {
	t.Helper()
	resp, b := h.postKey(key, body)
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("status %d, want 402: %s", resp.StatusCode, b)
	}
	e := decodeError(t, b)
	if e.Error.Code != 402 || e.Error.Metadata["currency"] != "TWD" { // as /credits, /key and /models name it
		t.Fatalf("error body %s", b)
	}
	return e.Error.Metadata
}

// checkMeta compares decimal metadata fields by value.
func checkMeta(t *testing.T, meta map[string]any, want map[string]string) {
	t.Helper()
	for k, w := range want {
		got, ok := meta[k].(string)
		if !ok {
			t.Fatalf("metadata %s missing or not a string: %v", k, meta)
		}
		if k == "cause" {
			if got != w {
				t.Fatalf("cause %q, want %q (%v)", got, w, meta)
			}
			continue
		}
		if !dec(got).Equal(dec(w)) {
			t.Fatalf("metadata %s = %s, want %s (%v)", k, got, w, meta)
		}
	}
}

func Test402InsufficientCredits(t *testing.T) {
	h := newHarness(t, harnessOpts{credit: "0.01"})
	// Hold: 10 bytes of input (8 framing + "hi") × NT$10 + 1000 × NT$20,
	// per million = (100 + 20000) / 1e6 = 0.0201 > 0.01.
	meta := read402(t, h, h.key, chatBody("test/openai", 1000, false))
	checkMeta(t, meta, map[string]string{"cause": "credits", "balance": "0.01", "required": "0.0201",
		"available": "0.01", "held": "0", "credit_limit": "0"})
	h.heldIsZero()
	if len(h.completed()) != 0 {
		t.Fatal("a refused request was billed")
	}
}

func Test402KeySpendLimit(t *testing.T) {
	h := newHarness(t, harnessOpts{scripts: map[string]providertest.Script{
		"openai": {Text: "ok", Usage: providertest.Usage{Prompt: 10, Completion: 1000}},
	}})
	capped, secret, err := h.cmds.IssueKey(context.Background(), domain.KeyIssued{AccountID: h.account, Name: "capped",
		SpendLimit: dec("0.05"), SpendPeriod: "daily"})
	if err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	body := chatBody("test/openai", 1000, false)
	// Each request holds 0.0201 and costs (10 × 10 + 1000 × 20) / 1e6 = 0.0201.
	for i := range 2 {
		if resp, b := h.postKey(secret, body); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, b)
		}
	}
	h.catchUp()
	// Spent 2 × 0.0201 = 0.0402; 0.0402 + 0.0201 > 0.05, though the account
	// still has NT$999.9598.
	meta := read402(t, h, secret, body)
	checkMeta(t, meta, map[string]string{"cause": "key_spend_limit", "balance": "0.0098",
		"available": "0.0098", "required": "0.0201", "held": "0"})
	// It says when the limit resets: the next Taipei midnight (not UTC's,
	// where OpenRouter resets), in the message and in the metadata.
	resets := projections.PeriodEnd(projections.PeriodDaily, time.Now())
	if meta["limit_reset"] != "daily" || meta["resets_at"] != resets.UTC().Format(time.RFC3339) {
		t.Fatalf("key limit refusal: limit_reset %v, resets_at %v, want daily, %s", meta["limit_reset"], meta["resets_at"], resets.UTC().Format(time.RFC3339))
	}
	if resp, b := h.postKey(secret, body); resp.StatusCode != http.StatusPaymentRequired ||
		!strings.Contains(decodeError(t, b).Error.Message, "resets at "+resets.In(projections.Taipei).Format("2006-01-02 15:04")+" Taipei time") {
		t.Fatalf("key limit refusal does not say when it resets: %d %s", resp.StatusCode, b)
	}
	// A limit lowered below what the key already spent leaves nothing, not
	// a negative amount.
	if err := h.cmds.ChangeKey(context.Background(), domain.KeyChanged{KeyID: capped, AccountID: h.account, Name: "capped",
		SpendLimit: dec("0.01"), SpendPeriod: "daily"}, nil); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	if resp, b := h.postKey(secret, body); resp.StatusCode != http.StatusPaymentRequired || strings.Contains(string(b), "NT$-") ||
		!strings.Contains(decodeError(t, b).Error.Message, "leaves NT$0.0000") {
		t.Fatalf("limit lowered below the spending: %d %s", resp.StatusCode, b)
	}
	// The account's other key is not capped.
	if resp, b := h.post(body); resp.StatusCode != 200 {
		t.Fatalf("uncapped key: %d %s", resp.StatusCode, b)
	}
	h.waitHeldZero()
}

// openStream starts a streaming request and returns once its first content
// chunk has arrived, so its hold is certainly active.
func openStream(t *testing.T, url, key, body string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/api/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("stream status %d: %s", resp.StatusCode, b)
	}
	t.Cleanup(func() { resp.Body.Close() })
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended before its first chunk: %v", err)
		}
		if strings.HasPrefix(line, "data: {") && strings.Contains(line, `"content":"`) && !strings.Contains(line, `"content":""`) {
			return resp, r
		}
	}
}

func Test402InFlightHolds(t *testing.T) {
	h := newHarness(t, harnessOpts{credit: "0.03", scripts: map[string]providertest.Script{
		"openai": {Text: "one two three four", Chunks: 4, ChunkDelay: 100 * time.Millisecond, Usage: providertest.Usage{Prompt: 10, Completion: 4}},
	}})
	body := chatBody("test/openai", 1000, true)
	resp, r := openStream(t, h.http.URL, h.key, body)
	// The stream holds 0.0201 of the 0.03; a second 0.0201 does not fit,
	// though the balance alone would cover it.
	meta := read402(t, h, h.key, chatBody("test/openai", 1000, false))
	checkMeta(t, meta, map[string]string{"cause": "in_flight_holds", "balance": "0.03", "held": "0.0201",
		"available": "0.0099", "required": "0.0201"})
	rest, _ := io.ReadAll(r)
	resp.Body.Close()
	if !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Fatalf("stream did not complete: %q", rest)
	}
	h.waitHeldZero()
	// The stream cost (10 × 10 + 4 × 20) / 1e6 = 0.00018; its hold is gone,
	// so the same request now fits in 0.02982.
	if resp, b := h.post(chatBody("test/openai", 1000, false)); resp.StatusCode != 200 {
		t.Fatalf("after the stream: %d %s", resp.StatusCode, b)
	}
}

func TestPostpaidRunsToItsCreditLimitAndNoFurther(t *testing.T) {
	o := exactCreditOpts()
	o.plan, o.credit, o.creditLm = domain.PlanBusiness, "0", "0.4"
	h := newHarness(t, o)
	// Each request holds and costs 4000 × 20 / 1e6 = NT$0.08: five reach the
	// NT$0.40 limit exactly, the sixth would go past it.
	body := chatBody("test/openai", 4000, false)
	for i := range 5 {
		if resp, b := h.post(body); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, b)
		}
	}
	h.catchUp()
	meta := read402(t, h, h.key, body)
	checkMeta(t, meta, map[string]string{"cause": "credits", "balance": "-0.4", "credit_limit": "0.4",
		"available": "0", "required": "0.08"})
	if bal := h.balance(); !bal.Equal(dec("-0.4")) {
		t.Fatalf("balance %s, want −0.40 (5 × 0.08 on credit)", bal)
	}
	if r := h.replayBalance(); !r.Equal(dec("-0.4")) {
		t.Fatalf("replayed balance %s, want −0.40", r)
	}
	h.waitHeldZero()
}

// The 402's amounts came in two precisions: balance and required exact, as
// /credits and /key give amounts, but available cut to the hold ledger's
// six decimals, so that it was not balance + credit_limit − held. Every
// amount is now exact, and they add up to the last digit.
func Test402AmountsAreExactAndAddUp(t *testing.T) {
	// A first request costs (7 × 0.123456789 + 1 × 20) / 1e6 =
	// 0.000020864197523, fifteen decimals; a later one with max_tokens n
	// may cost (10 × 0.123456789 + n × 20) / 1e6.
	opts := func(credit string) harnessOpts {
		return harnessOpts{
			models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
			scripts: map[string]providertest.Script{"openai": {Text: "ok", Usage: providertest.Usage{Prompt: 7, Completion: 1}}},
			prices:  map[string]domain.ModelPrice{"test/openai": price("0.123456789", "20", "0", "")},
			credit:  credit,
		}
	}
	exact := func(t *testing.T, meta map[string]any, want map[string]string) {
		t.Helper()
		for k, w := range want {
			if meta[k] != w {
				t.Errorf("metadata.%s = %v, want %q (%v)", k, meta[k], w, meta)
			}
		}
	}
	t.Run("credits", func(t *testing.T) {
		h := newHarness(t, opts("0.03"))
		if resp, b := h.post(chatBody("test/openai", 1000, false)); resp.StatusCode != 200 {
			t.Fatalf("first request: %d %s", resp.StatusCode, b)
		}
		h.catchUp()
		meta := read402(t, h, h.key, chatBody("test/openai", 2000, false))
		exact(t, meta, map[string]string{"cause": "credits", "balance": "0.029979135802477", "credit_limit": "0",
			"held": "0", "available": "0.029979135802477", "required": "0.04000123456789"})
		sum := dec(meta["balance"].(string)).Add(dec(meta["credit_limit"].(string))).Sub(dec(meta["held"].(string)))
		if !sum.Equal(dec(meta["available"].(string))) {
			t.Fatalf("balance + credit_limit − held = %s, available %v", sum, meta["available"])
		}
	})
	t.Run("key spend limit", func(t *testing.T) {
		o := opts("1000")
		o.plan = domain.PlanBusiness
		h := newHarness(t, o)
		_, secret, err := h.cmds.IssueKey(context.Background(), domain.KeyIssued{AccountID: h.account, Name: "capped",
			SpendLimit: dec("0.05"), SpendPeriod: "daily"})
		if err != nil {
			t.Fatal(err)
		}
		h.catchUp()
		if resp, b := h.postKey(secret, chatBody("test/openai", 1000, false)); resp.StatusCode != 200 {
			t.Fatalf("first request: %d %s", resp.StatusCode, b)
		}
		// The account may run NT$500 into debt: the key's limit, not the
		// account's credit, is what stops the request.
		if err := h.cmds.SetCreditLimit(context.Background(), h.account, dec("500")); err != nil {
			t.Fatal(err)
		}
		h.catchUp()
		// The key's figures: 0.05 − 0.000020864197523 left, no credit
		// beyond its limit, so that they add up as the account's do.
		meta := read402(t, h, secret, chatBody("test/openai", 3000, false))
		exact(t, meta, map[string]string{"cause": "key_spend_limit", "balance": "0.049979135802477", "credit_limit": "0",
			"spend_limit": "0.05", "held": "0", "available": "0.049979135802477", "required": "0.06000123456789"})
		sum := dec(meta["balance"].(string)).Add(dec(meta["credit_limit"].(string))).Sub(dec(meta["held"].(string)))
		if !sum.Equal(dec(meta["available"].(string))) {
			t.Fatalf("balance + credit_limit − held = %s, available %v", sum, meta["available"])
		}
	})
}

// A key whose limit never resets (OpenRouter's limit_reset null) counts
// all it ever spent: a key that spent its NT$0.05 last month is refused
// this month, with limit_reset null and no resets_at, and GET /api/v1/key
// says limit_reset null and nothing left.
func Test402KeySpendLimitThatNeverResets(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	capped, secret, err := h.cmds.IssueKey(context.Background(), domain.KeyIssued{AccountID: h.account, Name: "contractor",
		SpendLimit: dec("0.05"), SpendPeriod: "never"})
	if err != nil {
		t.Fatal(err)
	}
	lastMonth := projections.PeriodStart(projections.PeriodMonthly, time.Now()).AddDate(0, 0, -1)
	rc := &domain.RequestCompleted{RequestID: "gen-last-month", KeyID: capped, AccountID: h.account, Model: "test/openai",
		Cost: dec("0.05"), StartedAt: lastMonth, Outcome: domain.OutcomeCompleted, Attempts: 1}
	d, err := commands.Event(domain.EventID(domain.TypeRequestCompleted, rc.RequestID), lastMonth, rc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.Append(context.Background(), domain.UsageStream(h.account), eventstore.Any(), d); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	meta := read402(t, h, secret, chatBody("test/openai", 1000, false))
	checkMeta(t, meta, map[string]string{"cause": "key_spend_limit", "balance": "0", "available": "0", "spend_limit": "0.05"})
	if reset, ok := meta["limit_reset"]; !ok || reset != nil {
		t.Errorf("limit_reset %v (given: %v), want null", reset, ok)
	}
	if at, ok := meta["resets_at"]; ok {
		t.Errorf("resets_at %v for a limit that never resets", at)
	}
	code, info := h.getJSON("/api/v1/key", secret)
	data, _ := info["data"].(map[string]any)
	if code != http.StatusOK || data == nil {
		t.Fatalf("GET /api/v1/key: %d %v", code, info)
	}
	if data["limit_reset"] != nil || !numOf(t, data["limit_remaining"]).IsZero() || !numOf(t, data["usage"]).Equal(dec("0.05")) ||
		!numOf(t, data["usage_monthly"]).IsZero() || data["spend_limit_period"] != "never" {
		t.Errorf("GET /api/v1/key: limit_reset %v, limit_remaining %v, usage %v, usage_monthly %v, spend_limit_period %v",
			data["limit_reset"], data["limit_remaining"], data["usage"], data["usage_monthly"], data["spend_limit_period"])
	}
}
