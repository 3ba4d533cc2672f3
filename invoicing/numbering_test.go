package invoicing

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/routefree/routefree/domain"
)

// 16 issuers, each its own Service (as separate processes would be), issue
// at once from one range: every number is used once, none is skipped.
func TestConcurrentIssuersNumbersUniqueAndContiguous(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	const issuers, perIssuer = 16, 4
	for i := range issuers * perIssuer {
		acct := fmt.Sprintf("acct-%03d", i)
		e.open(acct, "公司"+acct, "", domain.PlanBusiness)
		e.use(acct, "gpt-4o", taipei(2026, 11, 2, 10, 0), 10, 10, "100")
	}
	var wg sync.WaitGroup
	numbers := make(chan string, issuers*perIssuer*2)
	errs := make(chan error, issuers*perIssuer*2)
	for g := range issuers {
		svc := e.newService()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range perIssuer {
				acct := fmt.Sprintf("acct-%03d", g*perIssuer+k)
				inv, created, err := svc.IssueMonthly(e.ctx, acct, "2026-11")
				if err != nil {
					errs <- err
					return
				}
				if created {
					numbers <- inv.Number
				}
				// Another issuer's account too: exactly one of the two creates it.
				other := fmt.Sprintf("acct-%03d", ((g+1)%issuers)*perIssuer+k)
				inv, created, err = svc.IssueMonthly(e.ctx, other, "2026-11")
				if err != nil {
					errs <- err
					return
				}
				if created {
					numbers <- inv.Number
				}
			}
		}()
	}
	wg.Wait()
	close(numbers)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var got []string
	for n := range numbers {
		got = append(got, n)
	}
	sort.Strings(got)
	if len(got) != issuers*perIssuer {
		t.Fatalf("%d invoices created, want %d", len(got), issuers*perIssuer)
	}
	for i, n := range got {
		if want := fmt.Sprintf("AB%08d", 12345000+i); n != want {
			t.Fatalf("number %d is %s, want %s (gap or duplicate)", i, n, want)
		}
	}
	// The store agrees: one invoice per account, numbers as handed out.
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	stored := fresh.PeriodInvoices("2026-11")
	accounts := map[string]bool{}
	for i, inv := range stored {
		if inv.Number != got[i] || accounts[inv.AccountID] {
			t.Fatalf("stored invoice %d: %s for %s", i, inv.Number, inv.AccountID)
		}
		accounts[inv.AccountID] = true
	}
	if len(stored) != len(got) {
		t.Fatalf("store holds %d invoices, issuers created %d", len(stored), len(got))
	}
}

func TestRangeExhaustedAndMissing(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	for i := range 3 {
		acct := fmt.Sprintf("a%d", i)
		e.open(acct, "公司", "", domain.PlanBusiness)
		e.use(acct, "gpt-4o", taipei(2026, 10, 2, 10, 0), 10, 10, "100")
	}
	if _, err := e.svc.Close(e.ctx, "2026-10", CloseOptions{}); !errors.Is(err, ErrNoRange) {
		t.Fatalf("close without a range: %v, want ErrNoRange", err)
	}
	e.assign("2026-11", "AB", 98, 99) // two numbers for three invoices
	if err := e.svc.AssignRange(e.ctx, "2026-11", "AB", 1, 99); !errors.Is(err, ErrConflict) {
		t.Fatalf("second range: %v, want ErrConflict", err)
	}
	e.assign("2026-11", "AB", 98, 99) // the same again is harmless
	rep, err := e.svc.Close(e.ctx, "2026-10", CloseOptions{})
	if !errors.Is(err, ErrRangeExhausted) {
		t.Fatalf("close past the range: %v, want ErrRangeExhausted", err)
	}
	if len(rep.Issued) != 2 || rep.Issued[0].Number != "AB00000098" || rep.Issued[1].Number != "AB00000099" {
		t.Fatalf("issued %+v", rep.Issued)
	}
	if _, _, err := e.svc.IssueMonthly(e.ctx, "a2", "2026-10"); !errors.Is(err, ErrRangeExhausted) {
		t.Fatalf("issue past the range: %v", err)
	}
}
