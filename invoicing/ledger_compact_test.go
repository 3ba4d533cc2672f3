package invoicing

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/invoicing/pdf"
)

// plainAccount is what the ledger must know of an account, kept the plain
// way: every fact in a field of its own, every top-up with its month as
// monthOf writes it.
type plainAccount struct {
	opened                            bool
	org, taxID, carrier, donationCode string
	plan                              domain.Plan
	topUps                            []plainTopUp
}

type plainTopUp struct {
	ref, month string
	amount     decimal.Decimal
}

// TestLedgerAgreesWithAPlainFold folds random histories from a real SQLite
// file: accounts opened (again, and after their first top-ups), plan
// changes, carriers and 統一編號 set, paid and other top-ups at instants
// around Taipei's month boundaries, with top-up invoices issued and voided
// between them. After every step the ledger must agree with the test's own
// plain record of each account: its buyer, plan and top-ups in order with
// their month and amount; after each issue, no top-up worth NT$1 is left
// unbilled, no account stays marked, and every invoice names the buyer the
// account had when it was issued.
func TestLedgerAgreesWithAPlainFold(t *testing.T) {
	if a, tu := unsafe.Sizeof(account{}), unsafe.Sizeof(topUp{}); a != 88 || tu != 64 {
		t.Errorf("an account takes %d bytes, a top-up %d; want 88 and 64", a, tu)
	}
	// An invoice's record leaves its document in the store: 320 bytes
	// where Invoice takes 512.
	if inv := unsafe.Sizeof(invoice{}); inv > 320 {
		t.Errorf("an invoice's record takes %d bytes; want at most 320", inv)
	}
	base := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp(base, "ledger-")
		if err != nil {
			rt.Fatal(err)
		}
		defer os.RemoveAll(dir)
		store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
		if err != nil {
			rt.Fatal(err)
		}
		defer store.Close()
		ctx := context.Background()
		c := &clock{t: taipei(2026, 11, 3, 9, 0)}
		svc, err := New(store, Config{Seller: DevSeller(), Now: c.Now})
		if err != nil {
			rt.Fatal(err)
		}
		if err := svc.AssignRange(ctx, "2026-11", "AB", 10000000, 10099999); err != nil {
			rt.Fatal(err)
		}
		plain := map[string]*plainAccount{}
		acctOf := func(id string) *plainAccount {
			if plain[id] == nil {
				plain[id] = &plainAccount{}
			}
			return plain[id]
		}
		seq := 0
		appendEvent := func(stream string, at time.Time, ev domain.Event) {
			seq++
			d, err := commands.Event(domain.EventID("ledger-test", fmt.Sprint(seq)), at, ev)
			if err == nil {
				_, err = store.Append(ctx, stream, eventstore.Any(), d)
			}
			if err != nil {
				rt.Fatal(err)
			}
		}
		ids := []string{"a1", "a2", "a3", "a4"}
		taxIDs := []string{"", "22099131", "04595257", "12345678"} // the last fails its checksum: B2C
		plans := []domain.Plan{domain.PlanStarter, domain.PlanBusiness, domain.PlanEnterprise}
		// Instants around the end of October and of November in Taipei
		// (16:00 UTC is midnight there).
		instants := []time.Time{
			time.Date(2026, 10, 31, 15, 59, 59, 0, time.UTC), time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC),
			time.Date(2026, 11, 15, 3, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 15, 59, 59, 0, time.UTC),
			time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC),
		}
		var issued []Invoice

		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for range steps {
			id := rapid.SampledFrom(ids).Draw(rt, "account")
			a := acctOf(id)
			switch rapid.SampledFrom([]string{"open", "plan", "carrier", "topUp", "topUp", "topUp", "invoice", "void"}).Draw(rt, "step") {
			case "open":
				ev := &domain.AccountOpened{AccountID: id, Organisation: "公司 " + id + rapid.StringMatching(`[a-z]{0,3}`).Draw(rt, "org"),
					TaxID: rapid.SampledFrom(taxIDs).Draw(rt, "tax ID"), Plan: rapid.SampledFrom(plans).Draw(rt, "plan")}
				appendEvent(domain.AccountStream(id), c.Now(), ev)
				a.opened, a.org, a.taxID, a.carrier, a.donationCode, a.plan = true, ev.Organisation, ev.TaxID, "", "", ev.Plan
			case "plan":
				ev := &domain.PlanChanged{AccountID: id, Plan: rapid.SampledFrom(plans).Draw(rt, "plan")}
				appendEvent(domain.AccountStream(id), c.Now(), ev)
				if a.opened {
					a.plan = ev.Plan
				}
			case "carrier":
				ev := &domain.InvoiceCarrierSet{AccountID: id}
				switch rapid.IntRange(0, 2).Draw(rt, "carrier kind") {
				case 0:
					ev.Carrier = "/ABC+123"
				case 1:
					ev.DonationCode = "8585"
				}
				if rapid.Bool().Draw(rt, "with tax ID") {
					tax := rapid.SampledFrom(taxIDs).Draw(rt, "tax ID")
					ev.TaxID = &tax
				}
				appendEvent(domain.AccountStream(id), c.Now(), ev)
				if a.opened {
					a.carrier, a.donationCode = ev.Carrier, ev.DonationCode
					if ev.TaxID != nil {
						a.taxID = *ev.TaxID
					}
				}
			case "topUp":
				at := rapid.SampledFrom(instants).Draw(rt, "paid at")
				ev := &domain.CreditsToppedUp{AccountID: id, Reference: fmt.Sprintf("ref-%d", seq),
					Amount: decimal.New(rapid.Int64Range(1, 500_000).Draw(rt, "cents"), -2),
					Method: rapid.SampledFrom([]string{domain.MethodCard, domain.MethodBankTransfer, domain.MethodAdjustment}).Draw(rt, "method")}
				appendEvent(domain.TopUpStream(id), at, ev)
				// These histories have no usage, so nothing is due: every
				// payment is invoiced, on either plan.
				if ev.Method != domain.MethodAdjustment {
					a.topUps = append(a.topUps, plainTopUp{ref: ev.Reference, month: monthOf(at), amount: ev.Amount})
				}
			case "invoice":
				if err := svc.Sync(ctx); err != nil {
					rt.Fatal(err)
				}
				before := len(svc.Invoices("", ""))
				if err := svc.InvoiceTopUps(ctx); err != nil {
					rt.Fatal(err)
				}
				all := svc.Invoices("", "")
				if err := svc.LoadDocuments(ctx, all); err != nil {
					rt.Fatal(err)
				}
				for _, inv := range all {
					if !slices.ContainsFunc(issued, func(o Invoice) bool { return o.Number == inv.Number }) {
						checkBuyer(rt, inv, plain[inv.AccountID])
						issued = append(issued, inv)
					}
				}
				svc.mu.Lock()
				for acct := range plain {
					if total := svc.topUpsDue(acct).total; total > 0 {
						rt.Fatalf("%s: NT$%d of top-ups left unbilled after issuing (%d invoices before, %d after)", acct, total, before, len(all))
					}
				}
				if len(svc.l.dirty) != 0 {
					rt.Fatalf("%d accounts still marked after issuing", len(svc.l.dirty))
				}
				svc.mu.Unlock()
			case "void":
				var live []Invoice
				for _, inv := range svc.Invoices("", "") {
					if !inv.Voided {
						live = append(live, inv)
					}
				}
				if len(live) == 0 {
					continue
				}
				inv := rapid.SampledFrom(live).Draw(rt, "invoice to void")
				if _, err := svc.Void(ctx, inv.Number, "開立錯誤"); err != nil {
					rt.Fatal(err)
				}
			}
			if err := svc.Sync(ctx); err != nil {
				rt.Fatal(err)
			}
			svc.mu.Lock()
			checkLedger(rt, svc.l, plain)
			svc.mu.Unlock()
		}
	})
}

