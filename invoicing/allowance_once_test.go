package invoicing

import (
	"errors"
	"sync"
	"testing"

	"github.com/routefree/routefree/domain"
)

// An allowance command run again under its key (a CLI killed after it
// recorded, an API call retried after a lost answer) issues nothing more:
// it is answered with the allowance the key issued. The key with another
// amount or reason is a conflict naming that allowance; runs at once under
// one key issue one allowance, and only one of them says it issued it.
func TestAllowanceUnderAKeyIsIssuedOnce(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.open("b2b", "艾克米股份有限公司", "22099131", domain.PlanBusiness)
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.use("b2b", "gpt-4o", taipei(2026, 11, 10, 10, 0), 1000, 100, "1050")
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	if _, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	const inv = "AB12345000"

	first, recorded, err := e.svc.IssueAllowanceOnce(e.ctx, inv, 100, "服務中斷", "ticket-7")
	if err != nil || !recorded {
		t.Fatalf("first: %+v recorded %v, %v", first, recorded, err)
	}
	again, recorded, err := e.svc.IssueAllowanceOnce(e.ctx, inv, 100, "服務中斷", "ticket-7")
	if err != nil || recorded || again.Number != first.Number {
		t.Fatalf("again: %+v recorded %v, %v; want %s answered, not recorded", again, recorded, err, first.Number)
	}
	if _, _, err := e.svc.IssueAllowanceOnce(e.ctx, inv, 200, "服務中斷", "ticket-7"); !errors.Is(err, ErrConflict) {
		t.Fatalf("the key with another amount: %v, want ErrConflict", err)
	}
	if got, _ := e.svc.Invoice(inv); len(got.Allowances) != 1 || got.Net() != 950 {
		t.Fatalf("invoice after the key's runs: %d allowances, net NT$%d; want one, NT$950", len(got.Allowances), got.Net())
	}

	// Eight runs at once under a new key.
	var wg sync.WaitGroup
	var mu sync.Mutex
	issued, numbers := 0, map[string]bool{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, rec, err := e.svc.IssueAllowanceOnce(e.ctx, inv, 50, "折扣", "ticket-8")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("run at once: %v", err)
				return
			}
			numbers[a.Number] = true
			if rec {
				issued++
			}
		}()
	}
	wg.Wait()
	if got, _ := e.svc.Invoice(inv); len(got.Allowances) != 2 || got.Net() != 900 || issued != 1 || len(numbers) != 1 {
		t.Fatalf("eight runs at once: %d allowances, net NT$%d, %d said issued, numbers %v; want one more allowance, said once",
			len(got.Allowances), got.Net(), issued, numbers)
	}
	// Without a key every call issues one, as before.
	if _, err := e.svc.IssueAllowance(e.ctx, inv, 50, "折扣"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.Invoice(inv); len(got.Allowances) != 3 {
		t.Fatalf("%d allowances, want 3", len(got.Allowances))
	}
}
