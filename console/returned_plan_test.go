package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
)

// closeFebruary invoices February's usage with a March range of 字軌 AB
// and returns the invoicing service.
func (e *env) closeFebruary() *invoicing.Service {
	e.t.Helper()
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 12345000, 12345099); err != nil {
		e.t.Fatal(err)
	}
	if _, err := svc.Close(e.ctx, "2026-02", invoicing.CloseOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.sync()
	return svc
}

// returnedHeldBy gives acct money returned for an allowance on usage it had
// paid: billed NT$1,000 for February, paid, allowed NT$300 and credited
// NT$300 (docs/invoicing-ledger.md) on its invoice number.
func (e *env) returnedHeldBy(svc *invoicing.Service, acct, number string) {
	e.t.Helper()
	if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: acct, Amount: decimal.NewFromInt(1000),
		Method: domain.MethodBankTransfer, Reference: "pay-" + acct}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := svc.IssueAllowance(e.ctx, number, 300, "服務中斷補償"); err != nil {
		e.t.Fatal(err)
	}
	if err := e.cmds.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: acct, Amount: decimal.NewFromInt(300), Reason: "allowance " + number}); err != nil {
		e.t.Fatal(err)
	}
	e.sync()
	if held, err := svc.ReturnedHeld(e.ctx, acct); err != nil || !held.Equal(decimal.NewFromInt(300)) {
		e.t.Fatalf("%s holds NT$%s returned (%v), want NT$300", acct, held, err)
	}
}

