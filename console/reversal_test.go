package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/httpapi"
	"github.com/routefree/routefree/projections"
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

// An allowance issued for a refund of paid credit outlives the refund's
// reversal: the admin API's reconciliation and the console's invoices
// page name it to void, with what is allowed beyond the refunds, and the
// page offers its void; once voided, the account is listed no more.
func TestAReversedRefundsAllowanceIsListedToVoid(t *testing.T) {
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) {
		httpapi.Register(ech.Group("/admin/api"), ech.Group("/api/v1"), d.Invoices.(*invoicing.Service), d.Auth)
	})
	e.openBuyer("acct_rv", "反轉折讓有限公司", "04595257", domain.PlanStarter) // B2B: allowed before filing
	e.invoice("acct_rv", "AB10000000", projections.MonthOf(e.clock.Now()))
	code, body := e.call("POST", "/admin/api/accounts/acct_rv/adjustments", e.finance, map[string]any{"amount": "-400", "reason": "refund"})
	var refund struct {
		ID string `json:"adjustment_id"`
	}
	if code != http.StatusCreated || json.Unmarshal(body, &refund) != nil {
		t.Fatalf("the refund: %d %s", code, body)
	}
	svc := e.deps.Invoices.(*invoicing.Service)
	a, err := svc.IssueAllowance(e.ctx, "AB10000000", 400, "退款")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := e.call("POST", "/admin/api/accounts/acct_rv/adjustments", e.finance,
		map[string]any{"amount": "400", "reason": "refund by mistake", "reverses": refund.ID}); code != http.StatusCreated {
		t.Fatalf("the reversal: %d %s", code, body)
	}
	e.sync()

	var rec struct {
		Refunds []struct {
			AccountID string `json:"account_id"`
			Beyond    int64  `json:"allowed_beyond_ntd"`
			ToVoid    []struct {
				Number string `json:"number"`
				Amount int64  `json:"amount_ntd"`
			} `json:"to_void"`
		} `json:"refunds"`
	}
	code, body = e.call("GET", "/admin/api/invoices/reconciliation", e.finance, nil)
	if code != http.StatusOK || json.Unmarshal(body, &rec) != nil || len(rec.Refunds) != 1 || rec.Refunds[0].Beyond != 400 ||
		len(rec.Refunds[0].ToVoid) != 1 || rec.Refunds[0].ToVoid[0].Number != a.Number || rec.Refunds[0].ToVoid[0].Amount != 400 {
		t.Fatalf("the reconciliation after the reversal: %d %s; want NT$400 allowed beyond refunds, allowance %s to void", code, body, a.Number)
	}

	b := e.browser()
	csrf := b.signIn(e.finance)
	_, page := b.get("/console/invoices")
	row := regexp.MustCompile(`(?s)<tr data-account="acct_rv" data-to-allow="0">.*?</tr>`).FindString(page)
	action := "/console/allowances/" + a.Number + "/void"
	if !strings.Contains(row, `data-beyond="400"`) || !strings.Contains(row, `data-allowance="`+a.Number+`"`) || !strings.Contains(row, `action="`+action+`"`) {
		t.Fatalf("no refund row naming allowance %s to void, NT$400 beyond refunds, with its void:\n%s", a.Number, page)
	}
	if resp, page := b.post(action, url.Values{"csrf": {csrf}, "reason": {"退款已撤銷"}, "confirm": {"yes"}, "once": {randomToken()}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the allowance's void: %d %s", resp.StatusCode, page)
	}
	e.sync()
	if _, page := b.get("/console/invoices"); strings.Contains(page, `<tr data-account="acct_rv" data-to-allow=`) || strings.Contains(page, `id="refunds"`) {
		t.Fatalf("the account is still listed after the allowance's void:\n%s", page)
	}
}