// checkBuyer checks an invoice's buyer against the account's as the test
// recorded it when the invoice was issued.
func checkBuyer(rt *rapid.T, inv Invoice, a *plainAccount) {
	if a == nil || !a.opened {
		if inv.Kind != pdf.KindB2C || inv.BuyerTaxID != "" || inv.Carrier != "" || inv.DonationCode != "" {
			rt.Fatalf("%s of an account not opened: %s buyer %q %q, carrier %q, donation %q", inv.Number, inv.Kind, inv.BuyerTaxID, inv.BuyerName, inv.Carrier, inv.DonationCode)
		}
		return
	}
	if domain.ValidTaxID(a.taxID) {
		if inv.Kind != pdf.KindB2B || inv.BuyerTaxID != a.taxID || inv.BuyerName != a.org || inv.Carrier != "" || inv.DonationCode != "" {
			rt.Fatalf("%s: %s buyer %q %q, carrier %q, donation %q; want B2B %q %q", inv.Number, inv.Kind, inv.BuyerTaxID, inv.BuyerName, inv.Carrier, inv.DonationCode, a.taxID, a.org)
		}
		return
	}
	if inv.Kind != pdf.KindB2C || inv.BuyerTaxID != "" || inv.Carrier != a.carrier || inv.DonationCode != a.donationCode {
		rt.Fatalf("%s: %s buyer %q, carrier %q, donation %q; want B2C, carrier %q, donation %q", inv.Number, inv.Kind, inv.BuyerTaxID, inv.Carrier, inv.DonationCode, a.carrier, a.donationCode)
	}
}

