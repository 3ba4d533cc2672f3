package invoicing

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/internal/testenv"
)

// Two `invoices close` runs at once on PostgreSQL, as two processes: both
// may number an invoice alike and append the same event, which is stored
// once. Only the run whose append stored it reports it issued; the other
// counts it among the invoices that exist already. Across both reports each
// invoice is issued exactly once, round after round.
func TestConcurrentClosesOnPostgresReportEachInvoiceOnce(t *testing.T) {
	url := testenv.PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	open := func() *postgres.Store {
		s, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	stores := []*postgres.Store{open(), open()}
	// One instant and one 隨機碼 for both runs, so that their drafts of an
	// invoice are equal whenever they take the same number: the same second
	// and the same code drawn by chance (one race in 10,000) in production.
	c := &clock{t: taipei(2026, 12, 1, 2, 0)}
	cmd := &commands.Handler{Store: stores[0], Now: c.Now}
	var svcs []*Service
	for _, s := range stores {
		svc, err := New(s, Config{Seller: DevSeller(), Now: c.Now, Random: zeros{}})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	if err := svcs[0].AssignRange(ctx, "2026-11", "AB", 12345000, 12345999); err != nil {
		t.Fatal(err)
	}

	const rounds = 40
	for round := range rounds {
		acct := fmt.Sprintf("acct_%02d", round)
		if _, err := cmd.OpenAccount(ctx, domain.AccountOpened{AccountID: acct, Organisation: "艾克米股份有限公司", TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
			t.Fatal(err)
		}
		rc := &domain.RequestCompleted{RequestID: "req-" + acct, AccountID: acct, Model: "gpt-4o", Usage: domain.Usage{Input: 1000, Output: 100},
			Cost: dec("1050"), StartedAt: taipei(2026, 11, 10, 10, 0).UTC(), Outcome: domain.OutcomeCompleted}
		d, err := commands.Event(domain.EventID(domain.TypeRequestCompleted, rc.RequestID), taipei(2026, 11, 10, 10, 1), rc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stores[0].Append(ctx, domain.UsageStream(acct), eventstore.Any(), d); err != nil {
			t.Fatal(err)
		}

		reports := make([]CloseReport, len(svcs))
		errs := make([]error, len(svcs))
		var start, done sync.WaitGroup
		start.Add(1)
		for i, svc := range svcs {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait()
				reports[i], errs[i] = svc.Close(ctx, "2026-11", CloseOptions{})
			}()
		}
		start.Done()
		done.Wait()
		issued := map[string]int{}
		for i, rep := range reports {
			if errs[i] != nil {
				t.Fatalf("round %d: close %d: %v", round, i, errs[i])
			}
			for _, inv := range rep.Issued {
				issued[inv.Period+"-"+inv.Number]++
				if inv.AccountID != acct {
					t.Fatalf("round %d: close %d issued %s of %s, an account invoiced before", round, i, inv.Number, inv.AccountID)
				}
			}
		}
		if len(issued) != 1 {
			t.Fatalf("round %d: the closes issued %v, want one invoice of %s", round, issued, acct)
		}
		for n, times := range issued {
			if times != 1 {
				t.Fatalf("round %d: invoice %s reported issued by %d closes (existing: %d, %d)",
					round, n, times, reports[0].Existing, reports[1].Existing)
			}
		}
		if got := reports[0].Existing + reports[1].Existing; got != 2*round+1 {
			t.Fatalf("round %d: the closes found %d invoices existing, want %d", round, got, 2*round+1)
		}
	}
	// Each account has its invoice, numbered without a gap.
	if err := svcs[0].Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if invs := svcs[0].Invoices("2026-11", ""); len(invs) != rounds || svcs[0].RangeStatus("2026-11").Used != rounds {
		t.Fatalf("%d invoices stored, %d numbers used, want %d", len(invs), svcs[0].RangeStatus("2026-11").Used, rounds)
	}
}

// zeros is a random source that always draws the same: 隨機碼 0000.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
