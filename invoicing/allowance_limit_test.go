package invoicing

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// The limit on allowances counts the live ones: an invoice whose
// allowances were all voided takes new ones, each under a number of its
// own (a voided allowance's number stays on the platform and is never
// issued again).
func TestVoidedAllowancesDoNotCountTowardsTheLimit(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.open("b2b", "艾克米股份有限公司", "22099131", domain.PlanBusiness)
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.use("b2b", "gpt-4o", taipei(2026, 11, 10, 10, 0), 1000, 100, "1050")
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	if _, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	const inv = "AB12345000"

	seen := map[string]bool{}
	issue := func(what string) (Allowance, error) {
		a, err := e.svc.IssueAllowance(e.ctx, inv, 1, "服務中斷")
		if err == nil {
			if seen[a.Number] {
				t.Fatalf("%s: allowance number %s issued twice", what, a.Number)
			}
			if len(a.Number) != 16 {
				t.Fatalf("%s: allowance number %q is not 16 characters", what, a.Number)
			}
			seen[a.Number] = true
		}
		return a, err
	}

	// Nine live allowances are the most an invoice takes at once.
	var live []Allowance
	for i := 1; i <= maxAllowances; i++ {
		a, err := issue(fmt.Sprintf("allowance %d", i))
		if err != nil {
			t.Fatalf("allowance %d: %v", i, err)
		}
		live = append(live, a)
	}
	if _, err := issue("a tenth live allowance"); !errors.Is(err, ErrConflict) {
		t.Fatalf("a tenth live allowance: %v, want ErrConflict", err)
	}

	// With all of them voided, none is live: a new one is issued.
	for _, a := range live {
		if _, err := e.svc.VoidAllowance(e.ctx, a.Number, "金額有誤"); err != nil {
			t.Fatalf("void %s: %v", a.Number, err)
		}
	}
	fresh, err := issue("an allowance after nine voided ones")
	if err != nil {
		t.Fatalf("an invoice with no live allowance refused a new one: %v", err)
	}
	got, _ := e.svc.Invoice(inv)
	if got.Net() != got.Total-1 || fresh.Voided {
		t.Fatalf("after the new allowance: net %d of %d, allowance %+v", got.Net(), got.Total, fresh)
	}

	// The limit stays on the live ones: eight more make nine live, and a
	// tenth is refused again.
	for i := 2; i <= maxAllowances; i++ {
		if _, err := issue(fmt.Sprintf("live allowance %d after the voids", i)); err != nil {
			t.Fatalf("live allowance %d after the voids: %v", i, err)
		}
	}
	if _, err := issue("a tenth live allowance after the voids"); !errors.Is(err, ErrConflict) {
		t.Fatalf("a tenth live allowance after the voids: %v, want ErrConflict", err)
	}

	// A service that reads the history afresh sees the same allowances.
	svc := e.newService()
	if err := svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	again, _ := svc.Invoice(inv)
	if len(again.Allowances) != 2*maxAllowances || again.Net() != got.Total-maxAllowances {
		t.Fatalf("read afresh: %d allowances, net %d", len(again.Allowances), again.Net())
	}

	// Numbers run out, though: one character of the number is left for
	// them. Past the last, the refusal says so rather than the limit.
	voidOne := func() {
		got, _ := e.svc.Invoice(inv)
		for _, a := range got.Allowances {
			if !a.Voided {
				if _, err := e.svc.VoidAllowance(e.ctx, a.Number, "金額有誤"); err != nil {
					t.Fatalf("void %s: %v", a.Number, err)
				}
				return
			}
		}
	}
	for n := len(again.Allowances); n < len(allowanceSeq); n++ {
		voidOne()
		if _, err := issue(fmt.Sprintf("allowance number %d", n+1)); err != nil {
			t.Fatalf("allowance number %d: %v", n+1, err)
		}
	}
	voidOne()
	_, err = issue("an allowance past the last number")
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "allowance numbers") {
		t.Fatalf("an allowance past the last number: %v", err)
	}
	if !seen["11512"+inv+"A"] || !seen["11512"+inv+"Z"] {
		t.Fatalf("allowance numbers issued: %v", seen)
	}
}
