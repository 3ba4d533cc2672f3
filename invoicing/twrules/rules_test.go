package twrules

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

func TestROCDates(t *testing.T) {
	cases := []struct {
		in                  time.Time
		date7, label, short string
	}{
		{time.Date(2026, 11, 5, 14, 30, 0, 0, Taipei), "1151105", "中華民國115年11月5日", "115/11/05"},
		{time.Date(2013, 5, 23, 11, 22, 33, 0, Taipei), "1020523", "中華民國102年5月23日", "102/05/23"},
		// 16:30Z on 31 Dec is 00:30 on 1 Jan in Taipei (UTC+8).
		{time.Date(2025, 12, 31, 16, 30, 0, 0, time.UTC), "1150101", "中華民國115年1月1日", "115/01/01"},
	}
	for _, c := range cases {
		if got := ROCDate7(c.in); got != c.date7 {
			t.Errorf("ROCDate7(%v) = %q, want %q", c.in, got, c.date7)
		}
		if got := ROCDateLabel(c.in); got != c.label {
			t.Errorf("ROCDateLabel(%v) = %q, want %q", c.in, got, c.label)
		}
		if got := ROCDateShort(c.in); got != c.short {
			t.Errorf("ROCDateShort(%v) = %q, want %q", c.in, got, c.short)
		}
	}
	if y := ROCYear(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)); y != 115 {
		t.Errorf("ROCYear = %d, want 115", y)
	}
}

func TestPeriods(t *testing.T) {
	cases := []struct {
		in               time.Time
		str, label, code string
	}{
		{time.Date(2026, 11, 5, 0, 0, 0, 0, Taipei), "2026-11", "115年11-12月", "11512"},
		{time.Date(2015, 4, 17, 13, 3, 0, 0, Taipei), "2015-03", "104年03-04月", "10404"},
		{time.Date(2013, 5, 23, 0, 0, 0, 0, Taipei), "2013-05", "102年05-06月", "10206"},
		{time.Date(2026, 2, 28, 23, 59, 0, 0, Taipei), "2026-01", "115年01-02月", "11502"},
		// A UTC instant late on 30 November is 1 December in Taipei: same period.
		{time.Date(2026, 11, 30, 17, 30, 0, 0, time.UTC), "2026-11", "115年11-12月", "11512"},
		// 31 Oct 16:30Z is 1 Nov 00:30 in Taipei: the next period already.
		{time.Date(2026, 10, 31, 16, 30, 0, 0, time.UTC), "2026-11", "115年11-12月", "11512"},
		// 31 Dec 16:30Z is already 2027 in Taipei.
		{time.Date(2026, 12, 31, 16, 30, 0, 0, time.UTC), "2027-01", "116年01-02月", "11602"},
	}
	for _, c := range cases {
		p := PeriodOf(c.in)
		if p.String() != c.str || p.Label() != c.label || p.Code() != c.code {
			t.Errorf("PeriodOf(%v) = %s %s %s, want %s %s %s", c.in, p, p.Label(), p.Code(), c.str, c.label, c.code)
		}
		back, err := ParsePeriod(p.String())
		if err != nil || back != p {
			t.Errorf("ParsePeriod(%q) = %v, %v", p.String(), back, err)
		}
	}
	dec := time.Date(2026, 11, 30, 17, 30, 0, 0, time.UTC).In(Taipei)
	if dec.Month() != time.December {
		t.Fatalf("2026-11-30T17:30Z in Taipei is %v, want December", dec)
	}
	p := PeriodOf(dec)
	if !p.Start().Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, Taipei)) || !p.End().Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, Taipei)) {
		t.Errorf("bounds %v – %v", p.Start(), p.End())
	}
	if n := p.Next(); n.String() != "2027-01" {
		t.Errorf("Next = %s", n)
	}
	if d := p.FilingDeadline(); !d.Equal(time.Date(2027, 1, 16, 0, 0, 0, 0, Taipei)) {
		t.Errorf("FilingDeadline = %v", d)
	}
	for _, bad := range []string{"2026-12", "2026-1", "abcd-01", "2026-13", ""} {
		if _, err := ParsePeriod(bad); err == nil {
			t.Errorf("ParsePeriod(%q) accepted", bad)
		}
	}
}

func TestTax(t *testing.T) {
	incl := []struct{ total, sales, tax int64 }{
		{12300, 11714, 586}, {5500, 5238, 262}, {340, 324, 16}, {105, 100, 5},
		{21, 20, 1}, {31, 30, 1}, {10, 10, 0},
	}
	for _, c := range incl {
		s, x := SplitInclusive(c.total)
		if s != c.sales || x != c.tax {
			t.Errorf("SplitInclusive(%d) = %d + %d, want %d + %d", c.total, s, x, c.sales, c.tax)
		}
	}
	net := []struct{ net, tax int64 }{{11714, 586}, {30, 2}, {50, 3}, {0, 0}}
	for _, c := range net {
		if got := TaxOnNet(c.net); got != c.tax {
			t.Errorf("TaxOnNet(%d) = %d, want %d", c.net, got, c.tax)
		}
	}
}

