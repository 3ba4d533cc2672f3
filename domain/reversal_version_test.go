package domain

import (
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// A reversal changes what an adjustment means to invoicing (it puts back
// what the adjustment it names took), so it is stored as version 3 of
// credits.adjusted: a build that knows only version 2 refuses the history
// (ErrNewerThanBuild) rather than reading the reversal as credit given and
// printing other figures. Plain adjustments stay version 2, which such a
// build still reads; this build reads all three.
func TestReversalIsANewVersionOfTheAdjustment(t *testing.T) {
	plain := &CreditsAdjusted{AccountID: "a1", Amount: decimal.NewFromInt(-20), Reason: "oops"}
	rev := &CreditsAdjusted{AccountID: "a1", Amount: decimal.NewFromInt(20), Reason: "reverses oops", Reverses: uuid.New()}
	if plain.SchemaVersion() != 2 || rev.SchemaVersion() != 3 {
		t.Fatalf("versions: plain %d, reversal %d; want 2 and 3", plain.SchemaVersion(), rev.SchemaVersion())
	}
	for _, ev := range []*CreditsAdjusted{plain, rev} {
		b, err := Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(TypeCreditsAdjusted, ev.SchemaVersion(), b)
		if err != nil {
			t.Fatalf("v%d: %v", ev.SchemaVersion(), err)
		}
		if g := got.(*CreditsAdjusted); g.Reverses != ev.Reverses || !g.Amount.Equal(ev.Amount) {
			t.Fatalf("v%d read back as %+v", ev.SchemaVersion(), g)
		}
	}
	// A version this build does not know is refused, not misread.
	b, _ := Encode(rev)
	if _, err := Decode(TypeCreditsAdjusted, 4, b); !errors.Is(err, ErrNewerThanBuild) {
		t.Fatalf("v4: %v, want ErrNewerThanBuild", err)
	}
}
