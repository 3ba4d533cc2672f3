// Package ecpaytest is a fake ECPay cashier for tests: it takes the
// checkout form a browser posts, checks its CheckMacValue the way ECPay's
// documentation and SDKs compute it (written independently of package
// ecpay, so the two check each other), and sends signed notifications to the
// merchant's ReturnURL and PaymentInfoURL, including tampered ones.
package ecpaytest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Provider is a fake cashier.
type Provider struct {
	MerchantID, HashKey, HashIV string
	// Server is the test server New starts (nil from NewHandler).
	Server *httptest.Server
	base   string

	mu     sync.Mutex
	orders map[string]url.Values // by MerchantTradeNo
	seq    int
}

// CheckoutPath is where the checkout form posts, as on ECPay.
const CheckoutPath = "/Cashier/AioCheckOut/V5"

// New starts a fake cashier on loopback, named "localhost" so that it is
// another site than a gateway on 127.0.0.1, as ECPay is in production.
func New(merchantID, hashKey, hashIV string) *Provider {
	p := NewProvider(merchantID, hashKey, hashIV, "")
	p.Server = httptest.NewServer(p.Handler())
	p.base = strings.Replace(p.Server.URL, "127.0.0.1", "localhost", 1)
	return p
}

// NewProvider returns a fake cashier to serve with Handler at base (e.g.
// http://localhost:8090), as cmd/fakeecpay does.
func NewProvider(merchantID, hashKey, hashIV, base string) *Provider {
	return &Provider{MerchantID: merchantID, HashKey: hashKey, HashIV: hashIV, base: base, orders: map[string]url.Values{}}
}

// Handler serves the cashier: the checkout form and the fake's pay button.
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+CheckoutPath, p.checkout)
	mux.HandleFunc("POST /fake/pay", p.pay)
	return mux
}

// Close stops the test server.
func (p *Provider) Close() {
	if p.Server != nil {
		p.Server.Close()
	}
}

// Endpoint is the AioCheckOut/V5 URL (from New, with host "localhost").
func (p *Provider) Endpoint() string { return p.base + CheckoutPath }

// Sign computes CheckMacValue as ECPay's documentation spells it out:
// sort, frame with HashKey and HashIV, urlencode, lower-case, undo the
// encodings .NET does not make, SHA-256, upper-case.
func Sign(fields url.Values, hashKey, hashIV string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != "CheckMacValue" {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return strings.ToLower(keys[i]) < strings.ToLower(keys[j]) })
	parts := []string{"HashKey=" + hashKey}
	for _, k := range keys {
		parts = append(parts, k+"="+fields.Get(k))
	}
	parts = append(parts, "HashIV="+hashIV)
	s := strings.ToLower(url.QueryEscape(strings.Join(parts, "&")))
	s = strings.NewReplacer("%2d", "-", "%5f", "_", "%2e", ".", "%21", "!", "%2a", "*", "%28", "(", "%29", ")", "~", "%7e").Replace(s)
	sum := sha256.Sum256([]byte(s))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

var required = []string{"MerchantID", "MerchantTradeNo", "MerchantTradeDate", "PaymentType", "TotalAmount",
	"TradeDesc", "ItemName", "ReturnURL", "ChoosePayment", "CheckMacValue", "EncryptType"}

