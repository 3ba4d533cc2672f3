package twrules

import "strings"

var (
	capDigits = []string{"零", "壹", "貳", "參", "肆", "伍", "陸", "柒", "捌", "玖"}
	smallUnit = []string{"仟", "佰", "拾", ""} // positions inside a 4-digit group, high to low
	bigUnit   = []string{"", "萬", "億", "兆", "京"}
)

// UpperNTD writes a whole NTD amount in capital numerals (國字大寫) ending in
// 元整: 12,300 → 壹萬貳仟參佰元整, 10,005 → 壹萬零伍元整, 100,000 → 壹拾萬元整.
// A run of zeros between non-zero digits is one 零, zeros closing a 萬/億
// group are absorbed by the group unit, and 拾 always takes a digit (壹拾).
// Negative amounts are prefixed with 負.
func UpperNTD(n int64) string {
	if n == 0 {
		return "零元整"
	}
	var b strings.Builder
	u := uint64(n)
	if n < 0 {
		b.WriteString("負")
		u = uint64(-(n + 1)) + 1 // safe for math.MinInt64
	}
	var groups []int // 4-digit groups, low to high
	for ; u > 0; u /= 10000 {
		groups = append(groups, int(u%10000))
	}
	started, pendingZero := false, false
	for gi := len(groups) - 1; gi >= 0; gi-- {
		g := groups[gi]
		if g == 0 {
			pendingZero = pendingZero || started
			continue
		}
		if started && g < 1000 {
			pendingZero = true // the lower group starts with a zero
		}
		seen, gap := false, false
		for pos, div := 0, 1000; pos < 4; pos, div = pos+1, div/10 {
			d := g / div % 10
			if d == 0 {
				gap = gap || seen
				continue
			}
			if pendingZero || gap {
				b.WriteString("零")
				pendingZero, gap = false, false
			}
			b.WriteString(capDigits[d])
			b.WriteString(smallUnit[pos])
			seen = true
		}
		b.WriteString(bigUnit[gi])
		started = true
	}
	b.WriteString("元整")
	return b.String()
}

// UpperNTDPhrase is the quotation line "新臺幣壹萬貳仟參佰元整".
func UpperNTDPhrase(n int64) string { return "新臺幣" + UpperNTD(n) }
