package projections

import (
	"encoding/hex"
	"testing"
)

// sumOf indexes exactly the lowercase-hex SHA-256 strings, decoded as
// encoding/hex would, and looks one up without allocating.
func TestSumOf(t *testing.T) {
	const h = "00ff10aa9b8c7d6e5f4a3b2c1d0e0f1a2b3c4d5e6f708192a3b4c5d6e7f80912"
	sum, ok := sumOf(h)
	if want, _ := hex.DecodeString(h); !ok || string(sum[:]) != string(want) {
		t.Fatalf("sumOf(%q) = %x %v", h, sum, ok)
	}
	for _, odd := range []string{h[:63], h + "0", "00FF" + h[4:], "0g" + h[2:], ""} {
		if _, ok := sumOf(odd); ok {
			t.Errorf("sumOf(%q) accepted", odd)
		}
	}
	if n := testing.AllocsPerRun(100, func() { sumOf(h) }); n != 0 {
		t.Errorf("sumOf allocates %.0f times", n)
	}
}
