// Package ecpay speaks ECPay's AIO checkout (全方位金流): the checkout form
// a customer's browser posts to AioCheckOut/V5, and the CheckMacValue that
// signs it and every notification ECPay sends back. It does no I/O.
package ecpay

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Endpoints of AioCheckOut/V5: the production cashier and ECPay's stage
// (test) cashier, which takes the published test merchant.
const (
	ProductionEndpoint = "https://payment.ecpay.com.tw/Cashier/AioCheckOut/V5"
	StageEndpoint      = "https://payment-stage.ecpay.com.tw/Cashier/AioCheckOut/V5"
)

// ECPay's published test merchant (stage only). Tests use it; production
// settings come only from the environment.
const (
	TestMerchantID = "3002607"
	TestHashKey    = "pwFHCqoQZGmho4w6"
	TestHashIV     = "EkRm7iFT261dpevs"
)

// Environment variables holding the merchant settings. They are read from
// the environment only, never from flags or files, so the keys stay out of
// shell history, process lists and configuration in version control.
const (
	EnvMerchantID = "ROUTEFREE_ECPAY_MERCHANT_ID"
	EnvHashKey    = "ROUTEFREE_ECPAY_HASH_KEY"
	EnvHashIV     = "ROUTEFREE_ECPAY_HASH_IV"
	EnvEndpoint   = "ROUTEFREE_ECPAY_ENDPOINT"
)

// Merchant is one ECPay merchant: its ID, its signing keys and the cashier
// its customers are sent to.
type Merchant struct {
	MerchantID string
	HashKey    string
	HashIV     string
	Endpoint   string
}

// FromEnv reads the merchant from the environment. ok is false when no
// merchant ID is set (payments are off); a partial setting is an error.
func FromEnv(getenv func(string) string) (m Merchant, ok bool, err error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	m = Merchant{MerchantID: getenv(EnvMerchantID), HashKey: getenv(EnvHashKey), HashIV: getenv(EnvHashIV), Endpoint: getenv(EnvEndpoint)}
	if m.MerchantID == "" && m.HashKey == "" && m.HashIV == "" {
		return Merchant{}, false, nil
	}
	if m.Endpoint == "" {
		m.Endpoint = ProductionEndpoint
	}
	return m, true, m.Validate()
}

// Validate reports every missing setting at once, naming the variables.
func (m Merchant) Validate() error {
	var errs []error
	if m.MerchantID == "" {
		errs = append(errs, fmt.Errorf("ecpay: %s is not set", EnvMerchantID))
	}
	if m.HashKey == "" {
		errs = append(errs, fmt.Errorf("ecpay: %s is not set", EnvHashKey))
	}
	if m.HashIV == "" {
		errs = append(errs, fmt.Errorf("ecpay: %s is not set", EnvHashIV))
	}
	if !strings.HasPrefix(m.Endpoint, "https://") && !strings.HasPrefix(m.Endpoint, "http://") {
		errs = append(errs, fmt.Errorf("ecpay: %s must be an http(s) URL", EnvEndpoint))
	}
	return errors.Join(errs...)
}

// Taipei is the zone of MerchantTradeDate.
var Taipei = func() *time.Location {
	l, err := time.LoadLocation("Asia/Taipei")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}()

// TradeDate formats an instant as MerchantTradeDate: yyyy/MM/dd HH:mm:ss in
// Taipei.
func TradeDate(t time.Time) string { return t.In(Taipei).Format("2006/01/02 15:04:05") }

// Choices of ChoosePayment that RouteFree offers.
const (
	ChooseCredit = "Credit"
	ChooseATM    = "ATM"
)

// ATM orders: ECPay creates an ATM virtual account for NT$11 to NT$49,999
// only (its published order limits for ATM and WebATM) and answers any
// other amount with an error page at the cashier.
const (
	ATMMinAmount = 11
	ATMMaxAmount = 49999
)

// Order is what a checkout asks ECPay for.
type Order struct {
	TradeNo        string // MerchantTradeNo: at most 20 letters and digits, unique per merchant
	Date           time.Time
	Amount         int64 // TotalAmount, whole NTD
	Description    string
	ItemName       string
	Choose         string // ChooseCredit or ChooseATM
	ReturnURL      string // server-to-server notification of payment
	PaymentInfoURL string // ATM: the virtual account assigned
	ClientBackURL  string // the "back to the shop" link on ECPay's pages
	ExpireDays     int    // ATM: days the virtual account stays open (1-60; 0: ECPay's default)
}

