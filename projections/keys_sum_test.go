package projections

import (
	"context"
	"encoding/hex"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
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

// Keys whose hashes share their first 8 bytes (the hash index's slot) are
// each found by their own hash, through reissues, a hash taken over by
// another key, and the removal of a key the index no longer holds.
func TestKeysSharingAHashPrefix(t *testing.T) {
	const prefix = "0123456789abcdef" // 8 bytes
	hash := func(tail byte) string {
		h := []byte(prefix)
		for len(h) < 64 {
			h = append(h, tail)
		}
		return string(h)
	}
	hA, hB, hA2, hA3 := hash('1'), hash('2'), hash('3'), hash('4')
	hC := "f" + hash('5')[1:] // another slot
	k := NewKeys()
	var pos uint64
	issue := func(id, h string) {
		t.Helper()
		pos++
		ev := Event{RecordedEvent: eventstore.RecordedEvent{Position: eventstore.Position{Commit: pos, Prepare: pos}},
			Body: &domain.KeyIssued{KeyID: id, AccountID: "acct", Hash: h, Prefix: "sk-rf-" + id, Name: "default"}}
		if err := k.Apply(context.Background(), []Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	finds := func(h, want string) {
		t.Helper()
		info, ok := k.Lookup(h)
		if want == "" {
			if ok {
				t.Errorf("%s… finds %s, want none", h[:20], info.KeyID)
			}
			return
		}
		if !ok || info.KeyID != want {
			t.Errorf("%s… finds %q %v, want %s", h[:20], info.KeyID, ok, want)
		}
	}
	issue("A", hA)
	issue("B", hB)
	issue("C", hC)
	finds(hA, "A")
	finds(hB, "B")
	finds(hC, "C")
	if k.Len() != 3 {
		t.Errorf("Len %d, want 3", k.Len())
	}
	issue("A", hA2) // reissued: the old hash no longer finds it
	finds(hA, "")
	finds(hA2, "A")
	finds(hB, "B")
	issue("B", hA2) // B reissued with A's hash: the later issue wins
	finds(hB, "")
	finds(hA2, "B")
	issue("A", hA3) // A, no longer in the index, is reissued: B keeps its hash
	finds(hA2, "B")
	finds(hA3, "A")
	finds(hC, "C")
	if k.Len() != 3 {
		t.Errorf("Len %d, want 3", k.Len())
	}
	// A key taken from the middle of its slot's chain leaves the others.
	hD := hash('6')
	issue("D", hD)                // the slot: D, A, B
	issue("A", "f"+hash('7')[1:]) // A moves to another slot
	finds(hD, "D")
	finds(hA2, "B")
	finds(hA3, "")
	if k.Len() != 4 {
		t.Errorf("Len %d, want 4", k.Len())
	}
}
