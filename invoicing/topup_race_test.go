package invoicing

import (
	"fmt"
	"slices"
	"testing"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// Concurrent top-up invoices of one account, from two services on one
// store: each call's answer is an invoice that bills its own top-up, even
// when another call's invoice took the sequence number it had decided on.
func TestConcurrentTopUpInvoicesEachBillTheirOwn(t *testing.T) {
	for round := range 5 {
		e := newEnv(t, taipei(2026, 11, 10, 9, 0))
		e.assign("2026-11", "AB", 1000, 1999)
		e.open("solo", "個人工作室", "", domain.PlanStarter)
		svcs := [2]*Service{e.svc, e.newService()}
		const n = 8
		refs := make([]string, n)
		got := make([]Invoice, n)
		errs := concurrently(n, func(i int) error {
			refs[i] = fmt.Sprintf("pay-%d-%d", round, i)
			ev := &domain.CreditsToppedUp{AccountID: "solo", Amount: dec("100"), Method: domain.MethodCard, Reference: refs[i]}
			d, err := commands.Event(domain.EventID(domain.TypeCreditsToppedUp, "solo", refs[i]), e.clock.Now(), ev)
			if err == nil {
				_, err = e.store.Append(e.ctx, domain.TopUpStream("solo"), eventstore.Any(), d)
			}
			if err != nil {
				return err
			}
			inv, _, err := svcs[i%2].IssueTopUp(e.ctx, "solo", refs[i])
			got[i] = inv
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, top-up %s: %v", round, refs[i], err)
			}
			bills := got[i].TopUpRef == refs[i] || slices.Contains(got[i].TopUps, refs[i])
			if !bills {
				t.Fatalf("round %d: top-up %s answered with invoice %s, which bills %v", round, refs[i], got[i].Number, got[i].TopUps)
			}
		}
	}
}
