package commands

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/routefree/routefree/domain"
)

// Callers racing to issue a key of one fixed ID (serves bootstrapping one
// store's demo at once) issue it once: each of the others gets ErrConflict
// and no secret, so that only one secret is ever shown.
func TestAKeyOfAFixedIDIsIssuedOnce(t *testing.T) {
	ctx := context.Background()
	h := newHandler(t)
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	var wg sync.WaitGroup
	secrets, conflicts := make(chan string, 8), make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			secret, err := h.IssueKeyAs(ctx, "key_demo", domain.KeyIssued{AccountID: acct, Name: "demo"})
			switch {
			case err == nil:
				secrets <- secret
			case errors.Is(err, ErrConflict):
				conflicts <- err
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(secrets)
	close(conflicts)
	if len(secrets) != 1 || len(conflicts) != 7 {
		t.Fatalf("8 callers issued %d secrets and met %d conflicts; want 1 and 7", len(secrets), len(conflicts))
	}
	issued := 0
	for _, e := range all(t, h) {
		if e.Type == domain.TypeKeyIssued {
			issued++
		}
	}
	if issued != 1 {
		t.Fatalf("%d keys issued", issued)
	}
}
