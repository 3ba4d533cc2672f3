package commands

import (
	"context"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// The actor of a command event is the context's, whatever the event given
// to the command already names: a caller cannot write another actor into
// the audit trail.
func TestCommandsRecordTheContextsActorOnly(t *testing.T) {
	h := newHandler(t)
	admin := domain.Actor{Kind: domain.ActorStaff, ID: "stf_admin1", Role: "admin"}
	ctx := WithActor(context.Background(), admin)
	spoofed := domain.Actor{Kind: domain.ActorSystem, ID: "spoofed"}
	acct, err := h.OpenAccount(ctx, domain.AccountOpened{Organisation: "Org", Plan: domain.PlanStarter, Actor: spoofed})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "k", Actor: spoofed}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.TopUp(ctx, domain.CreditsToppedUp{AccountID: acct, Amount: dec("10"), Method: domain.MethodBankTransfer, Reference: "TX-1", Actor: spoofed}); err != nil {
		t.Fatal(err)
	}
	for _, e := range all(t, h) {
		if a, ok := domain.ActorOf(e.Type, e.SchemaVersion, e.Data); !ok || a != admin {
			t.Errorf("%s records actor %+v, want %+v", e.Type, a, admin)
		}
	}
}

// Account IDs become parts of stream names and URLs: only a safe pattern
// is accepted, and a refused one records nothing.
func TestOpenAccountRefusesUnsafeIDs(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	for _, id := range []string{"a/b", "../x", " acct_sp", "acct_sp ", ".hidden", "-dash", "a b", "a\x00b", "acct_é", "a?b", "a%2Fb",
		strings.Repeat("a", 65)} {
		_, err := h.OpenAccount(ctx, domain.AccountOpened{AccountID: id, Organisation: "Org"})
		wantRefused(t, h, 0, err, ErrInvalid, "account ID")
	}
	for _, id := range []string{"acct_given", "acme", "acct-2", "a.b", "A_1", strings.Repeat("a", 64)} {
		if got, err := h.OpenAccount(ctx, domain.AccountOpened{AccountID: id, Organisation: "Org"}); err != nil || got != id {
			t.Errorf("open %q: %q %v", id, got, err)
		}
	}
	// A generated ID passes the same check.
	if id, err := h.OpenAccount(ctx, domain.AccountOpened{Organisation: "Org"}); err != nil || !ValidAccountID(id) {
		t.Errorf("generated ID %q: %v", id, err)
	}
}
