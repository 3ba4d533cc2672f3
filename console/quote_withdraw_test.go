package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
)

// Finance withdraws a quote from its page, after a confirmation step; the
// list shows each quote's status, and the auditor sees the withdrawal but
// cannot make one.
func TestFinanceWithdrawsAQuote(t *testing.T) {
	e := newEnv(t, false)
	svc := e.deps.Invoices.(*invoicing.Service)
	req := invoicing.QuoteRequest{Agency: "臺北市政府資訊局",
		Items: []domain.QuoteItem{{Name: "AI API 服務", Quantity: decimal.NewFromInt(12), Unit: "月", UnitPrice: decimal.NewFromInt(10000)}}}
	q, err := svc.CreateQuote(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	old, err := svc.CreateQuote(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	req.Replaces = old.QuoteID
	nq, err := svc.CreateQuote(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}

	b := e.browser()
	csrf := b.signIn(e.finance)
	path := "/console/quotes/" + q.QuoteID + "/withdraw"
	if _, page := b.get("/console/quotes/" + q.QuoteID); len(elementsByID(t, page, "quote-withdraw")) != 1 {
		t.Fatal("finance's quote page offers no withdrawal")
	}
	status, page := askFirst(t, b, csrf, path, url.Values{"reason": {"單價誤植"}}, func() bool {
		got, _ := svc.Quote(q.QuoteID)
		return got.Withdrawal == nil
	})
	if status != http.StatusSeeOther {
		t.Fatalf("confirmed withdrawal: %d %s", status, page)
	}
	if got, _ := svc.Quote(q.QuoteID); got.Status != invoicing.QuoteWithdrawn || got.Withdrawal.Reason != "單價誤植" {
		t.Fatalf("after the console's withdrawal: %s", got.Status)
	}
	_, list := b.get("/console/quotes")
	for id, want := range map[string]string{q.QuoteID: "已撤回", old.QuoteID: "已由 " + nq.QuoteID + " 取代", nq.QuoteID: "有效"} {
		row := rowOf(t, list, id)
		if !strings.Contains(row, want) {
			t.Errorf("quote %s's row %q does not say %q", id, row, want)
		}
	}
	if _, page := b.get("/console/quotes/" + q.QuoteID); len(elementsByID(t, page, "quote-withdraw")) != 0 {
		t.Error("a withdrawn quote is offered for withdrawal again")
	}
	if _, page := b.get("/console/quotes?" + url.Values{"status": {"withdrawn"}}.Encode()); !strings.Contains(page, q.QuoteID) || strings.Contains(page, nq.QuoteID) {
		t.Error("the status filter does not pick the withdrawn quote")
	}

	a := e.browser()
	acsrf := a.signIn(e.auditor)
	if _, page := a.get("/console/quotes/" + nq.QuoteID); len(elementsByID(t, page, "quote-withdraw")) != 0 {
		t.Error("an auditor is offered a withdrawal")
	}
	resp, _ := a.post("/console/quotes/"+nq.QuoteID+"/withdraw", url.Values{"csrf": {acsrf}, "reason": {"x"}, "confirm": {"yes"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an auditor's withdrawal: %d", resp.StatusCode)
	}
}

// rowOf is the text of the quotes table's row of quote id.
func rowOf(t *testing.T, page, id string) string {
	t.Helper()
	for _, tr := range strings.Split(page, "<tr ")[1:] {
		if strings.HasPrefix(tr, `data-quote="`+id+`"`) {
			return strings.SplitN(tr, "</tr>", 2)[0]
		}
	}
	t.Fatalf("no row for quote %s", id)
	return ""
}

// Withdrawal and replacement refusals read in Chinese, naming the quotes,
// the contract, the day and the reason.
func TestQuoteWithdrawalRefusalsSpeakChinese(t *testing.T) {
	e := newEnv(t, false)
	svc := e.deps.Invoices.(*invoicing.Service)
	req := invoicing.QuoteRequest{Agency: "臺北市政府資訊局",
		Items: []domain.QuoteItem{{Name: "AI API 服務", Quantity: decimal.NewFromInt(1), Unit: "式", UnitPrice: decimal.NewFromInt(100)}}}
	issue := func(replaces string) invoicing.Quote {
		t.Helper()
		r := req
		r.Replaces = replaces
		q, err := svc.CreateQuote(e.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	wrong, acc, old := issue(""), issue(""), issue("")
	nq := issue(old.QuoteID)
	if _, err := svc.WithdrawQuote(e.ctx, wrong.QuoteID, "單價誤植"); err != nil {
		t.Fatal(err)
	}
	acc, err := svc.AcceptQuote(e.ctx, acc.QuoteID, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	refusal := func(err error) string {
		t.Helper()
		if err == nil {
			t.Fatal("not refused")
		}
		return strings.NewReplacer("<bdi>", "", "</bdi>", "").Replace(string(reasonOf(langZH, err.Error())))
	}
	_, e1 := svc.AcceptQuote(e.ctx, wrong.QuoteID, time.Time{}, 0)
	_, e2 := svc.AcceptQuote(e.ctx, old.QuoteID, time.Time{}, 0)
	_, e3 := svc.WithdrawQuote(e.ctx, acc.QuoteID, "x")
	_, e4 := svc.CreateQuote(e.ctx, invoicing.QuoteRequest{Agency: req.Agency, Items: req.Items, Replaces: acc.QuoteID})
	_, e5 := svc.CreateQuote(e.ctx, invoicing.QuoteRequest{Agency: "另一機關", Items: req.Items, Replaces: old.QuoteID})
	_, e6 := svc.CreateQuote(e.ctx, invoicing.QuoteRequest{Agency: req.Agency, Items: req.Items, Replaces: wrong.QuoteID})
	_, e7 := svc.WithdrawQuote(e.ctx, nq.QuoteID, " ")
	for i, c := range []struct {
		err  error
		want []string
	}{
		{e1, []string{"報價單 " + wrong.QuoteID + " 已於", "撤回：單價誤植"}},
		{e2, []string{"報價單 " + old.QuoteID, "由 " + nq.QuoteID + " 取代"}},
		{e3, []string{acc.Contract.ContractID, "不能撤回"}},
		{e4, []string{acc.Contract.ContractID, "不能被取代"}},
		{e5, []string{old.QuoteID, nq.QuoteID, "不能再被取代"}},
		{e6, []string{wrong.QuoteID, "已於", "不必註明取代"}},
		{e7, []string{"撤回報價單須填寫原因"}},
	} {
		got := refusal(c.err)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("refusal %d: %q (from %q) lacks %q", i+1, got, c.err, w)
			}
		}
	}
}
