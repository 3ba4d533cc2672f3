package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/payments"
	"github.com/routefree/routefree/payments/ecpay"
	"github.com/routefree/routefree/payments/ecpay/ecpaytest"
)

// An account out of credit gets 402 on every gateway sharing its store.
// Its owner tops up by card through one of them; once ECPay's notification
// of the payment is answered, requests pass again on both within a second.
// Copies of one notification reaching both at once credit it once.
// twoECPayServes starts two gateways on one SQLite store and one Redis,
// taking card and ATM top-ups through a fake ECPay, their upstream
// answering text; it returns the fake, the environment and store flags
// for the CLI, and the two gateways.
func twoECPayServes(t *testing.T, text string) (fake *ecpaytest.Provider, env, store []string, a, b *proc) {
	t.Helper()
	rurl, prefix := testenv.RedisURL(t)
	fake = ecpaytest.New(ecpay.TestMerchantID, ecpay.TestHashKey, ecpay.TestHashIV)
	t.Cleanup(fake.Close)
	up := fakeUpstream(t, providertest.Script{Text: text, Chunks: 2})
	env = append(baseEnv(up), "ROUTEFREE_ECPAY_MERCHANT_ID="+ecpay.TestMerchantID,
		"ROUTEFREE_ECPAY_HASH_KEY="+ecpay.TestHashKey, "ROUTEFREE_ECPAY_HASH_IV="+ecpay.TestHashIV,
		"ROUTEFREE_ECPAY_ENDPOINT="+fake.Endpoint())
	store = []string{"--data-dir", t.TempDir()}
	prepareDemo(t, env, store, 1_000_000, "100000")
	shared := append(append([]string{}, store...), "--redis-url", rurl, "--redis-prefix", prefix)
	return fake, env, store, startServe(t, env, shared...), startServe(t, env, shared...)
}

func TestCardTopUpLiftsPaymentRequiredOnEveryServe(t *testing.T) {
	fake, env, store, a, b := twoECPayServes(t, "paid again")

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
	trade := cardCheckout(t, a.base, owner, "acct_broke", "300")
	reply, err := fake.Paid(trade, nil, nil)
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

	// ECPay resends a notification it thinks undelivered: copies of one
	// reach both gateways at once. Each answers 1|OK; the trade credits once.
	again := cardCheckout(t, b.base, owner, "acct_broke", "200")
	order, _ := fake.Order(again)
	fields := url.Values{"MerchantID": {ecpay.TestMerchantID}, "MerchantTradeNo": {again}, "StoreID": {""}, "RtnCode": {"1"},
		"RtnMsg": {"交易成功"}, "TradeNo": {"2603151000999999"}, "TradeAmt": {"200"}, "PaymentDate": {"2026/03/15 10:05:00"},
		"PaymentType": {"Credit_CreditCard"}, "PaymentTypeChargeFee": {"0"}, "TradeDate": {order.Get("MerchantTradeDate")},
		"SimulatePaid": {"0"}, "CustomField1": {""}, "CustomField2": {""}, "CustomField3": {""}, "CustomField4": {""}}
	var wg sync.WaitGroup
	replies := make([]string, 8)
	for i := range replies {
		base := []string{a.base, b.base}[i%2]
		f := url.Values{}
		for k, v := range fields {
			f[k] = append([]string(nil), v...)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i], _ = fake.Send(base+payments.ReturnPath, f, nil, nil)
		}()
	}
	wg.Wait()
	for i, r := range replies {
		if r != "1|OK" {
			t.Errorf("copy %d of the notification: %q", i, r)
		}
	}
	for _, base := range []string{a.base, b.base} {
		var ups struct {
			Data []struct {
				Reference string `json:"reference"`
			} `json:"data"`
		}
		getJSON(t, base+"/admin/api/accounts/acct_broke/topups", owner, &ups)
		n := 0
		for _, u := range ups.Data {
			if u.Reference == again {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s lists %d credits of %s", base, n, again)
		}
	}
}

// cardCheckout starts a card checkout of amount with the owner's key on
// base and posts its form to the cashier, as the customer's browser does;
// it returns the trade number.
func cardCheckout(t *testing.T, base, owner, acct, amount string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"amount": amount, "method": "card"})
	req, _ := http.NewRequest(http.MethodPost, base+"/admin/api/accounts/"+acct+"/payments", bytes.NewReader(body))
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
	cashier, err := http.PostForm(co.Data.Action, form)
	if err != nil {
		t.Fatal(err)
	}
	cashier.Body.Close()
	if cashier.StatusCode != http.StatusOK {
		t.Fatalf("the cashier answered %d", cashier.StatusCode)
	}
	return co.Data.TradeNo
}

// getJSON reads a JSON answer of base's API with a bearer key.
func getJSON(t *testing.T, url, bearer string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}