// checkLedger compares the ledger with the plain record of every account.
func checkLedger(rt *rapid.T, l *ledger, plain map[string]*plainAccount) {
	for id, a := range plain {
		got := l.accounts[id]
		if (got != nil) != a.opened {
			rt.Fatalf("%s: opened %v in the ledger, %v in the history", id, got != nil, a.opened)
		}
		if got != nil {
			if got.ID != id || got.Organisation != a.org || got.Plan != a.plan || got.TaxID() != a.taxID ||
				got.Carrier() != a.carrier || got.DonationCode() != a.donationCode {
				rt.Fatalf("%s: ledger %q %q %q %q %q %q, history %q %q %q %q %q", id, got.ID, got.Organisation, got.Plan, got.TaxID(),
					got.Carrier(), got.DonationCode(), a.org, a.plan, a.taxID, a.carrier, a.donationCode)
			}
			if (got.buyer == nil) != (a.taxID == "" && a.carrier == "" && a.donationCode == "") {
				rt.Fatalf("%s: buyer's extra %v with 統一編號 %q, carrier %q, donation %q", id, got.buyer, a.taxID, a.carrier, a.donationCode)
			}
		}
		var tops []plainTopUp
		for t := range l.topUpsOf(id).all() {
			tops = append(tops, plainTopUp{ref: t.Reference, month: t.Month(), amount: t.Amount.Decimal()})
		}
		if len(tops) != len(a.topUps) {
			rt.Fatalf("%s: %d top-ups in the ledger, %d in the history", id, len(tops), len(a.topUps))
		}
		for i, want := range a.topUps {
			if got := tops[i]; got.ref != want.ref || got.month != want.month || got.amount.String() != want.amount.String() {
				rt.Fatalf("%s: top-up %d is %+v, want %+v", id, i, got, want)
			}
		}
		if st := l.strays[id]; (st != nil) != (!a.opened && len(a.topUps) > 0) {
			rt.Fatalf("%s: stray %v, opened %v with %d top-ups", id, st != nil, a.opened, len(a.topUps))
		}
	}
}

// TestTopUpMonthIsTheTaipeiMonth checks the top-up's compact month against
// monthOf over instants of every year a stored event can carry.
func TestTopUpMonthIsTheTaipeiMonth(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		at := time.Unix(rapid.Int64Range(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix(),
			time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()).Draw(rt, "unix"), 0).UTC()
		if got, want := monthName(monthIndex(at)), monthOf(at); got != want {
			rt.Fatalf("%v: month %q, want %q", at, got, want)
		}
	})
	for _, at := range []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 15, 59, 59, 0, time.UTC),
	} {
		if got, want := monthName(monthIndex(at)), monthOf(at); got != want {
			t.Errorf("%v: month %q, want %q", at, got, want)
		}
	}
}
