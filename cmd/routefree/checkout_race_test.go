package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Checkouts of one account asked at once of two gateways on one store,
// none confirmed: exactly one starts, and every other call is a 409 naming
// it. Confirmed, another starts beside it.
func TestCheckoutsAskedAtOnceOfTwoServes(t *testing.T) {
	_, env, store, a, b := twoECPayServes(t, "ok")
	runCLI(t, env, append([]string{"accounts", "open", "--id", "acct_race", "--organisation", "搶單公司", "--plan", "starter"}, store...)...)
	owner := issuedKey(t, runCLI(t, env, append([]string{"keys", "issue", "--account", "acct_race", "--name", "owner", "--management"}, store...)...))
	for _, base := range []string{a.base, b.base} {
		within(t, time.Now(), 5*time.Second, "the owner's key on "+base, func() bool { return keyStatus(base, owner) == http.StatusOK })
	}

	checkout := func(base string, body map[string]any) (int, []byte) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, base+"/admin/api/accounts/acct_race/payments", bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+owner)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, []byte(err.Error())
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	codes := make([]int, 10)
	bodies := make([][]byte, len(codes))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range codes {
		base := []string{a.base, b.base}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i], bodies[i] = checkout(base, map[string]any{"amount": "500", "method": "card"})
		}()
	}
	close(start)
	wg.Wait()
	var started string
	for i, code := range codes {
		if code == http.StatusCreated {
			var co struct {
				Data struct {
					TradeNo string `json:"trade_no"`
				} `json:"data"`
			}
			if json.Unmarshal(bodies[i], &co) != nil || started != "" {
				t.Fatalf("a second checkout started at once: %s (codes %v)", bodies[i], codes)
			}
			started = co.Data.TradeNo
		}
	}
	if started == "" {
		t.Fatalf("no checkout started: %v", codes)
	}
	for i, code := range codes {
		if code == http.StatusCreated {
			continue
		}
		var refusal struct {
			Error struct {
				Metadata struct {
					Pending struct {
						TradeNo string `json:"trade_no"`
					} `json:"pending_checkout"`
				} `json:"metadata"`
			} `json:"error"`
		}
		if code != http.StatusConflict || json.Unmarshal(bodies[i], &refusal) != nil || refusal.Error.Metadata.Pending.TradeNo != started {
			t.Errorf("call %d: %d %s, want a 409 naming %s", i, code, bodies[i], started)
		}
	}

	if code, body := checkout(b.base, map[string]any{"amount": "300", "method": "card", "confirm": true}); code != http.StatusCreated {
		t.Fatalf("the confirmed checkout: %d %s", code, body)
	}
	for _, base := range []string{a.base, b.base} {
		within(t, time.Now(), 5*time.Second, "two checkouts listed on "+base, func() bool {
			var list struct{ Data []json.RawMessage }
			getJSON(t, base+"/admin/api/accounts/acct_race/payments", owner, &list)
			return len(list.Data) == 2
		})
	}
}
