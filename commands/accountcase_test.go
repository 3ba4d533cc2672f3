package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// meetAtAppend holds each append to a real store until n appends wait, so
// that writers racing to open accounts have each decided on what they read
// before any of them appends: the store alone decides between them.
type meetAtAppend struct {
	eventstore.Store
	meet *sync.WaitGroup
}

func (m meetAtAppend) Append(ctx context.Context, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	m.meet.Done()
	m.meet.Wait()
	return m.Store.Append(ctx, stream, exp, evs...)
}

// Of two writers, each on its own opening of one store (two processes),
// opening acme and ACME at once, one opens its account and the other is
// refused naming it, on either store: the store keeps one opening per ID
// ignoring case.
func TestAccountIDsDifferingInCaseOpenedAtOnce(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			first, reopen := kind.open(t)
			stores := []eventstore.Store{first, reopen()}
			for round := range 5 {
				ids := []string{fmt.Sprintf("acme%d", round), fmt.Sprintf("ACME%d", round)}
				var meet, done sync.WaitGroup
				meet.Add(2)
				errs := make([]error, 2)
				for i := range 2 {
					done.Add(1)
					go func() {
						defer done.Done()
						h := &Handler{Store: meetAtAppend{stores[i], &meet}, Now: time.Now}
						_, errs[i] = h.OpenAccount(context.Background(), domain.AccountOpened{AccountID: ids[i], Organisation: "Org"})
					}()
				}
				done.Wait()
				if (errs[0] == nil) == (errs[1] == nil) {
					t.Fatalf("round %d: %s: %v; %s: %v; want one opened and one refused", round, ids[0], errs[0], ids[1], errs[1])
				}
				winner, refusal := ids[0], errs[1]
				if errs[0] != nil {
					winner, refusal = ids[1], errs[0]
				}
				if !errors.Is(refusal, ErrConflict) || !strings.Contains(refusal.Error(), "account "+winner+",") {
					t.Fatalf("round %d: refusal %v does not name %s", round, refusal, winner)
				}
			}
			h := &Handler{Store: first, Now: time.Now}
			opened := 0
			for _, e := range all(t, h) {
				if e.Type == domain.TypeAccountOpened {
					opened++
				}
			}
			if opened != 5 {
				t.Fatalf("history holds %d openings, want 5", opened)
			}
		})
	}
}
