package ecpay

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// docFields is the example of ECPay's 全方位金流 documentation (檢查碼機制),
// signed with the published test merchant.
var docFields = map[string]string{
	"ChoosePayment":     "ALL",
	"EncryptType":       "1",
	"ItemName":          "Apple iphone 15",
	"MerchantID":        "3002607",
	"MerchantTradeDate": "2023/03/12 15:30:23",
	"MerchantTradeNo":   "ecpay20230312153023",
	"PaymentType":       "aio",
	"ReturnURL":         "https://www.ecpay.com.tw/receive.php",
	"TotalAmount":       "30000",
	"TradeDesc":         "促銷方案",
}

// The documented example, step by step: a change to the sort, the framing
// with HashKey and HashIV, the .NET encoding, the lower-casing or the hash
// fails one of the steps.
func TestCheckMacValueDocumentedExample(t *testing.T) {
	// Steps 1-2: sorted by name (case-insensitive), between HashKey and HashIV.
	wantRaw := "HashKey=pwFHCqoQZGmho4w6&ChoosePayment=ALL&EncryptType=1&ItemName=Apple iphone 15&MerchantID=3002607" +
		"&MerchantTradeDate=2023/03/12 15:30:23&MerchantTradeNo=ecpay20230312153023&PaymentType=aio" +
		"&ReturnURL=https://www.ecpay.com.tw/receive.php&TotalAmount=30000&TradeDesc=促銷方案&HashIV=EkRm7iFT261dpevs"
	raw := MacString(docFields, TestHashKey, TestHashIV)
	if raw != wantRaw {
		t.Fatalf("step 2:\n got %s\nwant %s", raw, wantRaw)
	}
	// Steps 3-4: URL-encoded (.NET), lower-cased.
	wantEncoded := "hashkey%3dpwfhcqoqzgmho4w6%26choosepayment%3dall%26encrypttype%3d1%26itemname%3dapple+iphone+15" +
		"%26merchantid%3d3002607%26merchanttradedate%3d2023%2f03%2f12+15%3a30%3a23%26merchanttradeno%3decpay20230312153023" +
		"%26paymenttype%3daio%26returnurl%3dhttps%3a%2f%2fwww.ecpay.com.tw%2freceive.php%26totalamount%3d30000" +
		"%26tradedesc%3d%e4%bf%83%e9%8a%b7%e6%96%b9%e6%a1%88%26hashiv%3dekrm7ift261dpevs"
	encoded := strings.ToLower(NetURLEncode(raw))
	if encoded != wantEncoded {
		t.Fatalf("steps 3-4:\n got %s\nwant %s", encoded, wantEncoded)
	}
	// Steps 5-6: SHA-256, upper-case hex: the documentation's value.
	sum := sha256.Sum256([]byte(wantEncoded))
	const documented = "6C51C9E6888DE861FD62FB1DD17029FC742634498FD813DC43D4243B5685B840"
	if got := strings.ToUpper(hex.EncodeToString(sum[:])); got != documented {
		t.Fatalf("step 6: %s, documented %s", got, documented)
	}
	if got := CheckMacValue(docFields, TestHashKey, TestHashIV); got != documented {
		t.Fatalf("CheckMacValue %s, documented %s", got, documented)
	}
	// A CheckMacValue field already present is not signed over.
	withMac := map[string]string{"CheckMacValue": "X"}
	for k, v := range docFields {
		withMac[k] = v
	}
	if got := CheckMacValue(withMac, TestHashKey, TestHashIV); got != documented {
		t.Fatalf("CheckMacValue over a signed form %s", got)
	}
}

// .NET's exceptions: -_.!*() stay, space is +, everything else (~ too) is
// %xx in lower case.
func TestNetURLEncode(t *testing.T) {
	for in, want := range map[string]string{
		"a-b_c.d!e*f(g)h": "a-b_c.d!e*f(g)h",
		"a b":             "a+b",
		"~'@#$%^&+=/?:;,": "%7e%27%40%23%24%25%5e%26%2b%3d%2f%3f%3a%3b%2c",
		"台":               "%e5%8f%b0",
	} {
		if got := NetURLEncode(in); got != want {
			t.Errorf("NetURLEncode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFieldsAndVerify(t *testing.T) {
	m := Merchant{MerchantID: TestMerchantID, HashKey: TestHashKey, HashIV: TestHashIV, Endpoint: StageEndpoint}
	at := time.Date(2026, 3, 15, 2, 4, 5, 0, time.UTC)
	f, err := m.Fields(Order{TradeNo: "RF20260315ABC", Date: at, Amount: 1000, Description: "RouteFree", ItemName: "預付額度 NT$1000",
		Choose: ChooseATM, ReturnURL: "https://gw.example/return", PaymentInfoURL: "https://gw.example/info", ExpireDays: 3})
	if err != nil {
		t.Fatal(err)
	}
	if f["MerchantTradeDate"] != "2026/03/15 10:04:05" || f["TotalAmount"] != "1000" || f["PaymentType"] != "aio" ||
		f["EncryptType"] != "1" || f["ChoosePayment"] != "ATM" || f["ExpireDate"] != "3" || f["PaymentInfoURL"] == "" {
		t.Fatalf("fields %v", f)
	}
	if !m.Verify(f) {
		t.Fatal("own signature does not verify")
	}
	f["TotalAmount"] = "10"
	if m.Verify(f) {
		t.Fatal("a changed amount verifies")
	}
	for _, amt := range []int64{ATMMinAmount - 1, ATMMaxAmount + 1} {
		if _, err := m.Fields(Order{TradeNo: "RF20260315ABD", Date: at, Amount: amt, Choose: ChooseATM}); err == nil {
			t.Errorf("an ATM order of NT$%d was signed", amt)
		}
	}
	if _, err := m.Fields(Order{TradeNo: "RF20260315ABE", Date: at, Amount: ATMMaxAmount + 1, Choose: ChooseCredit}); err != nil {
		t.Errorf("a card order above the ATM range: %v", err)
	}
	if _, err := m.Fields(Order{TradeNo: "RF-1", Amount: 1, Choose: ChooseCredit}); err == nil {
		t.Fatal("a trade number with a dash was accepted")
	}
	if _, err := m.Fields(Order{TradeNo: "RF123456789012345678901", Amount: 1, Choose: ChooseCredit}); err == nil {
		t.Fatal("a 23-character trade number was accepted")
	}
}

func TestFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if _, ok, err := FromEnv(env(nil)); ok || err != nil {
		t.Fatalf("unset: ok=%v err=%v", ok, err)
	}
	_, ok, err := FromEnv(env(map[string]string{EnvMerchantID: "1"}))
	if !ok || err == nil || !strings.Contains(err.Error(), EnvHashKey) || !strings.Contains(err.Error(), EnvHashIV) {
		t.Fatalf("partial: ok=%v err=%v", ok, err)
	}
	m, ok, err := FromEnv(env(map[string]string{EnvMerchantID: "1", EnvHashKey: "k", EnvHashIV: "v"}))
	if !ok || err != nil || m.Endpoint != ProductionEndpoint {
		t.Fatalf("full: %+v ok=%v err=%v", m, ok, err)
	}
}
