package twrules

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// testKey is a made-up issuer key; the expected ciphertexts below were
// produced independently with
// `openssl enc -aes-128-cbc -K <key> -iv 0edf25c93a28d7b5ff5e45da42f8a1b8 -base64`.
const testKey = "6A1F9E2C4B7D8E0F13579BDF2468ACE0"

func key(t *testing.T) []byte {
	t.Helper()
	k, err := ParseQRKey(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestQRVerificationKnownAnswer(t *testing.T) {
	k := key(t)
	for _, c := range []struct{ number, random, want string }{
		{"AB11223344", "9999", "67DiYOXyLmE5CNTKkbJ1nw=="},
		{"AB12345678", "1234", "0yu4pniy/GJfMQypn9iLvg=="},
	} {
		got, err := QRVerification(k, c.number, c.random)
		if err != nil || got != c.want {
			t.Errorf("QRVerification(%s,%s) = %q, %v; want %q", c.number, c.random, got, err, c.want)
		}
		// Decrypting gives back number + random: the field is verifiable.
		raw, _ := base64.StdEncoding.DecodeString(got)
		block, _ := aes.NewCipher(k)
		plain := make([]byte, len(raw))
		cipher.NewCBCDecrypter(block, qrIV).CryptBlocks(plain, raw)
		if string(plain[:14]) != c.number+c.random || plain[15] != 2 {
			t.Errorf("decrypted %q", plain)
		}
	}
	for _, bad := range []string{"", "00", "zz1F9E2C4B7D8E0F13579BDF2468ACE0", testKey + "00"} {
		if _, err := ParseQRKey(bad); err == nil {
			t.Errorf("ParseQRKey(%q) accepted", bad)
		}
	}
}

// specProof is the MOF spec's worked example (v1.8 ch. 2): 2013-05-23,
// AB11223344, random 9999, sales 324, total 340, seller 01234567.
func specProof() Proof {
	one := decimal.NewFromInt(1)
	return Proof{
		Number: "AB11223344", IssuedAt: time.Date(2013, 5, 23, 11, 22, 33, 0, Taipei),
		RandomCode: "9999", Sales: 324, Total: 340, SellerTaxID: "01234567",
		Items: []QRItem{
			{"乾電池", one, decimal.NewFromInt(105)},
			{"口罩", one, decimal.NewFromInt(210)},
			{"牛奶", one, decimal.NewFromInt(25)},
		},
	}
}

func TestQRSpecExample(t *testing.T) {
	p := specProof()
	h, err := p.QRHeader(key(t))
	if err != nil {
		t.Fatal(err)
	}
	const specPrefix = "AB11223344102052399990000014400000154" + "00000000" + "01234567"
	if len(h) != 77 || !strings.HasPrefix(h, specPrefix) || len(h)-len(specPrefix) != 24 {
		t.Fatalf("header %q (len %d)", h, len(h))
	}
	// The spec example records one item on the left and two on the right.
	wantLeftTail := ":**********:3:3:1:乾電池:1:105:"
	left, right, err := p.QRContents(key(t), QRBudget{Left: 77 + len(wantLeftTail), Right: 180})
	if err != nil {
		t.Fatal(err)
	}
	if left != h+wantLeftTail {
		t.Errorf("left = %q", left)
	}
	if right != "**口罩:1:210:牛奶:1:25" {
		t.Errorf("right = %q", right)
	}
	// Left + right without "**" is the whole item list.
	if whole := left + right[2:]; !strings.HasSuffix(whole, ":3:3:1:乾電池:1:105:口罩:1:210:牛奶:1:25") {
		t.Errorf("joined %q", whole)
	}
}

func TestQRContentsSplitAndDrop(t *testing.T) {
	p := specProof()
	k := key(t)
	left, right, err := p.QRContents(k, DefaultQRBudget)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(left, ":3:3:1:乾電池:1:105:口罩:1:210:牛奶:1:25") || right != "**" {
		t.Errorf("all on the left: %q / %q", left, right)
	}
	// Many items: they spill over to the right, and what fits in neither is
	// dropped with field 10 < field 11.
	p.Items = nil
	for i := 0; i < 40; i++ {
		p.Items = append(p.Items, QRItem{"AI API 呼叫費用: 模型", decimal.NewFromInt(1), decimal.NewFromInt(8000)})
	}
	left, right, err = p.QRContents(k, DefaultQRBudget)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > DefaultQRBudget.Left || len(right) > DefaultQRBudget.Right {
		t.Errorf("over budget: %d / %d bytes", len(left), len(right))
	}
	fields := strings.Split(left[77:], ":")
	if fields[1] != "**********" || fields[3] != "40" || fields[2] == "40" || fields[4] != "1" {
		t.Errorf("counts: %q", fields[:5])
	}
	if strings.Contains(left[77:], "費用: ") || !strings.Contains(left, "AI API 呼叫費用： 模型") {
		t.Errorf("colon in a name not replaced: %q", left)
	}
	if !strings.HasSuffix(left, ":") || !strings.HasPrefix(right, "**AI API") {
		t.Errorf("continuation markers: %q / %q", left, right)
	}
}

func TestQRHeaderRejects(t *testing.T) {
	k := key(t)
	bad := []func(*Proof){
		func(p *Proof) { p.Number = "A1" },
		func(p *Proof) { p.RandomCode = "99" },
		func(p *Proof) { p.Total = 0; p.Sales = 0 },
		func(p *Proof) { p.Sales = 500 },
		func(p *Proof) { p.SellerTaxID = "123" },
		func(p *Proof) { p.BuyerTaxID = "1234567X" },
	}
	for i, mut := range bad {
		p := specProof()
		mut(&p)
		if _, err := p.QRHeader(k); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
	p := specProof()
	p.BuyerTaxID = "22099131"
	h, err := p.QRHeader(k)
	if err != nil || h[37:45] != "22099131" {
		t.Errorf("B2B buyer field: %q %v", h, err)
	}
}

func TestCode39Content(t *testing.T) {
	p := Proof{Number: "UZ17690872", RandomCode: "0122", IssuedAt: time.Date(2015, 4, 17, 13, 3, 0, 0, Taipei)}
	if got := p.Code39(); got != "10404UZ176908720122" || len(got) != 19 {
		t.Errorf("Code39 = %q", got)
	}
	p = Proof{Number: "AB12345678", RandomCode: "1234", IssuedAt: time.Date(2026, 11, 30, 17, 30, 0, 0, time.UTC)}
	if got := p.Code39(); got != "11512AB123456781234" {
		t.Errorf("Code39 = %q", got)
	}
}
