package console

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
)

// Finance reverses an adjustment recorded by mistake through the admin
// API: the answer gives each adjustment's ID, the reversal names it in
// "reverses", the credit history shows both IDs to staff (not to the
// customer), and the reconciliation no longer asks for an allowance on
// the top-up invoice for the paid credit the mistake took. A reversal of
// another amount, or a second one, is refused.
func TestAdminAPIReversesAnAdjustment(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_v", "反轉公司", domain.PlanStarter)
	if code, body := e.call("POST", "/admin/api/accounts/acct_v/topups", e.finance,
		map[string]any{"amount": "1000", "method": domain.MethodBankTransfer, "reference": "TX-1"}); code != http.StatusCreated {
		t.Fatalf("top-up: %d %s", code, body)
	}
	adjust := func(in map[string]any) (int, []byte, string) {
		t.Helper()
		code, body := e.call("POST", "/admin/api/accounts/acct_v/adjustments", e.finance, in)
		var out struct {
			ID string `json:"adjustment_id"`
		}
		json.Unmarshal(body, &out)
		return code, body, out.ID
	}
	toAllow := func() int64 {
		t.Helper()
		rec, err := e.deps.Invoices.(*invoicing.Service).Reconcile(e.ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		n := int64(0)
		for _, r := range rec.Refunds {
			n += r.ToAllow
		}
		return n
	}

	code, body, oops := adjust(map[string]any{"amount": "-20", "reason": "typo"})
	if code != http.StatusCreated || oops == "" {
		t.Fatalf("the mistaken adjustment: %d %s; want 201 with its adjustment_id", code, body)
	}
	if n := toAllow(); n != 20 {
		t.Fatalf("after the mistake, NT$%d to allow; want 20", n)
	}
	code, body, _ = adjust(map[string]any{"amount": "15", "reason": "undo", "reverses": oops})
	wantAPI(t, code, body, http.StatusBadRequest, "not NT$15")
	code, body, _ = adjust(map[string]any{"amount": "20", "reason": "undo", "reverses": "nope"})
	wantAPI(t, code, body, http.StatusBadRequest, "is not an adjustment's ID")
	code, body, undo := adjust(map[string]any{"amount": "20", "reason": "reverses the oops adjustment", "reverses": oops})
	if code != http.StatusCreated || undo == "" || undo == oops {
		t.Fatalf("the reversal: %d %s", code, body)
	}
	if n := toAllow(); n != 0 {
		t.Fatalf("after the reversal, NT$%d to allow; want none", n)
	}
	code, body, _ = adjust(map[string]any{"amount": "20", "reason": "again", "reverses": oops})
	wantAPI(t, code, body, http.StatusBadRequest, "already reversed")

	history := func(secret string) map[string]TopUp {
		t.Helper()
		code, body := e.call("GET", "/admin/api/accounts/acct_v/topups", secret, nil)
		var out struct {
			Data []TopUp `json:"data"`
		}
		if code != http.StatusOK || json.Unmarshal(body, &out) != nil {
			t.Fatalf("topups: %d %s", code, body)
		}
		byReason := map[string]TopUp{}
		for _, t := range out.Data {
			byReason[t.Reason+"|"+t.Amount.String()] = t
		}
		return byReason
	}
	h := history(e.finance)
	if h["typo|-20"].ID != oops || h["reverses the oops adjustment|20"].ID != undo || h["reverses the oops adjustment|20"].Reverses != oops {
		t.Fatalf("the credit history does not show the adjustments' IDs: %+v", h)
	}
}
