package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/payments/ecpay"
	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
)

// An account out of credit gets 402 on every gateway sharing its store.
// Its owner tops up by card through one of them; once ECPay's notification
// of the payment is answered, requests pass again on both within a second.
func TestCardTopUpLiftsPaymentRequiredOnEveryServe(t *testing.T) {
	rurl, prefix := testenv.RedisURL(t)
	fake := ecpaytest.New(ecpay.TestMerchantID, ecpay.TestHashKey, ecpay.TestHashIV)
	t.Cleanup(fake.Close)
	up := fakeUpstream(t, providertest.Script{Text: "paid again", Chunks: 2})
	env := append(baseEnv(up), "ROUTEFREE_ECPAY_MERCHANT_ID="+ecpay.TestMerchantID,
		"ROUTEFREE_ECPAY_HASH_KEY="+ecpay.TestHashKey, "ROUTEFREE_ECPAY_HASH_IV="+ecpay.TestHashIV,
		"ROUTEFREE_ECPAY_ENDPOINT="+fake.Endpoint())
	store := []string{"--data-dir", t.TempDir()}
	prepareDemo(t, env, store, 1_000_000, "100000")
	shared := append(append([]string{}, store...), "--redis-url", rurl, "--redis-prefix", prefix)
	a := startServe(t, env, shared...)
	b := startServe(t, env, shared...)

	runCLI(t, env, append([]string{"accounts", "open", "--id", "acct_broke", "--organisation", "沒錢公司", "--plan", "starter"}, store...)...)
	key := issuedKey(t, runCLI(t, env, append([]string{"keys", "issue", "--account", "acct_broke", "--name", "app"}, store...)...))
	owner := issuedKey(t, runCLI(t, env, append([]string{"keys", "issue", "--account", "acct_broke", "--name", "owner", "--management"}, store...)...))
	for _, base := range []string{a.base, b.base} {
		within(t, time.Now(), 5*time.Second, "the keys on "+base, func() bool { return keyStatus(base, owner) == http.StatusOK })
		if st := chatStatus(base, key); st != http.StatusPaymentRequired {
			t.Fatalf("no credit on %s: status %d, want 402", base, st)
		}
	}

	// The owner starts a card checkout on a; the browser posts it to the
	// cashier; ECPay notifies a of the payment.
	body, _ := json.Marshal(map[string]string{"amount": "300", "method": "card"})
	req, _ := http.NewRequest(http.MethodPost, a.base+"/admin/api/accounts/acct_broke/payments", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+owner)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var co struct {
		Data struct {
			TradeNo string            `json:"trade_no"`
			Action  string            `json:"action"`
			Fields  map[string]string `json:"fields"`
		} `json:"data"`
	}
	err = json.NewDecoder(resp.Body).Decode(&co)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("checkout: %d %v", resp.StatusCode, err)
	}
	form := url.Values{}
	for k, v := range co.Data.Fields {
		form.Set(k, v)
	}
	if resp, err := http.PostForm(co.Data.Action, form); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the cashier: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	reply, err := fake.Paid(co.Data.TradeNo, nil, nil)
	if err != nil || reply != "1|OK" {
		t.Fatalf("the payment notification: %q %v", reply, err)
	}
	paid := time.Now()
	for _, base := range []string{a.base, b.base} {
		took := within(t, paid, visibleWithin, "requests after the card top-up on "+base, func() bool {
			return chatStatus(base, key) == http.StatusOK
		})
		t.Logf("%s: requests pass %s after the notification was answered", base, took.Round(time.Millisecond))
	}
}
