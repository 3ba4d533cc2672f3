package invoicing

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// raceEnv is November closed, with two services on one SQLite store (two
// processes, or one gateway's concurrent requests).
func raceEnv(t *testing.T) (e *env, svcs [2]*Service, acme, solo Invoice) {
	t.Helper()
	e = november(t)
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svcs = [2]*Service{e.svc, e.newService()}
	return e, svcs, rep.Issued[0], rep.Issued[1]
}

// concurrently runs fn(i) for i < n at once and returns each call's error.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := 0; i < n; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

// Concurrent allowances on one invoice: every request told its allowance
// was issued finds exactly that allowance (its number, amount and reason)
// in the store, and every stored allowance was answered to exactly one
// request. Those that no longer fit are refused.
func TestConcurrentAllowancesEachGetTheirOwn(t *testing.T) {
	for _, c := range []struct {
		name    string
		amounts []int64
		refused int // how many cannot fit the invoice's NT$3,346
	}{
		{"all fit", []int64{10, 200, 30, 45, 5, 60, 7, 80}, 0},
		{"some do not fit", []int64{1000, 1001, 1002, 1003, 1004}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, svcs, acme, _ := raceEnv(t)
			got := make([]Allowance, len(c.amounts))
			errs := concurrently(len(c.amounts), func(i int) error {
				a, err := svcs[i%2].IssueAllowance(e.ctx, acme.Number, c.amounts[i], fmt.Sprintf("refund %d", c.amounts[i]))
				got[i] = a
				return err
			})
			fresh := e.newService()
			if err := fresh.Sync(e.ctx); err != nil {
				t.Fatal(err)
			}
			stored := map[string]Allowance{}
			inv, _ := fresh.Invoice(acme.Number)
			for _, a := range inv.Allowances {
				stored[a.Number] = a
			}
			answered, refused := map[string]bool{}, 0
			for i, err := range errs {
				if err != nil {
					if !errors.Is(err, ErrInvalid) {
						t.Errorf("NT$%d: %v, want a refusal that it no longer fits", c.amounts[i], err)
					}
					refused++
					continue
				}
				want := fmt.Sprintf("refund %d", c.amounts[i])
				if a := got[i]; a.Sales+a.Tax != c.amounts[i] || a.Reason != want {
					t.Errorf("NT$%d %q answered with allowance %s of NT$%d %q", c.amounts[i], want, a.Number, a.Sales+a.Tax, a.Reason)
				}
				s, ok := stored[got[i].Number]
				if !ok || s.Sales+s.Tax != c.amounts[i] || s.Reason != want {
					t.Errorf("NT$%d %q answered with %s, but the store holds %+v", c.amounts[i], want, got[i].Number, s.AllowanceIssued)
				}
				if answered[got[i].Number] {
					t.Errorf("allowance %s answered to two requests", got[i].Number)
				}
				answered[got[i].Number] = true
			}
			if refused != c.refused || len(stored) != len(c.amounts)-c.refused {
				t.Fatalf("%d refused, %d stored; want %d refused, %d stored", refused, len(stored), c.refused, len(c.amounts)-c.refused)
			}
		})
	}
}

// Concurrent voids of one invoice with different reasons: one is recorded,
// the others are refused as already voided, never told their void was.
func TestConcurrentVoidsWithDifferentReasons(t *testing.T) {
	e, svcs, _, solo := raceEnv(t)
	const n = 6
	got := make([]Invoice, n)
	errs := concurrently(n, func(i int) error {
		inv, err := svcs[i%2].Void(e.ctx, solo.Number, fmt.Sprintf("原因 %d", i))
		got[i] = inv
		return err
	})
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	stored, _ := fresh.Invoice(solo.Number)
	answered := make([]string, len(got))
	for i := range got {
		answered[i] = got[i].VoidReason
	}
	oneVoidWon(t, errs, answered, stored.VoidReason, stored.Voided)
}

// oneVoidWon checks that of concurrent voids with the reasons "原因 i"
// exactly one succeeded, answered with its own reason, which is the one
// stored, and that the others were refused as conflicts.
func oneVoidWon(t *testing.T, errs []error, answered []string, storedReason string, voided bool) {
	t.Helper()
	ok := 0
	for i, err := range errs {
		if err != nil {
			if !errors.Is(err, ErrConflict) {
				t.Errorf("void %d: %v, want ErrConflict", i, err)
			}
			continue
		}
		ok++
		if want := fmt.Sprintf("原因 %d", i); answered[i] != want || storedReason != want {
			t.Errorf("void %q answered with reason %q; stored %q", want, answered[i], storedReason)
		}
	}
	if ok != 1 || !voided {
		t.Fatalf("%d voids succeeded (stored voided: %v), want 1", ok, voided)
	}
}

// The same for voids of one allowance.
func TestConcurrentAllowanceVoidsWithDifferentReasons(t *testing.T) {
	e, svcs, acme, _ := raceEnv(t)
	a, err := e.svc.IssueAllowance(e.ctx, acme.Number, 100, "服務中斷補償")
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	got := make([]Allowance, n)
	errs := concurrently(n, func(i int) error {
		v, err := svcs[i%2].VoidAllowance(e.ctx, a.Number, fmt.Sprintf("原因 %d", i))
		got[i] = v
		return err
	})
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	inv, _ := fresh.Invoice(acme.Number)
	stored := inv.Allowances[0]
	answered := make([]string, len(got))
	for i := range got {
		answered[i] = got[i].VoidReason
	}
	oneVoidWon(t, errs, answered, stored.VoidReason, stored.Voided)
}
