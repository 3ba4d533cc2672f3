package invoicing

import (
	"testing"
)

// A payment of what the monthly invoices bill is not invoiced again, however
// their rounding adds up. A Business account billed NT$1 for November's
// NT$0.60 of usage and NT$1 for December's NT$0.60 pays the two invoices'
// NT$2 at once: nothing of it is invoiced at payment (what is due, NT$1.20,
// rounds to NT$1, but the invoices bill NT$2), and the account owes
// nothing.
func TestPayingInvoicesWhoseRoundingAddsUpIsNotInvoicedAgain(t *testing.T) {
	e := businessWithUsage(t, "0.60")
	nov := e.closeNovemberOne()
	e.use("biz", "gpt-4o", taipei(2026, 12, 10, 10, 0), 1000, 100, "0.60")
	e.clock.Set(taipei(2027, 1, 2, 9, 0))
	e.assign("2027-01", "AB", 22345000, 22345999)
	rep, err := e.svc.Close(e.ctx, "2026-12", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if nov.Total != 1 || len(rep.Issued) != 1 || rep.Issued[0].Total != 1 {
		t.Fatalf("November billed NT$%d, December's close %+v; want NT$1 each", nov.Total, rep.Issued)
	}
	e.topUpRaw("biz", "pay-1", "2", taipei(2027, 1, 5, 9, 0))
	e.invoiceTopUps()
	net := int64(0)
	for _, i := range e.svc.Invoices("", "biz") {
		net += i.Net()
		if i.TopUpRef != "" || len(i.TopUps) > 0 {
			t.Errorf("the payment of the two invoices was invoiced again: %s NT$%d", i.Number, i.Total)
		}
	}
	if net != 2 {
		t.Errorf("biz's invoices bill NT$%d; it was billed and paid NT$2", net)
	}
	e.nothingPending("")
}
