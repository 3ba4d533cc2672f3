package commands

import (
	"testing"

	"github.com/google/uuid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// A bank transfer's reference pasted from a web page or a spreadsheet may
// carry a character that shows nothing: a zero-width space, a byte-order
// mark, a direction mark. TX-20261128-001 with one of them was recorded
// as another payment and the account credited twice for one transfer.
// Such a reference is refused, naming the character, and nothing is
// recorded.
func TestTopUpReferenceWithAnInvisibleCharacterIsRefused(t *testing.T) {
	h, ctx, top, n := recordedTransfer(t)
	for ref, code := range map[string]string{
		"TX-20261128-001\u200b": "U+200B",
		"\ufeffTX-20261128-001": "U+FEFF",
		"TX-2026\u200e1128-001": "U+200E",
		"TX-20261128\u00ad-001": "U+00AD",
		"TX-20261128-001\u2060": "U+2060",
	} {
		_, err := h.CheckTopUp(ctx, top(ref))
		wantRefused(t, h, n, err, ErrInvalid, "a top-up's reference must not contain invisible characters ("+code+")")
		_, err = h.TopUp(ctx, top(ref))
		wantRefused(t, h, n, err, ErrInvalid, code)
	}
}

// A reference recorded before such references were refused, with a
// zero-width space in it, is the transfer it reads as: typed again without
// it, on the account or on another, the transfer is not credited twice.
func TestTopUpReferenceRecordedWithAnInvisibleCharacterIsTheSameTransfer(t *testing.T) {
	h, ctx, top, _ := recordedTransfer(t)
	old := top("TX-20261128-002\u200b")
	if _, err := h.append(ctx, domain.TopUpStream(old.AccountID), eventstore.Any(), uuid.New(), &old); err != nil {
		t.Fatal(err)
	}
	if dup, err := h.TopUp(ctx, top("TX-20261128-002")); !dup || err != nil {
		t.Fatalf("the reference typed again on its account: duplicate=%v err=%v, want a duplicate", dup, err)
	}
	other := top("TX-20261128-002")
	other.AccountID = mustOpen(t, ctx, h, domain.PlanStarter)
	n := len(all(t, h))
	_, err := h.TopUp(ctx, other)
	wantRefused(t, h, n, err, ErrConflict, "already recorded on account "+old.AccountID)
}