// ValidTradeNo reports whether s fits MerchantTradeNo.
func ValidTradeNo(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Fields returns the signed form fields of the order, CheckMacValue
// included.
func (m Merchant) Fields(o Order) (map[string]string, error) {
	if !ValidTradeNo(o.TradeNo) {
		return nil, fmt.Errorf("ecpay: trade number %q is not 1-20 letters and digits", o.TradeNo)
	}
	if o.Amount <= 0 {
		return nil, fmt.Errorf("ecpay: amount must be positive")
	}
	if o.Choose != ChooseCredit && o.Choose != ChooseATM {
		return nil, fmt.Errorf("ecpay: unknown payment choice %q", o.Choose)
	}
	if o.Choose == ChooseATM && (o.Amount < ATMMinAmount || o.Amount > ATMMaxAmount) {
		return nil, fmt.Errorf("ecpay: an ATM order is NT$%d to NT$%d (NT$%d given)", ATMMinAmount, ATMMaxAmount, o.Amount)
	}
	f := map[string]string{
		"MerchantID":        m.MerchantID,
		"MerchantTradeNo":   o.TradeNo,
		"MerchantTradeDate": TradeDate(o.Date),
		"PaymentType":       "aio",
		"TotalAmount":       fmt.Sprint(o.Amount),
		"TradeDesc":         o.Description,
		"ItemName":          o.ItemName,
		"ReturnURL":         o.ReturnURL,
		"ChoosePayment":     o.Choose,
		"EncryptType":       "1",
	}
	if o.ClientBackURL != "" {
		f["ClientBackURL"] = o.ClientBackURL
	}
	if o.Choose == ChooseATM {
		if o.PaymentInfoURL != "" {
			f["PaymentInfoURL"] = o.PaymentInfoURL
		}
		if o.ExpireDays > 0 {
			f["ExpireDate"] = fmt.Sprint(o.ExpireDays)
		}
	}
	f["CheckMacValue"] = CheckMacValue(f, m.HashKey, m.HashIV)
	return f, nil
}

// CheckMacValue signs fields as ECPay does (EncryptType=1): the fields but
// CheckMacValue sorted by name without regard to case, joined as
// HashKey=…&k=v&…&HashIV=…, URL-encoded the way .NET's HttpUtility.UrlEncode
// does, lower-cased, hashed with SHA-256 and written in upper-case hex.
func CheckMacValue(fields map[string]string, hashKey, hashIV string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(NetURLEncode(MacString(fields, hashKey, hashIV)))))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// MacString is the string CheckMacValue encodes and hashes.
func MacString(fields map[string]string, hashKey, hashIV string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != "CheckMacValue" {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return strings.ToLower(keys[i]) < strings.ToLower(keys[j]) })
	var b strings.Builder
	b.WriteString("HashKey=" + hashKey)
	for _, k := range keys {
		b.WriteString("&" + k + "=" + fields[k])
	}
	b.WriteString("&HashIV=" + hashIV)
	return b.String()
}

// NetURLEncode encodes s as .NET's HttpUtility.UrlEncode: letters, digits
// and -_.!*() stay, a space becomes +, every other byte of the UTF-8 text
// becomes %xx (lower-case hex, as .NET writes it).
func NetURLEncode(s string) string {
	const hexDigits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-_.!*()", c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// Verify checks a notification's CheckMacValue in constant time.
func (m Merchant) Verify(fields map[string]string) bool {
	got := fields["CheckMacValue"]
	want := CheckMacValue(fields, m.HashKey, m.HashIV)
	return len(got) == len(want) && subtle.ConstantTimeCompare([]byte(strings.ToUpper(got)), []byte(want)) == 1
}

// Replies ECPay expects from ReturnURL and PaymentInfoURL: "1|OK" stops its
// retries; anything else is a refusal it reports to the merchant.
const ReplyOK = "1|OK"

// Refuse is the reply to a notification RouteFree does not accept.
func Refuse(reason string) string { return "0|" + reason }
