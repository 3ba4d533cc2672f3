package commands

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// Distinct top-ups to one account, at once, from handlers of their own
// (as the console builds one per request) over one store, are all
// recorded: none is lost to another's append.
func TestConcurrentTopUpsAreAllRecorded(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			hi := &Handler{Store: h.Store, Now: h.Now}
			<-start
			dup, err := hi.TopUp(ctx, domain.CreditsToppedUp{AccountID: acct, Amount: decimal.NewFromInt(int64(100 + i)),
				Method: domain.MethodBankTransfer, Reference: fmt.Sprintf("TX-%03d", i)})
			if err == nil && dup {
				err = fmt.Errorf("top-up %d reported as a duplicate", i)
			}
			errs <- err
		}(i)
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	evs, _, err := h.readStream(ctx, domain.TopUpStream(acct))
	if err != nil {
		t.Fatal(err)
	}
	sum, want := decimal.Zero, decimal.Zero
	refs := map[string]bool{}
	for _, e := range evs {
		tu := e.(*domain.CreditsToppedUp)
		sum = sum.Add(tu.Amount)
		refs[tu.Reference] = true
	}
	for i := 0; i < n; i++ {
		want = want.Add(decimal.NewFromInt(int64(100 + i)))
	}
	if len(evs) != n || len(refs) != n || !sum.Equal(want) {
		t.Fatalf("%d top-ups recorded (%d references) summing to %s, want %d summing to %s", len(evs), len(refs), sum, n, want)
	}
}
