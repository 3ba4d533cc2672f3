package invoicing

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/invoicing/twrules"
)

// TestTopUpInvoicesAddUpThroughVoids pays a prepaid account small amounts,
// fractions of NT$1 and more, across Taipei months, and voids its top-up
// invoices, some while no top-up invoicing runs (serve stopped), so that
// voids wait together. After every round of invoicing: each payment is
// billed only with the payments it was first invoiced with (a re-issue
// bills what its voided invoice billed), each live invoice counts in the
// month of its payment, the live invoices charge the whole NTD received
// at most, and each month's reconciliation adds up. At the end nothing
// but a fraction of NT$1 waits.
func TestTopUpInvoicesAddUpThroughVoids(t *testing.T) {
	base := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		// Each history its own store, closed at its end: thousands of
		// checks would otherwise hold thousands of files open.
		dir, err := os.MkdirTemp(base, "history-")
		if err != nil {
			rt.Fatal(err)
		}
		defer os.RemoveAll(dir)
		store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
		if err != nil {
			rt.Fatal(err)
		}
		defer store.Close()
		c := &clock{t: taipei(2026, 9, 28, 10, 0)}
		e := &env{t: t, ctx: context.Background(), store: store, clock: c, cmd: &commands.Handler{Store: store, Now: c.Now}}
		e.svc = e.newService()
		e.assign("2026-09", "AB", 1, 999)
		e.assign("2026-11", "AB", 1000, 1999)
		if err := e.svc.AssignRange(e.ctx, "2027-01", "AB", 2000, 2999, FarPeriodMeant); err != nil { // two periods ahead: meant
			rt.Fatal(err)
		}
		// B2C, or B2B: a top-up invoice of a business splits its tax.
		e.open("pre", "小商店", rapid.SampledFrom([]string{"", "22099131"}).Draw(rt, "buyer's 統一編號"), domain.PlanStarter)
		paid, months := decimal.Zero, map[string]string{}
		billedWith := map[string]string{}
		stopped := false
		invoice := func() {
			if err := e.svc.Sync(e.ctx); err != nil {
				rt.Fatal(err)
			}
			if stopped {
				return
			}
			if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
				rt.Fatal(err)
			}
			check(rt, e, paid, months, billedWith)
		}
		steps := rapid.IntRange(3, 24).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			switch rapid.IntRange(0, 6).Draw(rt, "action") {
			case 0, 1: // a payment, often a fraction (older history)
				ref := fmt.Sprintf("TX-%d", i)
				amt := decimal.New(int64(rapid.IntRange(1, 250).Draw(rt, "cents")), -2)
				if rapid.Bool().Draw(rt, "known fraction") {
					amt = decimal.RequireFromString(rapid.SampledFrom([]string{"0.3", "0.7", "1.3", "1.5", "1.9"}).Draw(rt, "amount"))
				}
				tu := domain.CreditsToppedUp{AccountID: "pre", Amount: amt, Method: domain.MethodCard, Reference: ref}
				d, err := commands.Event(domain.EventID(domain.TypeCreditsToppedUp, "pre", ref), e.clock.Now(), &tu)
				if err == nil {
					_, err = e.store.Append(e.ctx, domain.TopUpStream("pre"), eventstore.Any(), d)
				}
				if err != nil {
					rt.Fatal(err)
				}
				paid, months[ref] = paid.Add(amt), monthOf(e.clock.Now())
				invoice()
			case 2, 3: // a void of a live invoice, within its void window
				var live []Invoice
				for _, inv := range e.svc.Invoices("", "pre") {
					if !inv.Voided && e.svc.VoidWindowClosed(inv) == nil {
						live = append(live, inv)
					}
				}
				if len(live) == 0 {
					continue
				}
				inv := rapid.SampledFrom(live).Draw(rt, "invoice voided")
				if _, err := e.svc.Void(e.ctx, InvoiceRef(inv.Period, inv.Number), "買受人錯誤"); err != nil {
					rt.Fatal(err)
				}
				invoice()
			case 4: // serve stopped, or started again
				stopped = !stopped
				invoice()
			default: // hours to weeks later, across months
				e.clock.Set(e.clock.Now().Add(time.Duration(rapid.IntRange(1, 500).Draw(rt, "hours")) * time.Hour))
				if e.clock.Now().After(taipei(2027, 2, 20, 0, 0)) {
					e.clock.Set(taipei(2027, 2, 20, 0, 0))
				}
			}
		}
		stopped = false
		invoice()
		rec, err := e.svc.Reconcile(e.ctx, "")
		if err != nil {
			rt.Fatal(err)
		}
		// A fresh reader of the store (replay) reconciles to the same.
		fresh, err := New(e.store, Config{Seller: DevSeller(), Now: e.clock.Now})
		if err != nil {
			rt.Fatal(err)
		}
		again, err := fresh.Reconcile(e.ctx, "")
		if err != nil {
			rt.Fatal(err)
		}
		if fmt.Sprint(again.Totals) != fmt.Sprint(rec.Totals) || fmt.Sprint(again.Rows) != fmt.Sprint(rec.Rows) {
			rt.Fatalf("a fresh reader reconciles to %+v, the live service to %+v", again.Rows, rec.Rows)
		}
		if r := rec.Totals.PendingByReason; len(r) > 1 || (len(r) == 1 && r[ReasonFraction].IsZero()) || rec.Totals.Pending.GreaterThanOrEqual(decimal.NewFromInt(1)) {
			rt.Fatalf("at the end, pending %s: %v", rec.Totals.Pending, r)
		}
	})
}

