package commands

import (
	"testing"

	"github.com/google/uuid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// A bank transfer's reference typed in other letters' case (tx-20261128-001
// after TX-20261128-001) is the same transfer: it was recorded as a second
// payment and credited the account twice, money received once. A reference
// recorded before, in any case or width, compares alike, and the reference
// keeps the case it was typed in.
func TestTopUpReferenceInOtherCaseIsTheSameTransfer(t *testing.T) {
	h, ctx, top, n := recordedTransfer(t)
	for _, ref := range []string{"tx-20261128-001", "Tx-20261128-001", "ｔｘ－２０２６１１２８－００１"} {
		if dup, err := h.CheckTopUp(ctx, top(ref)); !dup || err != nil {
			t.Fatalf("check of %s: duplicate=%v err=%v, want a duplicate", ref, dup, err)
		}
		if dup, err := h.TopUp(ctx, top(ref)); !dup || err != nil {
			t.Fatalf("%s: duplicate=%v err=%v, want a duplicate", ref, dup, err)
		}
	}
	if got := len(all(t, h)); got != n {
		t.Fatalf("the reference in lower case recorded %d more events", got-n)
	}
	// Another amount under the lower-case reference is the same conflict.
	other := top("tx-20261128-001")
	other.Amount = dec("4000")
	wantRefused(t, h, n, func() error { _, err := h.TopUp(ctx, other); return err }(), ErrConflict, `as "TX-20261128-001"`)

	// A reference recorded before references were narrowed, full width and
	// in lower case, is the same transfer too.
	old := top("ｔｘ－２０２６１１２８－００２")
	if _, err := h.append(ctx, domain.TopUpStream(old.AccountID), eventstore.Any(), uuid.New(), &old); err != nil {
		t.Fatal(err)
	}
	n = len(all(t, h))
	if dup, err := h.TopUp(ctx, top("TX-20261128-002")); !dup || err != nil {
		t.Fatalf("a reference recorded in lower case and full width: duplicate=%v err=%v, want a duplicate", dup, err)
	}
	if got := len(all(t, h)); got != n {
		t.Fatalf("the old reference's transfer recorded %d more events", got-n)
	}

	// The reference is kept as typed.
	if dup, err := h.TopUp(ctx, top("tx-20261128-003")); dup || err != nil {
		t.Fatalf("a new transfer: %v %v", dup, err)
	}
	evs := all(t, h)
	last := evs[len(evs)-1]
	e, err := domain.Decode(last.Type, last.SchemaVersion, last.Data)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.(*domain.CreditsToppedUp).Reference; got != "tx-20261128-003" {
		t.Fatalf("the reference was recorded as %q, want it as typed", got)
	}
}
