package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
)

// Finance credited a card checkout by hand, typing its trade number in
// lower case (the same reference to the top-ups): the checkouts list reads
// it paid and names the invoice of that top-up, so that "I paid but was
// not credited" is answered from the row.
func TestCheckoutCreditedByHandInLowerCaseShowsItsInvoice(t *testing.T) {
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { withPayments(t, ech, d) })
	_, owner, _ := managedAccount(e, "acct_hand")
	trade := e.checkoutAtCashier("acct_hand", owner, "card", "800").TradeNo
	if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "acct_hand", Amount: decimal.NewFromInt(800),
		Method: domain.MethodCard, Reference: strings.ToLower(trade)}); err != nil {
		t.Fatal(err)
	}
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 20000000, 20000099); err != nil {
		t.Fatal(err)
	}
	inv, _, err := svc.IssueTopUp(e.ctx, "acct_hand", strings.ToLower(trade))
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	var got struct {
		Data []struct {
			TradeNo  string   `json:"trade_no"`
			Status   string   `json:"status"`
			Invoices []string `json:"invoices"`
		} `json:"data"`
	}
	// The payments view reads the top-up within a second of the store.
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		code, body := e.call("GET", "/admin/api/payments?account=acct_hand", e.finance, nil)
		if code != http.StatusOK || json.Unmarshal(body, &got) != nil || len(got.Data) != 1 {
			t.Fatalf("checkouts: %d %s", code, body)
		}
		if got.Data[0].Status == "paid" || time.Now().After(deadline) {
			break
		}
	}
	if r := got.Data[0]; r.TradeNo != trade || r.Status != "paid" || len(r.Invoices) != 1 || r.Invoices[0] != inv.Number {
		t.Fatalf("the checkout credited by hand reads %+v, want paid and billed by %s", r, inv.Number)
	}
}