func check(rt *rapid.T, e *env, paid decimal.Decimal, months, billedWith map[string]string) {
	total := int64(0)
	net := map[string]int64{}
	for _, inv := range e.svc.Invoices("", "pre") {
		set := strings.Join(inv.TopUps, " ")
		for _, ref := range inv.TopUps {
			if first, ok := billedWith[ref]; !ok {
				billedWith[ref] = set
			} else if first != set {
				rt.Fatalf("invoice %s bills %s (replacing %v); %s was first invoiced with %s", inv.Number, set, inv.Replaces, ref, first)
			}
		}
		if inv.Voided {
			continue
		}
		total += inv.Total
		if sales, tax := twrules.SplitInclusive(inv.Total); inv.Sales != sales || inv.Tax != tax {
			rt.Fatalf("invoice %s (%s) of NT$%d splits into %d + %d, want %d + %d", inv.Number, inv.Kind, inv.Total, inv.Sales, inv.Tax, sales, tax)
		}
		month := e.svc.InvoiceMonth(inv)
		net[month] += inv.Net()
		if last := inv.TopUps[len(inv.TopUps)-1]; months[last] != month {
			rt.Fatalf("invoice %s counts in %s, its payment %s was made in %s", inv.Number, month, last, months[last])
		}
		for _, r := range inv.Replaces {
			if !slices.ContainsFunc(e.svc.Invoices("", "pre"), func(v Invoice) bool { return v.Number == r && v.Voided }) {
				rt.Fatalf("invoice %s replaces %s, which is not a voided invoice", inv.Number, r)
			}
		}
	}
	if whole := paid.Floor().IntPart(); total > whole {
		rt.Fatalf("live top-up invoices charge NT$%d of NT$%s received", total, paid)
	}
	rec, err := e.svc.Reconcile(e.ctx, "")
	if err != nil {
		rt.Fatal(err)
	}
	for _, r := range rec.Rows {
		if !r.Invoiced.Add(r.Pending).Equal(r.Used) || r.Net != net[r.Month] {
			rt.Fatalf("%s: used %s, invoiced %s, pending %s (%s), net NT$%d; the live invoices of the month charge NT$%d", r.Month, r.Used, r.Invoiced, r.Pending, r.Reason, r.Net, net[r.Month])
		}
	}
}