// A move to a prepaid plan invoices the money returned for allowances that
// the account holds, as a top-up paid then. An invoice cannot be taken
// back: the console's plan form asks first, naming the amount and the
// invoice in both languages, and the admin API's answer carries the amount
// and the top-up's reference, and its invoice once issued.
func TestAMoveToPrepaidSaysItInvoicesTheMoneyReturned(t *testing.T) {
	e := newEnv(t, false)
	e.febUsage("acct_form", "退款測試股份有限公司", "1000")
	e.febUsage("acct_api", "退款介面測試有限公司", "1000")
	svc := e.closeFebruary()
	e.returnedHeldBy(svc, "acct_form", onlyInvoice(t, e.ledger(), "acct_form").Number)
	e.returnedHeldBy(svc, "acct_api", onlyInvoice(t, e.ledger(), "acct_api").Number)

	b := e.browser()
	csrf := b.signIn(e.admin)
	path := "/console/accounts/acct_form/plan"
	form := url.Values{"csrf": {csrf}, "plan": {"starter"}, "rpm": {"0"}, "tpm": {"0"}, "volume_discount": {"0"}}
	for lang, words := range map[string][]string{langZH: {"發票", "API 預付儲值"}, langEN: {"invoice", "API 預付儲值"}} {
		resp, page := b.post(path+"?lang="+lang, form)
		if resp.StatusCode != http.StatusOK || len(elementsByID(t, page, "confirm-step")) != 1 {
			t.Fatalf("%s: the plan form: %d, want its confirmation step", lang, resp.StatusCode)
		}
		text := visibleText(t, page)
		if !strings.Contains(page, `data-warning="plan.returned"`) || !strings.Contains(text, "NT$300.00") {
			t.Fatalf("%s: the confirmation of a move to Starter does not name the NT$300 returned it invoices:\n%s", lang, text)
		}
		for _, w := range words {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the confirmation does not say %q:\n%s", lang, w, text)
			}
		}
	}
	if a, _ := e.views.Account("acct_form"); a.Plan != domain.PlanBusiness {
		t.Fatalf("the plan changed to %s before it was confirmed", a.Plan)
	}
	_, page := b.post(path, form)
	if resp, _ := b.post(path, formFields(t, page, path)); resp.StatusCode >= 400 {
		t.Fatalf("the confirmed plan change: %d", resp.StatusCode)
	}
	if a, _ := e.views.Account("acct_form"); a.Plan != domain.PlanStarter {
		t.Fatalf("after its confirmation, acct_form is on %s", a.Plan)
	}
	// A move that invoices nothing asks nothing: back to Business, then
	// to Starter again, with no money returned left.
	for _, plan := range []string{"business", "starter"} {
		f := url.Values{"csrf": {csrf}, "plan": {plan}, "rpm": {"0"}, "tpm": {"0"}, "volume_discount": {"0"}}
		if _, page := b.post(path, f); len(elementsByID(t, page, "confirm-step")) != 0 {
			t.Fatalf("a move to %s holding no money returned asks for a confirmation", plan)
		}
	}

	code, body := e.call("POST", "/admin/api/accounts/acct_api/plan", e.admin, map[string]any{"plan": "starter"})
	var answer struct {
		Returned *struct {
			Amount    string   `json:"amount"`
			Reference string   `json:"reference"`
			Invoices  []string `json:"invoices"`
			Message   string   `json:"message"`
		} `json:"returned_invoiced"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &answer) != nil || answer.Returned == nil {
		t.Fatalf("the API's move to Starter: %d %s, want returned_invoiced", code, body)
	}
	r := answer.Returned
	if r.Amount != "300" || !strings.HasPrefix(r.Reference, "returned-") || !strings.Contains(r.Message, "NT$300") ||
		!strings.Contains(r.Message, "invoiced") {
		t.Fatalf("the API's returned_invoiced: %+v", *r)
	}
	// The reference is the top-up's that the invoice bills.
	if err := svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
	var billed []invoicing.Invoice
	for _, acct := range []string{"acct_form", "acct_api"} {
		for _, inv := range svc.Invoices("", acct) {
			if strings.HasPrefix(inv.TopUpRef, "returned-") {
				billed = append(billed, inv)
			}
		}
	}
	if len(billed) != 2 || billed[0].Total != 300 || billed[1].Total != 300 || billed[1].TopUpRef != r.Reference {
		t.Fatalf("the invoices of the money returned: %+v; want NT$300 each, acct_api's under %s", billed, r.Reference)
	}
	// Asked again, the move names its invoice: the account is on Starter
	// already, so a second move invoices nothing and says nothing.
	if code, body = e.call("POST", "/admin/api/accounts/acct_api/plan", e.admin, map[string]any{"plan": "starter"}); code != http.StatusOK ||
		strings.Contains(string(body), "returned_invoiced") {
		t.Fatalf("a second move to Starter: %d %s", code, body)
	}
	got, ok, err := svc.ReturnedInvoiced(e.ctx, "acct_api", strings.TrimPrefix(r.Reference, "returned-"))
	if err != nil || !ok || len(got.Invoices) != 1 || !strings.HasSuffix(got.Invoices[0], billed[1].Number) {
		t.Fatalf("the money returned at the move, once invoiced: %+v %v %v", got, ok, err)
	}
}

// A confirmation names the money returned it invoices. Money returned
// after it was shown (an allowance refunded from another tab, or through
// the API) is not invoiced on that confirmation: the click asks again,
// naming the new amount, and the plan moves only once that is confirmed.
func TestAPlanChangeConfirmedForOtherMoneyReturnedAsksAgain(t *testing.T) {
	e := newEnv(t, false)
	e.febUsage("acct_moved", "退款變動股份有限公司", "1000")
	svc := e.closeFebruary()
	number := onlyInvoice(t, e.ledger(), "acct_moved").Number
	e.returnedHeldBy(svc, "acct_moved", number)

	b := e.browser()
	csrf := b.signIn(e.admin)
	path := "/console/accounts/acct_moved/plan"
	_, shown := b.post(path, url.Values{"csrf": {csrf}, "plan": {"starter"}, "rpm": {"0"}, "tpm": {"0"}, "volume_discount": {"0"}})
	if text := visibleText(t, shown); !strings.Contains(text, "NT$300.00") {
		t.Fatalf("the confirmation does not name the NT$300 returned:\n%s", text)
	}

	// Meanwhile another NT$200 is allowed on the same invoice and refunded
	// as credit.
	if _, err := svc.IssueAllowance(e.ctx, number, 200, "服務中斷補償"); err != nil {
		t.Fatal(err)
	}
	if err := e.cmds.Adjust(e.ctx, domain.CreditsAdjusted{AccountID: "acct_moved", Amount: decimal.NewFromInt(200), Reason: "allowance " + number}); err != nil {
		t.Fatal(err)
	}
	e.sync()
	if held, err := svc.ReturnedHeld(e.ctx, "acct_moved"); err != nil || !held.Equal(decimal.NewFromInt(500)) {
		t.Fatalf("acct_moved holds NT$%s returned (%v), want NT$500", held, err)
	}

	resp, again := b.post(path, formFields(t, shown, path))
	if resp.StatusCode != http.StatusOK || len(elementsByID(t, again, "confirm-step")) != 1 {
		t.Fatalf("the click on a confirmation of NT$300 with NT$500 returned: %d, want the confirmation again", resp.StatusCode)
	}
	if text := visibleText(t, again); !strings.Contains(again, `data-warning="plan.returned.changed"`) || !strings.Contains(text, "NT$500.00") {
		t.Fatalf("the question asked again does not name the NT$500 now returned, or that it changed:\n%s", text)
	}
	if a, _ := e.views.Account("acct_moved"); a.Plan != domain.PlanBusiness {
		t.Fatalf("the plan moved to %s on a confirmation of another amount", a.Plan)
	}

	if resp, _ := b.post(path, formFields(t, again, path)); resp.StatusCode >= 400 {
		t.Fatalf("the confirmed plan change: %d", resp.StatusCode)
	}
	if a, _ := e.views.Account("acct_moved"); a.Plan != domain.PlanStarter {
		t.Fatalf("after its confirmation, acct_moved is on %s", a.Plan)
	}
	if err := svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
	var billed []int64
	for _, inv := range svc.Invoices("", "acct_moved") {
		if strings.HasPrefix(inv.TopUpRef, "returned-") {
			billed = append(billed, inv.Total)
		}
	}
	if len(billed) != 1 || billed[0] != 500 {
		t.Fatalf("the money returned was invoiced as %v, want one NT$500 invoice", billed)
	}
}
