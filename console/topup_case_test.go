package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// topUpEntries counts the events of an account's top-up stream.
func topUpEntries(t *testing.T, e *env, account string) int {
	t.Helper()
	evs, err := e.store.ReadStream(context.Background(), domain.TopUpStream(account), 0, 100)
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatal(err)
	}
	return len(evs)
}

// A bank transfer posted to the admin API with its reference in lower case
// after the same reference in capitals was credited a second time: it is a
// duplicate (200, "duplicate": true), and another amount a 409 naming the
// reference as recorded.
func TestAPITopUpReferenceInOtherCaseIsTheSameTransfer(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_apicase", "大小寫股份有限公司", domain.PlanStarter)
	topUp := func(amount, ref string) (int, []byte) {
		return e.call("POST", "/admin/api/accounts/acct_apicase/topups", e.finance,
			map[string]any{"amount": amount, "method": domain.MethodBankTransfer, "reference": ref})
	}
	if code, body := topUp("5000", "TX-20261128-001"); code != http.StatusCreated {
		t.Fatalf("first transfer: %d %s", code, body)
	}
	code, body := topUp("5000", "tx-20261128-001")
	var answer struct {
		Duplicate bool `json:"duplicate"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || code != http.StatusOK || !answer.Duplicate {
		t.Fatalf("the reference in lower case: %d %s, want 200 and a duplicate", code, body)
	}
	if code, body := topUp("4000", "Tx-20261128-001"); code != http.StatusConflict || !strings.Contains(string(body), `TX-20261128-001`) {
		t.Fatalf("another amount under it: %d %s, want 409 naming the reference recorded", code, body)
	}
	if n := topUpEntries(t, e, "acct_apicase"); n != 1 {
		t.Fatalf("%d top-ups recorded, want 1", n)
	}
	e.sync()
	if v, _ := e.models.Balances.View("acct_apicase", "", e.clock.Now()); !v.Balance.Equal(mustDec("5000")) {
		t.Fatalf("balance %s, want 5000", v.Balance)
	}
}

// The console's top-up form, given a reference already recorded in other
// capitals, says it is already recorded, with no question, and credits
// nothing.
func TestConsoleTopUpReferenceInOtherCaseIsTheSameTransfer(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_formcase", "大小寫股份有限公司", domain.PlanStarter)
	b := e.browser()
	csrf := b.signIn(e.finance)
	post := func(ref string, confirm bool) *http.Response {
		v := url.Values{"csrf": {csrf}, "amount": {"5000"}, "method": {domain.MethodBankTransfer}, "reference": {ref}}
		if confirm {
			v.Set("confirm", "yes")
		}
		resp, _ := b.post("/console/accounts/acct_formcase/topups", v)
		return resp
	}
	if resp := post("TX-20261128-001", true); resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "topup.ok") {
		t.Fatalf("first transfer: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, confirm := range []bool{false, true} {
		resp := post("tx-20261128-001", confirm)
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "topup.dup") {
			t.Fatalf("the reference in lower case (confirmed %v): %d %s, want it already recorded", confirm, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if n := topUpEntries(t, e, "acct_formcase"); n != 1 {
		t.Fatalf("%d top-ups recorded, want 1", n)
	}
}
