package commands

import (
	"context"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A payment is invoiced when it is paid, credit given is not: a reference
// recorded as one kind is never taken for the other. A bank transfer whose
// reference was first recorded as credit given (an adjustment) was answered
// "already recorded" and nothing was recorded: money received stayed
// credit that no invoice bills. It is a conflict naming the method, as
// another amount is; the same method and amount is still a duplicate.
func TestTopUpReferenceOfAnotherMethodConflicts(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	top := func(method string) domain.CreditsToppedUp {
		return domain.CreditsToppedUp{AccountID: acct, Amount: dec("500"), Method: method, Reference: "TX-9"}
	}
	if dup, err := h.TopUp(ctx, top(domain.MethodAdjustment)); dup || err != nil {
		t.Fatalf("credit given: %v %v", dup, err)
	}
	n := len(all(t, h))
	for _, m := range []string{domain.MethodBankTransfer, domain.MethodCard} {
		wantRefused(t, h, n, func() error { _, err := h.CheckTopUp(ctx, top(m)); return err }(), ErrConflict, domain.MethodAdjustment)
		wantRefused(t, h, n, func() error { _, err := h.TopUp(ctx, top(m)); return err }(), ErrConflict, domain.MethodAdjustment)
	}
	if dup, err := h.TopUp(ctx, top(domain.MethodAdjustment)); !dup || err != nil {
		t.Fatalf("the same credit again: %v %v", dup, err)
	}
}
