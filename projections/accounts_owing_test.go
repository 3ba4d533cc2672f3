package projections

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// The directory's accounts owing follow their balances: an account joins
// them when a request or an adjustment takes its balance below zero and
// leaves them once a top-up brings it back, and one not opened is never
// listed.
func TestAccountsOwingFollowBalances(t *testing.T) {
	b := NewBalances()
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	pos := uint64(0)
	fold := func(stream string, body domain.Event, typ string) {
		t.Helper()
		pos++
		e := Event{Body: body, RecordedEvent: eventstore.RecordedEvent{
			EventData: eventstore.EventData{ID: uuid.New(), Type: typ, SchemaVersion: 1, OccurredAt: at},
			Stream:    stream, Position: eventstore.Position{Commit: pos}}}
		if err := b.Apply(context.Background(), []Event{e}); err != nil {
			t.Fatal(err)
		}
	}
	owing := func() []string {
		var ids []string
		for _, a := range b.Accounts().Owing(at) {
			ids = append(ids, a.ID+"="+a.Balance.Decimal().String())
		}
		slices.Sort(ids)
		return ids
	}
	for _, id := range []string{"a", "b"} {
		fold(domain.AccountStream(id), &domain.AccountOpened{AccountID: id, Plan: domain.PlanBusiness}, domain.TypeAccountOpened)
	}
	fold(domain.UsageStream("a"), &domain.RequestCompleted{AccountID: "a", Cost: decimal.RequireFromString("1.5"), StartedAt: at},
		domain.TypeRequestCompleted)
	fold(domain.TopUpStream("b"), &domain.CreditsAdjusted{AccountID: "b", Amount: decimal.NewFromInt(-2), Reason: "r"}, domain.TypeCreditsAdjusted)
	fold(domain.TopUpStream("x"), &domain.CreditsAdjusted{AccountID: "x", Amount: decimal.NewFromInt(-9), Reason: "r"}, domain.TypeCreditsAdjusted)
	if got, want := owing(), []string{"a=-1.5", "b=-2"}; !slices.Equal(got, want) {
		t.Fatalf("owing %v, want %v", got, want)
	}
	fold(domain.TopUpStream("a"), &domain.CreditsToppedUp{AccountID: "a", Amount: decimal.RequireFromString("1.5"), Method: "bank_transfer"},
		domain.TypeCreditsToppedUp)
	fold(domain.TopUpStream("b"), &domain.CreditsToppedUp{AccountID: "b", Amount: decimal.NewFromInt(1), Method: "bank_transfer"},
		domain.TypeCreditsToppedUp)
	if got, want := owing(), []string{"b=-1"}; !slices.Equal(got, want) {
		t.Fatalf("owing %v, want %v", got, want)
	}
}
