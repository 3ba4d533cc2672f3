package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/gateway/providers/providertest"
)

// leakCase is one way a request can end badly after (or before) it took a
// hold and a rate-limit estimate.
type leakCase struct {
	name   string
	script providertest.Script
	credit string
	rpm    int64
	// run drives the failure and checks what the client saw.
	run func(t *testing.T, h *harness)
}

func wantStatus(t *testing.T, resp *http.Response, body []byte, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
}

// leakBody asks for 4000 tokens, so a leaked estimate is 4002 tokens of TPM
// and a leaked hold NT$0.0801: both far above the checks' resolution.
var leakBody = chatBody("test/openai", 4000, false)

// TestHoldsAndTokenEstimatesNeverLeak drives every error path and checks
// that afterwards no hold is left and the key's token window holds exactly
// the tokens of billed requests.
func TestHoldsAndTokenEstimatesNeverLeak(t *testing.T) {
	cases := []leakCase{
		{name: "401 bad key", run: func(t *testing.T, h *harness) {
			resp, b := h.postKey("sk-rf-not-a-key", leakBody)
			wantStatus(t, resp, b, 401)
		}},
		{name: "402 insufficient credits", credit: "0.01", run: func(t *testing.T, h *harness) {
			resp, b := h.post(leakBody)
			wantStatus(t, resp, b, 402)
		}},
		{name: "403 model not allowed", run: func(t *testing.T, h *harness) {
			_, secret, err := h.cmds.IssueKey(context.Background(), domain.KeyIssued{AccountID: h.account, Models: []string{"test/other"}})
			if err != nil {
				t.Fatal(err)
			}
			h.catchUp()
			resp, b := h.postKey(secret, leakBody)
			wantStatus(t, resp, b, 403)
		}},
		{name: "400 unknown model", run: func(t *testing.T, h *harness) {
			resp, b := h.post(chatBody("nobody/nothing", 4000, false))
			wantStatus(t, resp, b, 400)
		}},
		{name: "429 after a success", rpm: 1, run: func(t *testing.T, h *harness) {
			resp, b := h.post(leakBody)
			wantStatus(t, resp, b, 200)
			resp, b = h.post(leakBody)
			wantStatus(t, resp, b, 429)
		}},
		{name: "upstream 5xx after the hold", script: providertest.Script{Status: 500}, run: func(t *testing.T, h *harness) {
			resp, b := h.post(leakBody)
			wantStatus(t, resp, b, 503)
			resp, b = h.post(chatBody("test/openai", 4000, true))
			wantStatus(t, resp, b, 503)
		}},
		{name: "upstream cut mid-stream", script: providertest.Script{Text: "one two three four", Chunks: 4, CutAfter: 2}, run: func(t *testing.T, h *harness) {
			resp, b := h.post(chatBody("test/openai", 4000, true))
			wantStatus(t, resp, b, 200)
			if !strings.Contains(string(b), `"finish_reason":"error"`) {
				t.Fatalf("cut stream does not end with an error chunk: %s", b)
			}
		}},
		{name: "panic after the hold", run: func(t *testing.T, h *harness) {
			h.srv.afterHold = func() { panic("injected") }
			resp, b := h.post(leakBody)
			h.srv.afterHold = nil
			wantStatus(t, resp, b, 500)
			decodeError(t, b)
		}},
		{name: "client gone mid-stream", script: providertest.Script{Text: "a b c d e f g h", Chunks: 8, ChunkDelay: 50 * time.Millisecond}, run: func(t *testing.T, h *harness) {
			resp, _ := openStream(t, h.http.URL, h.key, chatBody("test/openai", 4000, true))
			resp.Body.Close()
		}},
		{name: "client gone while a stream waits", script: providertest.Script{Text: "late", Delay: 10 * time.Second}, run: func(t *testing.T, h *harness) {
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "POST", h.http.URL+"/api/v1/chat/completions", strings.NewReader(chatBody("test/openai", 4000, true)))
			req.Header.Set("Authorization", "Bearer "+h.key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			// A keep-alive comment proves the handler holds and waits.
			line := make([]byte, len(sseKeepAlive))
			if _, err := io.ReadFull(resp.Body, line); err != nil || string(line) != string(sseKeepAlive) {
				t.Fatalf("no keep-alive while waiting: %q %v", line, err)
			}
			cancel()
			resp.Body.Close()
		}},
		{name: "client gone while a unary request waits", script: providertest.Script{Text: "late", Delay: 10 * time.Second}, run: func(t *testing.T, h *harness) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				req, _ := http.NewRequestWithContext(ctx, "POST", h.http.URL+"/api/v1/chat/completions", strings.NewReader(leakBody))
				req.Header.Set("Authorization", "Bearer "+h.key)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				done <- err
			}()
			eventually(t, "the hold to be taken", func() bool {
				_, n, _ := h.ledger.Held(context.Background(), h.account)
				return n == 1
			})
			cancel()
			if err := <-done; err == nil {
				t.Fatal("the cancelled request got a response")
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := frozenClock()
			o := harnessOpts{
				models:  map[string][]upstreamSpec{"test/openai": {{fake: "openai", kind: "openai"}}},
				scripts: map[string]providertest.Script{"openai": c.script},
				plan:    domain.PlanEnterprise, credit: c.credit,
				cfg: Config{Now: now, KeepAlive: 20 * time.Millisecond},
			}
			h := newHarness(t, o)
			rpm := c.rpm
			if rpm == 0 {
				rpm = 1000
			}
			h.changePlan(domain.PlanChanged{Plan: domain.PlanEnterprise, RPM: rpm, TPM: 100_000})
			c.run(t, h)
			h.waitHeldZero()
			// Every authenticated failure is recorded once it is over.
			if c.name != "401 bad key" {
				eventually(t, "the failure to be recorded", func() bool {
					return len(h.failed())+len(h.completed()) >= 1
				})
			}
			h.tokensBack(now())
		})
	}
}

// lostReplyLedger is a ledger whose Hold runs but whose answer never comes
// back, as when a Redis reply times out after the script ran.
type lostReplyLedger struct{ admission.Ledger }

func (l lostReplyLedger) Hold(ctx context.Context, account, key, requestID string, view admission.AccountView, amount decimal.Decimal) (admission.HoldResult, error) {
	if _, err := l.Ledger.Hold(ctx, account, key, requestID, view, amount); err != nil {
		return admission.HoldResult{}, err
	}
	return admission.HoldResult{}, errors.New("redis: i/o timeout")
}

func TestHoldWhoseReplyWasLostIsReleased(t *testing.T) {
	h := newHarness(t, harnessOpts{ledger: lostReplyLedger{admission.NewMemoryLedger(admission.LedgerOptions{})}})
	resp, b := h.post(leakBody)
	wantStatus(t, resp, b, 503)
	// Without a release the hold would lock NT$0.0801 until its TTL.
	h.waitHeldZero()
}
