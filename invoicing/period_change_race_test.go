package invoicing

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/invoicing/twrules"
)

// Two gateways invoice the same top-up as 2026 turns into 2027: one whose
// clock still reads 23:59:59 numbers it in the Nov–Dec period, the other,
// already at midnight, drafts it with another account's top-up for
// Jan–Feb. The second reads the Nov–Dec stream before numbering, and
// leaves the top-up invoiced there alone. Should the first append just
// after that read, the store keeps one event per ID: the second gateway's
// append stores only the other account's invoice, numbered after the one
// it could not store. Either way no number of Jan–Feb goes to two buyers,
// and every number the period passes over unused is reported blank
// (E0402) once it ends.
func TestATopUpInvoicedInTwoPeriodsAtOnceNumbersEachOnce(t *testing.T) {
	for _, backend := range []struct {
		name string
		open func(t *testing.T) eventstore.Store
	}{
		{"sqlite", func(t *testing.T) eventstore.Store {
			s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
		{"postgres", func(t *testing.T) eventstore.Store {
			s, err := postgres.Open(t.Context(), testenv.PostgresURL(t), postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
	} {
		for _, race := range []bool{false, true} {
			name := backend.name + "/read before"
			if race {
				name = backend.name + "/appended meanwhile"
			}
			t.Run(name, func(t *testing.T) { invoiceAcrossTheYearEnd(t, backend.open(t), race) })
		}
	}
}

// invoiceAcrossTheYearEnd runs the two gateways; with race, the one of
// 2026 appends its invoice as the one of 2027 appends its own.
func invoiceAcrossTheYearEnd(t *testing.T, store eventstore.Store, race bool) {
	ctx := context.Background()
	oldYear := &clock{t: taipei(2026, 12, 31, 23, 59).Add(59 * time.Second)}
	newYear := &clock{t: taipei(2027, 1, 1, 0, 0)}
	service := func(c *clock) *Service {
		svc, err := New(store, Config{Seller: DevSeller(), Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	late := service(oldYear)
	racing := &racingStore{Store: store, stream: domain.InvoiceRangeStream("2027-01")}
	early, err := New(racing, Config{Seller: DevSeller(), Now: newYear.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := late.AssignRange(ctx, "2026-11", "AB", 12345000, 12345999); err != nil {
		t.Fatal(err)
	}
	if err := late.AssignRange(ctx, "2027-01", "CD", 100, 199); err != nil {
		t.Fatal(err)
	}
	cmd := &commands.Handler{Store: store, Now: oldYear.Now}
	topUp := func(acct, ref, amount string, at time.Time) {
		t.Helper()
		ev := &domain.CreditsToppedUp{AccountID: acct, Amount: dec(amount), Method: domain.MethodCard, Reference: ref}
		d, err := commands.Event(domain.EventID(domain.TypeCreditsToppedUp, acct, ref), at, ev)
		if err == nil {
			_, err = store.Append(ctx, domain.TopUpStream(acct), eventstore.Any(), d)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, acct := range []string{"acct-1", "acct-2", "acct-3"} {
		if _, err := cmd.OpenAccount(ctx, domain.AccountOpened{AccountID: acct, Organisation: "公司" + acct, Plan: domain.PlanStarter}); err != nil {
			t.Fatal(err)
		}
	}
	topUp("acct-1", "pay-1", "1000", taipei(2026, 12, 31, 23, 58))
	topUp("acct-2", "pay-2", "500", taipei(2026, 12, 31, 23, 58).Add(time.Second))
	for _, svc := range []*Service{late, early} {
		if err := svc.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The gateway still in 2026 invoices acct-1's top-up; the one in 2027
	// drafts its own invoice of it before it reads that one.
	issueLate := func() {
		if inv, _, err := late.IssueTopUp(ctx, "acct-1", "pay-1"); err != nil || inv.Period != "2026-11" {
			t.Fatalf("the invoice of 2026: %s in %s, %v", inv.Number, inv.Period, err)
		}
	}
	if race {
		racing.n, racing.race = 1, func(int) { issueLate() }
	} else {
		issueLate()
	}
	if err := early.InvoiceTopUps(ctx); err != nil {
		t.Fatal(err)
	}
	// A payment of the new year, invoiced by the gateway of 2027.
	topUp("acct-3", "pay-3", "300", taipei(2027, 1, 1, 0, 5))
	newYear.Set(taipei(2027, 1, 1, 0, 6))
	if err := early.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := early.InvoiceTopUps(ctx); err != nil {
		t.Fatal(err)
	}

	// A reader from the store, once Jan–Feb has ended: its invoices and
	// the blanks of its E0402.
	newYear.Set(taipei(2027, 3, 1, 2, 0))
	fresh := service(newYear)
	if err := fresh.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	byNumber := map[string]string{}
	for _, inv := range fresh.Invoices("", "") {
		if prev, ok := byNumber[InvoiceRef(inv.Period, inv.Number)]; ok {
			t.Fatalf("%s %s was issued to %s and to %s", inv.Period, inv.Number, prev, inv.AccountID)
		}
		byNumber[InvoiceRef(inv.Period, inv.Number)] = inv.AccountID
	}
	if len(byNumber) != 3 {
		t.Fatalf("%d invoices for 3 top-ups: %v", len(byNumber), byNumber)
	}
	p, _ := twrules.ParsePeriod("2027-01")
	blank := map[string]bool{}
	for _, b := range fresh.Blanks(p) {
		for _, r := range b.Runs {
			for n := r.From; n <= r.To; n++ {
				blank[fmt.Sprintf("%s%08d", r.Prefix, n)] = true
			}
		}
	}
	// Each number of the period's range is on one invoice or reported
	// blank, never both, never neither.
	for n := int64(100); n <= 199; n++ {
		number := fmt.Sprintf("CD%08d", n)
		_, used := byNumber[InvoiceRef("2027-01", number)]
		if used == blank[number] {
			t.Errorf("%s: on an invoice %v, reported blank %v", number, used, blank[number])
		}
	}
	// Finance's count of the numbers to report blank (the dashboard's).
	st := fresh.RangeStatus("2027-01")
	if st.Left+st.Passed != int64(len(blank)) {
		t.Errorf("range status: %d left and %d passed over, %d reported blank", st.Left, st.Passed, len(blank))
	}
	// Read before numbering, the invoice of 2026 passes over no number;
	// appended meanwhile, it passes over the one it was given in 2027.
	if want := map[bool]int64{false: 0, true: 1}[race]; st.Passed != want {
		t.Errorf("%d numbers passed over, want %d", st.Passed, want)
	}
}