func TestUpperNTD(t *testing.T) {
	cases := []struct {
		n    int64
		want string
	}{
		{0, "零元整"}, {10, "壹拾元整"}, {15, "壹拾伍元整"}, {105, "壹佰零伍元整"},
		{110, "壹佰壹拾元整"}, {1001, "壹仟零壹元整"}, {10005, "壹萬零伍元整"},
		{10010, "壹萬零壹拾元整"}, {12300, "壹萬貳仟參佰元整"}, {50000, "伍萬元整"},
		{100000, "壹拾萬元整"}, {100005, "壹拾萬零伍元整"}, {100500, "壹拾萬零伍佰元整"},
		{105000, "壹拾萬伍仟元整"}, {1000000, "壹佰萬元整"}, {1050000, "壹佰零伍萬元整"},
		{10000000, "壹仟萬元整"}, {20000300, "貳仟萬零參佰元整"}, {100000000, "壹億元整"},
		{100010000, "壹億零壹萬元整"}, {120003000, "壹億貳仟萬參仟元整"},
		{1000000005, "壹拾億零伍元整"}, {1010101010, "壹拾億壹仟零壹拾萬壹仟零壹拾元整"},
		{3800000000, "參拾捌億元整"}, {-105, "負壹佰零伍元整"},
	}
	for _, c := range cases {
		if got := UpperNTD(c.n); got != c.want {
			t.Errorf("UpperNTD(%d) = %s, want %s", c.n, got, c.want)
		}
	}
	if got := UpperNTDPhrase(12300); got != "新臺幣壹萬貳仟參佰元整" {
		t.Errorf("UpperNTDPhrase = %s", got)
	}
}

func TestInvoiceNumber(t *testing.T) {
	n, err := ParseInvoiceNumber("AB-12345678")
	if err != nil || n.String() != "AB12345678" || n.Printed() != "AB-12345678" || n.Track() != "AB" || n.Serial() != "12345678" {
		t.Fatalf("parse printed: %v %v", n, err)
	}
	for _, bad := range []string{"ab12345678", "AB1234567", "AB123456789", "A112345678", "AB1234567X", "", "A"} {
		if _, err := ParseInvoiceNumber(bad); !errors.Is(err, ErrInvoiceNumber) {
			t.Errorf("ParseInvoiceNumber(%q) err = %v", bad, err)
		}
	}
	if PrintedNumber("UZ17690872") != "UZ-17690872" || PrintedNumber("bad") != "bad" {
		t.Error("PrintedNumber")
	}
}

func TestRange(t *testing.T) {
	r := Range{Prefix: "AB", From: 12345600, To: 12345649}
	first, err := r.Next(0)
	if err != nil || first != "AB12345600" {
		t.Fatalf("Next(0) = %q, %v", first, err)
	}
	last, err := r.Next(49)
	if err != nil || last != "AB12345649" {
		t.Fatalf("Next(49) = %q, %v", last, err)
	}
	if _, err := r.Next(50); !errors.Is(err, ErrRangeExhausted) {
		t.Fatalf("Next(50) err = %v, want ErrRangeExhausted", err)
	}
	if !r.Contains("AB12345620") || r.Contains("AB12345650") || r.Contains("AC12345620") {
		t.Error("Contains")
	}
	// Leading zeros are kept.
	small := Range{Prefix: "ZZ", From: 0, To: 0}
	if n, err := small.Next(0); err != nil || n != "ZZ00000000" {
		t.Errorf("small.Next(0) = %q, %v", n, err)
	}
	for _, bad := range []Range{{"ab", 0, 1}, {"AB", 5, 4}, {"AB", 0, 100000000}, {"ABC", 0, 1}} {
		if _, err := bad.Next(0); err == nil || errors.Is(err, ErrRangeExhausted) {
			t.Errorf("%+v: err = %v, want validation error", bad, err)
		}
	}
	if _, err := r.Next(-1); err == nil {
		t.Error("negative count accepted")
	}
}

func TestRandomCode(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		c, err := RandomCode()
		if err != nil || !ValidRandomCode(c) {
			t.Fatalf("RandomCode = %q, %v", c, err)
		}
		seen[c] = true
	}
	// 200 draws from 10,000 values: a constant generator would give 1.
	if len(seen) < 150 {
		t.Errorf("only %d distinct codes in 200 draws", len(seen))
	}
	if ValidRandomCode("123") || ValidRandomCode("12a4") {
		t.Error("ValidRandomCode accepts junk")
	}
}

