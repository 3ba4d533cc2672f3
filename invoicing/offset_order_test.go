package invoicing

import (
	"testing"

	"github.com/routefree/routefree/domain"
)

// TestCreditOffsetNamesInvoicesInOneOrder: two invoices issued at the same
// instant (a close of two months at once) are named newest number first,
// every time, and the allowance to run names that one. The order once
// followed a map's, so the advice changed between two reads of one
// history.
func TestCreditOffsetNamesInvoicesInOneOrder(t *testing.T) {
	e := businessWithUsage(t, "400")
	e.use("biz", "gpt-4o", taipei(2026, 12, 2, 10, 0), 1000, 100, "500")
	e.clock.Set(taipei(2027, 1, 2, 9, 0))
	e.assign("2027-01", "EF", 42345000, 42345999)
	nov, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil || len(nov.Issued) != 1 {
		t.Fatalf("November: %+v, %v", nov, err)
	}
	dec_, err := e.svc.Close(e.ctx, "2026-12", CloseOptions{})
	if err != nil || len(dec_.Issued) != 1 {
		t.Fatalf("December: %+v, %v", dec_, err)
	}
	if !nov.Issued[0].IssuedAt.Equal(dec_.Issued[0].IssuedAt) {
		t.Fatalf("the two invoices were issued at %v and %v, want one instant", nov.Issued[0].IssuedAt, dec_.Issued[0].IssuedAt)
	}
	if err := e.cmd.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "biz", Amount: dec("1000"), Reason: "goodwill"}); err != nil {
		t.Fatal(err)
	}
	first := dec_.Issued[0].Number
	for i := range 40 {
		o, err := e.svc.CreditOffset(e.ctx, "biz", dec("0"))
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Invoices) != 2 || o.Invoices[0] != InvoiceRef("2027-01", first) ||
			o.Next != "routefree invoices allowance --number "+first+" --amount 500 --reason '…'" {
			t.Fatalf("read %d: invoices %v, next %q; want %s first", i, o.Invoices, o.Next, first)
		}
	}
}
