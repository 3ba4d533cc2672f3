package invoicing

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// An account's usage is invoiced at the close while its plan was postpaid
// when the request ran: a starter account moved to Business mid-month has
// only the requests after the move on its invoice (what it used before was
// paid by its top-ups), and a starter account throughout has none. Invoicing
// reads request events of prepaid accounts without decoding them; the plan
// at each request is what decides.
func TestUsageInvoicedFromThePlanChange(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.open("mover", "搬家公司", "22099131", domain.PlanStarter)
	e.open("starter", "小商店", "", domain.PlanStarter)
	e.use("mover", "gpt-4o", taipei(2026, 11, 3, 10, 0), 1000, 100, "70")
	e.use("starter", "gpt-4o", taipei(2026, 11, 4, 10, 0), 1000, 100, "30")
	e.clock.Set(taipei(2026, 11, 10, 9, 0))
	if err := e.cmd.ChangePlan(e.ctx, domain.PlanChanged{AccountID: "mover", Plan: domain.PlanBusiness, CreditLimit: decimal.NewFromInt(10000)}); err != nil {
		t.Fatal(err)
	}
	e.use("mover", "gpt-4o", taipei(2026, 11, 15, 10, 0), 2000, 200, "105")
	e.use("mover", "claude-sonnet", taipei(2026, 11, 16, 10, 0), 500, 50, "21")
	e.use("starter", "gpt-4o", taipei(2026, 11, 17, 10, 0), 1000, 100, "40")

	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Issued) != 1 {
		t.Fatalf("issued %d invoices, want 1: %+v", len(rep.Issued), rep)
	}
	inv := rep.Issued[0]
	// 105 + 21 = 126, not 196 with the 70 used while prepaid.
	if inv.AccountID != "mover" || inv.Total != 126 || len(inv.Lines) != 2 {
		t.Fatalf("invoice %+v", inv.InvoiceIssued)
	}
}