var page = template.Must(template.New("pay").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>Fake ECPay</title><link rel="icon" href="data:,"></head><body>
<h1 id="fake-ecpay">綠界科技 (fake)</h1>
<p>訂單 <span id="trade">{{.Trade}}</span> 金額 <span id="amount">{{.Amount}}</span></p>
{{if .ATM}}<p>銀行代碼 <span id="bank">{{.Bank}}</span> 虛擬帳號 <span id="vaccount">{{.VAccount}}</span></p>{{end}}
<form method="post" action="/fake/pay"><input type="hidden" name="trade" value="{{.Trade}}">
<button id="pay" type="submit">{{if .ATM}}模擬 ATM 轉帳{{else}}付款{{end}}</button></form>
</body></html>`))

// checkout takes the browser's form: every required field, the test
// merchant, a sound signature and a fresh trade number, or an error page as
// ECPay shows one.
func (p *Provider) checkout(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f := r.PostForm
	for _, k := range required {
		if f.Get(k) == "" {
			http.Error(w, "10200052 missing "+k, http.StatusBadRequest)
			return
		}
	}
	if f.Get("MerchantID") != p.MerchantID {
		http.Error(w, "10200002 unknown merchant", http.StatusBadRequest)
		return
	}
	if f.Get("CheckMacValue") != Sign(f, p.HashKey, p.HashIV) {
		http.Error(w, "10200073 CheckMacValue Error", http.StatusBadRequest)
		return
	}
	if _, err := time.Parse("2006/01/02 15:04:05", f.Get("MerchantTradeDate")); err != nil {
		http.Error(w, "10200005 bad MerchantTradeDate", http.StatusBadRequest)
		return
	}
	if amt, err := strconv.ParseInt(f.Get("TotalAmount"), 10, 64); err != nil || amt <= 0 {
		http.Error(w, "bad TotalAmount", http.StatusBadRequest)
		return
	} else if f.Get("ChoosePayment") == "ATM" && (amt < 11 || amt > 49999) {
		// ECPay's order limits: an ATM virtual account takes NT$11 to NT$49,999.
		http.Error(w, "ATM TotalAmount must be 11-49999", http.StatusBadRequest)
		return
	}
	trade := f.Get("MerchantTradeNo")
	p.mu.Lock()
	_, dup := p.orders[trade]
	if !dup {
		p.orders[trade] = f
	}
	p.mu.Unlock()
	if dup {
		http.Error(w, "10200047 MerchantTradeNo duplicated", http.StatusBadRequest)
		return
	}
	data := map[string]any{"Trade": trade, "Amount": f.Get("TotalAmount"), "ATM": f.Get("ChoosePayment") == "ATM"}
	if f.Get("ChoosePayment") == "ATM" {
		info, err := p.PaymentInfo(trade, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		data["Bank"], data["VAccount"] = info.Get("BankCode"), info.Get("vAccount")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, data)
}

// pay is the customer paying on the fake's page: the paid notification goes
// to ReturnURL first, then the browser is sent back to ClientBackURL.
func (p *Provider) pay(w http.ResponseWriter, r *http.Request) {
	trade := r.FormValue("trade")
	o, ok := p.Order(trade)
	if !ok {
		http.Error(w, "unknown order", http.StatusNotFound)
		return
	}
	if reply, err := p.Paid(trade, nil, nil); err != nil || reply != "1|OK" {
		http.Error(w, fmt.Sprintf("merchant answered %q (%v)", reply, err), http.StatusBadGateway)
		return
	}
	if back := o.Get("ClientBackURL"); back != "" {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	_, _ = io.WriteString(w, "paid")
}

// Order returns the checkout form received for a trade number.
func (p *Provider) Order(trade string) (url.Values, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	o, ok := p.orders[trade]
	return o, ok
}

// Orders returns the trade numbers received, in no order.
func (p *Provider) Orders() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for k := range p.orders {
		out = append(out, k)
	}
	return out
}

func (p *Provider) ecpayTradeNo() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	return fmt.Sprintf("2603151000%06d", p.seq)
}

// Paid sends the paid notification (RtnCode=1) of an order to its
// ReturnURL, changed by before and after as Send says, and returns the
// merchant's answer.
func (p *Provider) Paid(trade string, before, after func(url.Values)) (string, error) {
	o, ok := p.Order(trade)
	if !ok {
		return "", fmt.Errorf("no order %s", trade)
	}
	paymentType := "Credit_CreditCard"
	if o.Get("ChoosePayment") == "ATM" {
		paymentType = "ATM_TAISHIN"
	}
	f := url.Values{
		"MerchantID": {p.MerchantID}, "MerchantTradeNo": {trade}, "StoreID": {""}, "RtnCode": {"1"}, "RtnMsg": {"交易成功"},
		"TradeNo": {p.ecpayTradeNo()}, "TradeAmt": {o.Get("TotalAmount")}, "PaymentDate": {"2026/03/15 10:05:00"},
		"PaymentType": {paymentType}, "PaymentTypeChargeFee": {"0"}, "TradeDate": {o.Get("MerchantTradeDate")},
		"SimulatePaid": {"0"}, "CustomField1": {""}, "CustomField2": {""}, "CustomField3": {""}, "CustomField4": {""},
	}
	return p.Send(o.Get("ReturnURL"), f, before, after)
}

// PaymentInfo sends an ATM order's virtual account (RtnCode=2) to its
// PaymentInfoURL and returns the fields sent.
func (p *Provider) PaymentInfo(trade string, before func(url.Values)) (url.Values, error) {
	o, ok := p.Order(trade)
	if !ok {
		return nil, fmt.Errorf("no order %s", trade)
	}
	f := url.Values{
		"MerchantID": {p.MerchantID}, "MerchantTradeNo": {trade}, "StoreID": {""}, "RtnCode": {"2"},
		"RtnMsg": {"Get VirtualAccount Succeeded"}, "TradeNo": {p.ecpayTradeNo()}, "TradeAmt": {o.Get("TotalAmount")},
		"PaymentType": {"ATM_TAISHIN"}, "TradeDate": {o.Get("MerchantTradeDate")}, "BankCode": {"812"},
		"vAccount": {"9103522175887271"}, "ExpireDate": {atmExpiry(o)},
		"CustomField1": {""}, "CustomField2": {""}, "CustomField3": {""}, "CustomField4": {""},
	}
	reply, err := p.Send(o.Get("PaymentInfoURL"), f, before, nil)
	if err != nil {
		return nil, err
	}
	if reply != "1|OK" {
		return nil, fmt.Errorf("merchant answered %q to the payment info", reply)
	}
	return f, nil
}

// atmExpiry is the last day (Taipei) an order's virtual account takes a
// transfer: the form's ExpireDate days (3 if absent) after its
// MerchantTradeDate, as ECPay counts them, so that an account opened today
// is not shown as already expired.
func atmExpiry(o url.Values) string {
	taipei := time.FixedZone("CST", 8*3600)
	at, err := time.ParseInLocation("2006/01/02 15:04:05", o.Get("MerchantTradeDate"), taipei)
	if err != nil {
		at = time.Now().In(taipei)
	}
	days, err := strconv.Atoi(o.Get("ExpireDate"))
	if err != nil || days < 1 {
		days = 3
	}
	return at.AddDate(0, 0, days).Format("2006/01/02")
}

// Send posts a notification to target as ECPay does
// (application/x-www-form-urlencoded) and returns the answer's body: before
// changes the fields before they are signed (a genuine notification with
// that content), after changes them once signed (a forgery).
func (p *Provider) Send(target string, f url.Values, before, after func(url.Values)) (string, error) {
	if before != nil {
		before(f)
	}
	f.Set("CheckMacValue", Sign(f, p.HashKey, p.HashIV))
	if after != nil {
		after(f)
	}
	resp, err := http.PostForm(target, f)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
