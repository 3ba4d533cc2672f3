package twrules

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// The ends of each rule's range, where an off-by-one would hide.

func TestRangeEnds(t *testing.T) {
	r := Range{Prefix: "AB", From: 0, To: 49}
	if err := r.Validate(); err != nil {
		t.Fatalf("a range from 0: %v", err)
	}
	if err := (Range{Prefix: "AB", From: 7, To: 7}).Validate(); err != nil {
		t.Fatalf("a range of one number: %v", err)
	}
	if err := (Range{Prefix: "AB", From: 0, To: 99999999}).Validate(); err != nil {
		t.Fatalf("the whole track: %v", err)
	}
	for _, p := range []string{"AA", "ZZ", "AZ", "ZA"} {
		if err := (Range{Prefix: p, From: 0, To: 1}).Validate(); err != nil {
			t.Errorf("prefix %s: %v", p, err)
		}
	}
	for _, p := range []string{"@A", "A@", "[A", "A[", "Ab"} {
		if err := (Range{Prefix: p, From: 0, To: 1}).Validate(); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	r = Range{Prefix: "AB", From: 100, To: 149}
	for number, want := range map[string]bool{
		"AB00000099": false, "AB00000100": true, "AB00000149": true, "AB00000150": false, "AC00000120": false,
	} {
		if got := r.Contains(number); got != want {
			t.Errorf("%s in %s: %v, want %v", number, r, got, want)
		}
	}
}

func TestPeriodEnds(t *testing.T) {
	for _, s := range []string{"2026-01", "2026-11", "1912-01", "2910-11"} {
		if p, err := ParsePeriod(s); err != nil || len(p.Code()) != 5 {
			t.Errorf("%s: %v, code %q", s, err, p.Code())
		}
	}
	// The refusal names what is wrong: a year outside the ROC years the
	// 3-digit period code holds (1 to 999), or a month that does not
	// start a period. 9999-11 was taken, and its code ran to 6 digits.
	for s, says := range map[string]string{
		"1911-11": "year", "1900-01": "year", "2911-01": "year", "9999-11": "year",
		"2026-13": "month", "2026-00": "month", "2026-02": "month",
	} {
		_, err := ParsePeriod(s)
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: %v, want a refusal naming the %s", s, err, says)
		}
		if says == "year" && err != nil && strings.Contains(err.Error(), "month") {
			t.Errorf("%s: %v blames the month", s, err)
		}
	}
}

