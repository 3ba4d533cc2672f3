package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/payments"
)

// paymentsViewCaughtUp waits until the payments view has read what the
// test appended through its command handler.
func paymentsViewCaughtUp(t *testing.T, e *env) {
	t.Helper()
	e.cap.mu.Lock()
	last := e.cap.last
	e.cap.mu.Unlock()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		pos, err := e.deps.Payments.View().Checkpoint(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !pos.Less(last) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the payments view is at %v, not yet at %v", pos, last)
		}
	}
}

// An ATM checkout whose virtual account ECPay assigned before finance
// recorded the trade number by hand as another account's payment (the
// reference is that account's now) is settled otherwise: the customer's
// top-up page no longer offers its account to transfer into, nor counts
// it as awaiting payment before a new checkout, and finance reads it
// settled otherwise, naming the account that holds it, its virtual
// account without a date to pay by. In either language, and on the API.
func TestATMCheckoutRecordedByHandOnAnotherAccountIsSettledOtherwise(t *testing.T) {
	e, owner, _, open := twoATMCheckouts(t)
	e.openAccount("acct_byhand", "人工入帳公司", domain.PlanStarter)
	// Credit given under the trade number holds no payment's reference:
	// the checkout still awaits its transfer.
	e.openAccount("acct_given", "贈送額度公司", domain.PlanStarter)
	if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "acct_given", Amount: decimal.NewFromInt(50),
		Method: domain.MethodAdjustment, Reference: open}); err != nil {
		t.Fatal(err)
	}
	e.sync()
	paymentsViewCaughtUp(t, e)
	if p, _ := e.deps.Payments.View().Payment(open); e.deps.Payments.Status(p, e.deps.now()) != payments.StatusPending {
		t.Fatalf("after credit given under its trade number, the checkout reads %+v", p)
	}
	if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "acct_byhand", Amount: decimal.NewFromInt(1000),
		Method: domain.MethodBankTransfer, Reference: strings.ToLower(open)}); err != nil {
		t.Fatal(err)
	}
	e.sync()
	paymentsViewCaughtUp(t, e)

	for _, lang := range []string{langZH, langEN} {
		b := e.browser()
		b.signIn(owner)
		b.get("/console/accounts?lang=" + lang)
		_, page := b.get("/console/accounts/acct_atmfail/payments")
		if st := checkoutRows(t, page)[open]["data-status"]; st != payments.StatusOtherwise {
			t.Errorf("%s: the customer's page reads the checkout %q", lang, st)
		}
		row := rowText(t, page, open)
		if strings.Contains(page, openAccount) || strings.Contains(row, tr(lang, "pay.atm.expire")) || strings.Contains(row, tr(lang, "pay.pending")) {
			t.Errorf("%s: the checkout settled otherwise is still to be paid into its account: %s", lang, row)
		}
		if !strings.Contains(row, tr(lang, "pay.otherwise")) {
			t.Errorf("%s: the checkout does not say it was settled otherwise: %s", lang, row)
		}
		if strings.Contains(page, "acct_byhand") {
			t.Errorf("%s: the customer's page names the other account", lang)
		}
		if vs := elements(t, page, "span", "data-vaccount"); len(vs) != 0 {
			t.Errorf("%s: the page offers accounts %v", lang, vs)
		}

		b = e.browser()
		b.signIn(e.finance)
		b.get("/console/accounts?lang=" + lang)
		for _, path := range []string{"/console/payments", "/console/accounts/acct_atmfail/checkouts", "/console/payments?status=otherwise"} {
			_, page := b.get(path)
			if rows := checkoutRows(t, page); strings.Contains(path, "status=") && len(rows) != 1 {
				t.Errorf("%s %s: the checkouts settled otherwise are %v", lang, path, rows)
			}
			if st := checkoutRows(t, page)[open]["data-status"]; st != payments.StatusOtherwise {
				t.Fatalf("%s %s: finance reads the checkout %q", lang, path, st)
			}
			row := rowText(t, page, open)
			for _, want := range []string{tr(lang, "pay.state.otherwise"), "acct_byhand", openAccount} {
				if !strings.Contains(row, want) {
					t.Errorf("%s %s: the checkout settled otherwise reads %q, without %q", lang, path, row, want)
				}
			}
			if strings.Contains(row, tr(lang, "pay.atm.expire")) || strings.Contains(row, tr(lang, "pay.state.pending")) {
				t.Errorf("%s %s: the checkout settled otherwise reads as awaiting its transfer: %s", lang, path, row)
			}
		}
	}

	var rows struct {
		Data []map[string]any `json:"data"`
	}
	code, body := e.call("GET", "/admin/api/payments?status=otherwise", e.finance, nil)
	if code != http.StatusOK || json.Unmarshal(body, &rows) != nil || len(rows.Data) != 1 ||
		rows.Data[0]["trade_no"] != open || rows.Data[0]["status"] != payments.StatusOtherwise || rows.Data[0]["otherwise_account"] != "acct_byhand" {
		t.Errorf("finance's API lists the checkouts settled otherwise as %d %s", code, body)
	}
	code, body = e.call("GET", "/admin/api/accounts/acct_atmfail/payments", owner, nil)
	if code != http.StatusOK || json.Unmarshal(body, &rows) != nil {
		t.Fatalf("the customer's checkouts: %d %s", code, body)
	}
	if strings.Contains(string(body), "acct_byhand") {
		t.Errorf("the customer's API names the other account: %s", body)
	}
	for _, r := range rows.Data {
		if r["trade_no"] == open && r["status"] != payments.StatusOtherwise {
			t.Errorf("the customer's API reads the checkout settled otherwise as %v", r)
		}
	}
	// Nothing of the account awaits its payment: a new checkout asks no question.
	if code, body := e.call("POST", "/admin/api/accounts/acct_atmfail/payments", owner, map[string]any{"amount": "1000", "method": "atm"}); code != http.StatusCreated {
		t.Errorf("a new checkout: %d %s, want it started without naming the checkout settled otherwise", code, body)
	}
}
