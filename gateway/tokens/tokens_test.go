package tokens

import "testing"

func TestCountMatchesTiktoken(t *testing.T) {
	// o200k_base: "hello world" is two tokens; the empty string none.
	if n := Count("hello world"); n != 2 {
		t.Fatalf("Count(hello world) = %d, want 2", n)
	}
	if n := Count(""); n != 0 {
		t.Fatalf("Count(\"\") = %d", n)
	}
	long := Count("The quick brown fox jumps over the lazy dog. 台北的天氣很好。")
	if long < 12 || long > 30 {
		t.Fatalf("implausible count %d", long)
	}
}
