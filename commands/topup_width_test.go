package commands

import (
	"context"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A bank transfer's reference typed with a Chinese input method in
// full-width mode (ＴＸ－２０２６１１２８－００１) is the same transfer as
// TX-20261128-001: the console narrows what is typed, but the admin API
// and the CLI recorded the full-width reference as a second payment and
// credited the account twice.
func TestTopUpFullWidthReferenceIsTheSameTransfer(t *testing.T) {
	h, ctx, top, n := recordedTransfer(t)
	if dup, err := h.CheckTopUp(ctx, top("ＴＸ－２０２６１１２８－００１")); !dup || err != nil {
		t.Fatalf("check of the full-width reference: duplicate=%v err=%v, want a duplicate", dup, err)
	}
	if dup, err := h.TopUp(ctx, top("ＴＸ－２０２６１１２８－００１")); !dup || err != nil {
		t.Fatalf("the full-width reference: duplicate=%v err=%v, want a duplicate", dup, err)
	}
	if got := len(all(t, h)); got != n {
		t.Fatalf("the full-width reference recorded %d more events", got-n)
	}
	// Another amount under the full-width reference is the same conflict
	// as under the narrow one.
	other := top("ＴＸ－２０２６１１２８－００１")
	other.Amount = dec("4000")
	wantRefused(t, h, n, func() error { _, err := h.TopUp(ctx, other); return err }(), ErrConflict, "5000")
}

// recordedTransfer is an account whose NT$5,000 bank transfer
// TX-20261128-001 is recorded: top builds another transfer of the same
// amount under a reference, and n is the count of events so far.
func recordedTransfer(t *testing.T) (h *Handler, ctx context.Context, top func(ref string) domain.CreditsToppedUp, n int) {
	t.Helper()
	h, ctx = newHandler(t), context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	top = func(ref string) domain.CreditsToppedUp {
		return domain.CreditsToppedUp{AccountID: acct, Amount: dec("5000"), Method: domain.MethodBankTransfer, Reference: ref}
	}
	if dup, err := h.TopUp(ctx, top("TX-20261128-001")); dup || err != nil {
		t.Fatalf("first transfer: %v %v", dup, err)
	}
	return h, ctx, top, len(all(t, h))
}