func TestUpperNTDGroupStartingWithOneThousand(t *testing.T) {
	// A lower group of exactly 1,000 starts with a digit, not a zero.
	for n, want := range map[int64]string{
		11000:   "壹萬壹仟元整",
		10999:   "壹萬零玖佰玖拾玖元整",
		1001000: "壹佰萬壹仟元整",
	} {
		if got := UpperNTD(n); got != want {
			t.Errorf("UpperNTD(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestQRHeaderAmountEnds(t *testing.T) {
	k := key(t)
	for _, c := range []struct {
		sales, total int64
		ok           bool
	}{
		{0, 1, true},                   // all tax, no sales
		{340, 340, true},               // tax-free: sales equal the total
		{341, 340, false},              // more sales than total
		{0xffffffff, 0xffffffff, true}, // the field's largest total
		{0, 0x100000000, false},
		{-1, 1, false},
	} {
		p := specProof()
		p.Sales, p.Total = c.sales, c.total
		if _, err := p.QRHeader(k); (err == nil) != c.ok {
			t.Errorf("sales %d total %d: %v, want ok=%v", c.sales, c.total, err, c.ok)
		}
	}
}

// TestQRContentsExactBudgets: items fill a code up to its exact budget,
// and one byte less moves the last item on.
func TestQRContentsExactBudgets(t *testing.T) {
	k := key(t)
	p := specProof()
	one := decimal.NewFromInt(1)
	for _, n := range []string{"茶葉蛋", "便當", "咖啡", "報紙", "口香糖", "礦泉水", "餅乾", "麵包"} {
		p.Items = append(p.Items, QRItem{n, one, decimal.NewFromInt(35)})
	}
	wide := QRBudget{Left: 4096, Right: 4096}
	allLeft, right, err := p.QRContents(k, wide)
	if err != nil || right != "**" {
		t.Fatalf("with room for everything on the left: %q %q %v", allLeft, right, err)
	}
	// The left code keeps a byte for the ":" that announces items on the
	// right, so everything fits from one byte above the string's length.
	left, right, err := p.QRContents(k, QRBudget{Left: len(allLeft) + 1, Right: 4096})
	if err != nil || left != allLeft || right != "**" {
		t.Fatalf("left budget of %d bytes: %q %q %v", len(allLeft)+1, left, right, err)
	}
	left, right, err = p.QRContents(k, QRBudget{Left: len(allLeft), Right: 4096})
	if err != nil || len(left) > len(allLeft) || !strings.HasSuffix(left, "餅乾:1:35:") || right != "**麵包:1:35" {
		t.Fatalf("left budget of %d bytes: %q %q %v", len(allLeft), left, right, err)
	}
	// Nothing on the left: the right code holds the items up to its budget.
	header, err := p.QRHeader(k)
	if err != nil {
		t.Fatal(err)
	}
	narrow := len(header) + 20
	l1, allRight, err := p.QRContents(k, QRBudget{Left: narrow, Right: 4096})
	if err != nil || !strings.HasSuffix(l1, ":**********:11:11:1:") || strings.Count(allRight, ":1:") != 11 {
		t.Fatalf("every item on the right: %q %q %v", l1, allRight, err) // recorded 11 of 11
	}
	_, r2, err := p.QRContents(k, QRBudget{Left: narrow, Right: len(allRight)})
	if err != nil || r2 != allRight {
		t.Fatalf("right budget of exactly %d bytes: %q, want %q (%v)", len(allRight), r2, allRight, err)
	}
	l3, r3, err := p.QRContents(k, QRBudget{Left: narrow, Right: len(allRight) - 1})
	if err != nil || len(r3) > len(allRight)-1 || r3 == allRight || !strings.Contains(l3, ":11:1") {
		t.Fatalf("right budget of %d bytes: %q %q %v", len(allRight)-1, l3, r3, err)
	}
	for L := len(header); L < len(allLeft)+3; L++ {
		for _, R := range []int{2, 20, 60, 4096} {
			l, r, err := p.QRContents(k, QRBudget{Left: L, Right: R})
			if err != nil || len(l) > max(L, len(header)+len(":**********:11:11:1:")) || len(r) > max(R, 2) {
				t.Fatalf("budget %d/%d: %d %d bytes, %v", L, R, len(l), len(r), err)
			}
		}
	}
}

// Index is Next's inverse over ranges taken one after another.
func TestRangesIndexIsNextsInverse(t *testing.T) {
	rs := Ranges{{Prefix: "AB", From: 12345000, To: 12345049}, {Prefix: "CD", From: 0, To: 9}, {Prefix: "AB", From: 12345100, To: 12345149}}
	for k := int64(0); k < rs.Size(); k++ {
		n, err := rs.Next(k)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := rs.Index(n); !ok || got != k {
			t.Fatalf("Index(%s) = %d, %v; Next(%d) gave it", n, got, ok, k)
		}
		if got, ok := rs.Index(PrintedNumber(n)); !ok || got != k {
			t.Fatalf("Index(%s) = %d, %v", PrintedNumber(n), got, ok)
		}
	}
	for _, n := range []string{"AB12345050", "CD00000010", "EF12345000", "AB1234", ""} {
		if k, ok := rs.Index(n); ok {
			t.Fatalf("Index(%q) = %d, in no range", n, k)
		}
	}
}

// Runs cuts counts into the runs of numbers Next gives for them, across
// the ends of ranges.
func TestRangesRunsAcrossRanges(t *testing.T) {
	rs := Ranges{{Prefix: "AB", From: 100, To: 109}, {Prefix: "CD", From: 0, To: 4}}
	for _, c := range []struct {
		from, to int64
		want     string
	}{
		{0, 14, "AB00000100-AB00000109 CD00000000-CD00000004"},
		{9, 10, "AB00000109-AB00000109 CD00000000-CD00000000"},
		{3, 3, "AB00000103-AB00000103"},
		{12, 99, "CD00000002-CD00000004"},
		{15, 20, ""},
		{5, 4, ""},
	} {
		if got := rangeList(rs.Runs(c.from, c.to)); got != c.want {
			t.Errorf("Runs(%d, %d) = %q, want %q", c.from, c.to, got, c.want)
		}
	}
}

func rangeList(rs []Range) string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.String()
	}
	return strings.Join(names, " ")
}