func TestCarriers(t *testing.T) {
	for _, ok := range []string{"/ABC+123", "/1234567", "/A.B-C+D"} {
		if !ValidMobileBarcode(ok) || CarrierTypeOf(ok) != CarrierMobileBarcode {
			t.Errorf("mobile %q rejected", ok)
		}
	}
	for _, bad := range []string{"ABC+1234", "/abc1234", "/123456", "/12345678", "/123 456"} {
		if ValidMobileBarcode(bad) {
			t.Errorf("mobile %q accepted", bad)
		}
	}
	if !ValidCitizenCert("AB12345678901234") || ValidCitizenCert("AB1234567890123") || CarrierTypeOf("AB12345678901234") != CarrierCitizenCert {
		t.Error("citizen certificate")
	}
	for _, ok := range []string{"123", "8585", "1234567"} {
		if !ValidDonationCode(ok) {
			t.Errorf("donation %q rejected", ok)
		}
	}
	for _, bad := range []string{"12", "12345678", "12a", ""} {
		if ValidDonationCode(bad) {
			t.Errorf("donation %q accepted", bad)
		}
	}
	if CarrierTypeOf("junk") != "" {
		t.Error("CarrierTypeOf(junk)")
	}
}

// The reference's 統一編號 examples, run against domain.ValidTaxID.
func TestTaxIDExamples(t *testing.T) {
	for _, ok := range []string{"04595257", "10458575", "22099131", "12345675", "04595252", "10458570"} {
		if !domain.ValidTaxID(ok) {
			t.Errorf("%s rejected", ok)
		}
	}
	for _, bad := range []string{"12345678", "1234567", "1234567A"} {
		if domain.ValidTaxID(bad) {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestAllocateCents(t *testing.T) {
	d := decimal.RequireFromString
	for _, c := range []struct {
		weights []string
		target  int64
		want    []string
	}{
		// 12,300 of usage on three lines, net 11,714.29 → 11,714.
		{[]string{"3809.62", "3809.62", "4095.05"}, 11714, []string{"3809.53", "3809.52", "4094.95"}},
		{[]string{"29.9"}, 30, []string{"30"}},
		{[]string{"8.27", "0.33"}, 9, []string{"8.65", "0.35"}},
		{[]string{"1", "1", "1"}, 1, []string{"0.34", "0.33", "0.33"}},
		{[]string{"0", "0"}, 5, []string{"5", "0"}},
		{[]string{"2", "0"}, 5, []string{"5", "0"}},
	} {
		ws := make([]decimal.Decimal, len(c.weights))
		for i, w := range c.weights {
			ws[i] = d(w)
		}
		got := AllocateCents(ws, c.target)
		sum := decimal.Zero
		for i, g := range got {
			sum = sum.Add(g)
			if !g.Equal(d(c.want[i])) {
				t.Errorf("AllocateCents(%v, %d)[%d] = %s, want %s", c.weights, c.target, i, g, c.want[i])
			}
		}
		if !sum.Equal(decimal.NewFromInt(c.target)) {
			t.Errorf("AllocateCents(%v, %d) sums to %s", c.weights, c.target, sum)
		}
	}
}

func TestUploadDeadlines(t *testing.T) {
	tp := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, Taipei) }
	for _, c := range []struct {
		b2b  bool
		at   time.Time
		last string
	}{
		{false, tp(2026, 11, 5, 10, 0), "2026-11-07"},
		{false, tp(2026, 11, 30, 23, 30), "2026-12-02"},                       // across a month end
		{false, time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), "2026-12-03"}, // 1 Dec 00:00 in Taipei, 30 Nov in UTC
		{false, tp(2026, 2, 27, 9, 0), "2026-03-01"},                          // February
		{true, tp(2026, 11, 30, 9, 0), "2026-12-07"},
		{true, tp(2026, 12, 28, 9, 0), "2027-01-04"}, // across a year end
	} {
		d := UploadDeadline(c.b2b, c.at)
		if got := LastUploadDay(d); got != c.last {
			t.Errorf("b2b=%v issued %s: last day %s, want %s", c.b2b, c.at, got, c.last)
		}
		if h, m, s := d.In(Taipei).Clock(); h != 0 || m != 0 || s != 0 {
			t.Errorf("deadline %s is not Taipei midnight", d)
		}
		if !d.After(c.at) {
			t.Errorf("deadline %s before issue %s", d, c.at)
		}
	}
}

// Random weights: the shares add up exactly and each is within a cent of
// its exact proportion.
func TestAllocateCentsRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 29))
	cent := decimal.New(1, -2)
	for range 2000 {
		n := 1 + rng.IntN(12)
		ws := make([]decimal.Decimal, n)
		sum := decimal.Zero
		for i := range ws {
			ws[i] = decimal.New(rng.Int64N(5_000_000), -int32(rng.IntN(5)))
			sum = sum.Add(ws[i])
		}
		if sum.IsZero() {
			continue
		}
		target := sum.Round(0).IntPart() + int64(rng.IntN(3)) - 1
		if target <= 0 {
			continue
		}
		got := AllocateCents(ws, target)
		total := decimal.Zero
		for i, g := range got {
			total = total.Add(g)
			exact := ws[i].Mul(decimal.NewFromInt(target)).Div(sum)
			if g.Sub(exact).Abs().GreaterThan(cent) || !g.Equal(g.Round(2)) {
				t.Fatalf("weights %v target %d: share %d = %s, exact %s", ws, target, i, g, exact)
			}
		}
		if !total.Equal(decimal.NewFromInt(target)) {
			t.Fatalf("weights %v target %d: shares sum to %s", ws, target, total)
		}
	}
}
