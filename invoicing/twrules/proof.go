package twrules

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The MOF spec's fixed AES IV for the QR verification field (QREncrypter.cs).
var qrIV = mustB64("Dt8lyToo17X/XkXaQvihuA==")

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// LeftQRHeaderLen is the fixed length of the left QR's header.
const LeftQRHeaderLen = 77

// ParseQRKey reads the issuer's AES-128 key, given as 32 hex digits (the
// output of the MOF key tool for the seed password set on the platform).
func ParseQRKey(hexKey string) ([]byte, error) {
	k, err := hex.DecodeString(strings.TrimSpace(hexKey))
	if err != nil || len(k) != 16 {
		return nil, errors.New("twrules: QR key must be 32 hex digits (AES-128)")
	}
	return k, nil
}

// QRVerification is the 24-char 加密驗證資訊: Base64 of AES-128-CBC (PKCS#7,
// the spec's IV) over invoice number + random code.
func QRVerification(key []byte, number, random string) (string, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", fmt.Errorf("twrules: QR key: %w", err)
	}
	plain := []byte(number + random)
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, qrIV).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out), nil
}

// QRItem is one item as recorded in the QR codes (品名:數量:單價).
type QRItem struct {
	Name      string
	Quantity  decimal.Decimal
	UnitPrice decimal.Decimal
}

// Proof holds what the printed proof's barcodes encode.
type Proof struct {
	Number      string    // AB11223344
	IssuedAt    time.Time // ROC date taken in Taipei
	RandomCode  string    // 4 digits
	Sales       int64     // untaxed total (銷售額)
	Total       int64     // tax-inclusive total (總計)
	BuyerTaxID  string    // "" for consumers: 00000000
	SellerTaxID string
	Items       []QRItem
}

// Code39 is the 19-char 1D barcode content: period code (5) + number (10) +
// random code (4), e.g. "11512AB123456781234" (start/stop * added by the
// encoder).
func (p Proof) Code39() string {
	return PeriodOf(p.IssuedAt).Code() + p.Number + p.RandomCode
}

// QRHeader is the left QR's fixed 77-char header: number, ROC date, random
// code, hex sales, hex total, buyer and seller 統編, verification.
func (p Proof) QRHeader(key []byte) (string, error) {
	if _, err := ParseInvoiceNumber(p.Number); err != nil {
		return "", err
	}
	if !ValidRandomCode(p.RandomCode) {
		return "", fmt.Errorf("twrules: random code %q: want 4 digits", p.RandomCode)
	}
	if p.Sales < 0 || p.Total <= 0 || p.Total > 0xffffffff || p.Sales > p.Total {
		return "", fmt.Errorf("twrules: amounts sales %d total %d: no zero or negative invoice", p.Sales, p.Total)
	}
	buyer := p.BuyerTaxID
	if buyer == "" {
		buyer = "00000000"
	}
	if len(buyer) != 8 || !allDigits(buyer) || len(p.SellerTaxID) != 8 || !allDigits(p.SellerTaxID) {
		return "", fmt.Errorf("twrules: buyer %q / seller %q: 統一編號 must be 8 digits", buyer, p.SellerTaxID)
	}
	ver, err := QRVerification(key, p.Number, p.RandomCode)
	if err != nil {
		return "", err
	}
	h := fmt.Sprintf("%s%s%s%08x%08x%s%s%s", p.Number, ROCDate7(p.IssuedAt), p.RandomCode,
		p.Sales, p.Total, buyer, p.SellerTaxID, ver)
	if len(h) != LeftQRHeaderLen {
		return "", fmt.Errorf("twrules: QR header is %d chars, want %d", len(h), LeftQRHeaderLen)
	}
	return h, nil
}

// QRBudget caps the bytes of each QR code; items that fit neither are left
// out (field 10 < field 11), as the spec allows.
type QRBudget struct{ Left, Right int }

// DefaultQRBudget keeps each code at or below version 8-L (192 bytes), so
// the modules stay large enough to scan on A4 and on 5.7 cm paper.
var DefaultQRBudget = QRBudget{Left: 180, Right: 180}

// QRContents builds the left and right QR strings (UTF-8, 中文編碼參數 1):
//
//	left : header:**********:recorded:total:1:name:qty:price[:name:qty:price…][:]
//	right: **name:qty:price[:…]
//
// Items fill the left code first, then the right one; the left string ends
// with ":" when items continue on the right.
func (p Proof) QRContents(key []byte, budget QRBudget) (left, right string, err error) {
	header, err := p.QRHeader(key)
	if err != nil {
		return "", "", err
	}
	enc := make([]string, len(p.Items))
	for i, it := range p.Items {
		enc[i] = qrItemName(it.Name) + ":" + it.Quantity.String() + ":" + it.UnitPrice.String()
	}
	// The recorded count is at most the total count: reserve the total's
	// width for both so the split does not depend on its own outcome.
	w := len(strconv.Itoa(len(p.Items)))
	fixed := len(header) + len(":**********:") + w + 1 + w + len(":1")
	var inLeft, inRight []string
	used := fixed
	i := 0
	for ; i < len(enc) && used+1+len(enc[i])+1 <= budget.Left; i++ {
		inLeft = append(inLeft, enc[i])
		used += 1 + len(enc[i])
	}
	used = 2
	for ; i < len(enc) && used+len(enc[i]) <= budget.Right; i++ {
		inRight = append(inRight, enc[i])
		used += len(enc[i]) + 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:**********:%d:%d:1", header, len(inLeft)+len(inRight), len(p.Items))
	for _, e := range inLeft {
		b.WriteString(":" + e)
	}
	if len(inRight) > 0 {
		b.WriteString(":")
	}
	return b.String(), "**" + strings.Join(inRight, ":"), nil
}

// qrItemName keeps ":" out of names (it separates fields) and trims spaces.
func qrItemName(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, ":", "："))
}
