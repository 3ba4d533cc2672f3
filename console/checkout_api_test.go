package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/payments"
)

// The API asks too: a checkout started while another of the account's
// awaits its payment is a 409 naming that one, in the API's error shape,
// and records nothing; "confirm": true starts it. Calls racing at once
// start one checkout between them.
func TestAPICheckoutAsksWhileOneIsPending(t *testing.T) {
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { withPayments(t, ech, d) })
	_, owner, _ := managedAccount(e, "acct_api")
	const path = "/admin/api/accounts/acct_api/payments"

	codes := make([]int, 8)
	bodies := make([][]byte, len(codes))
	var wg sync.WaitGroup
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], bodies[i] = e.call("POST", path, owner, map[string]any{"amount": "600", "method": "card"})
		}()
	}
	wg.Wait()
	var first payments.Checkout
	conflicts := 0
	for i, code := range codes {
		switch code {
		case http.StatusCreated:
			var out struct{ Data payments.Checkout }
			if err := json.Unmarshal(bodies[i], &out); err != nil || first.TradeNo != "" {
				t.Fatalf("a second checkout started at once: %s", bodies[i])
			}
			first = out.Data
		case http.StatusConflict:
			conflicts++
		default:
			t.Fatalf("call %d: %d %s", i, code, bodies[i])
		}
	}
	if first.TradeNo == "" || conflicts != len(codes)-1 {
		t.Fatalf("calls at once: %v", codes)
	}
	e.sync()

	code, body := e.call("POST", path, owner, map[string]any{"amount": "200", "method": "atm"})
	var refusal struct {
		Error struct {
			Code     int    `json:"code"`
			Message  string `json:"message"`
			Metadata struct {
				Pending struct {
					TradeNo   string `json:"trade_no"`
					Amount    string `json:"amount"`
					Method    string `json:"method"`
					StartedAt string `json:"started_at"`
				} `json:"pending_checkout"`
			} `json:"metadata"`
		} `json:"error"`
	}
	if code != http.StatusConflict || json.Unmarshal(body, &refusal) != nil {
		t.Fatalf("a checkout beside a pending one: %d %s", code, body)
	}
	p := refusal.Error.Metadata.Pending
	if refusal.Error.Code != http.StatusConflict || !strings.Contains(refusal.Error.Message, first.TradeNo) ||
		!strings.Contains(refusal.Error.Message, `"confirm": true`) ||
		p.TradeNo != first.TradeNo || p.Amount != "600" || p.Method != domain.MethodCard || p.StartedAt != "2026-03-15T02:00:00Z" {
		t.Fatalf("the 409 does not name the pending checkout: %s", body)
	}
	if n := countEvents(e, domain.TypePaymentCheckoutStarted); n != 1 {
		t.Fatalf("%d checkouts recorded after a refusal", n)
	}

	code, body = e.call("POST", path, owner, map[string]any{"amount": "200", "method": "atm", "confirm": true})
	if code != http.StatusCreated || !strings.Contains(string(body), `"ChoosePayment":"ATM"`) {
		t.Fatalf("the confirmed checkout: %d %s", code, body)
	}
	if code, body := e.call("POST", path, owner, map[string]any{"amount": "200", "method": "atm", "confirm": "yes"}); code != http.StatusBadRequest {
		t.Fatalf("confirm as a string: %d %s", code, body)
	}
	e.sync()
	if n := len(e.deps.Payments.View().Payments("acct_api")); n != 2 {
		t.Fatalf("%d checkouts after one confirmed", n)
	}
}
