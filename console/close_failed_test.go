package console

import (
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// The close page issues every invoice it can and lists the accounts it
// could not invoice, each with its name and the reason, in the page's
// language; the form may be sent again once they are fixed.
func TestCloseListsAccountsNotInvoiced(t *testing.T) {
	e := newEnv(t, false)
	e.febUsage("acct_ok", "順利股份有限公司", "1050")
	e.febUsage("acct_rare", "稀記科技有限公司", "2100")
	// Its name as history holds it from before names were checked.
	d, err := commands.Event(domain.EventID("test", "rare"), e.clock.Now(), &domain.AccountOpened{AccountID: "acct_rare",
		Organisation: "𠀋記科技有限公司", TaxID: "04595257", Plan: domain.PlanBusiness})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, domain.AccountStream("acct_rare"), eventstore.Any(), d); err != nil {
		t.Fatal(err)
	}
	if err := e.ledger().AssignRange(e.ctx, "2026-03", "AB", 12345000, 12345099); err != nil {
		t.Fatal(err)
	}
	e.sync()
	b := e.browser()
	csrf := b.signIn(e.finance)
	for _, lang := range []struct{ code, says, why string }{
		{"zh", "下列 1 個帳戶未開立發票", "的發票無法列印：字型缺少"},
		{"en", "1 account has no invoice", "invoice cannot be printed: the font lacks"},
	} {
		_, page := b.get("/console/invoices?month=2026-02&lang=" + lang.code)
		form := formFields(t, page, "/console/invoices/close")
		form.Set("month", "2026-02")
		form.Set("csrf", csrf)
		step := confirmStepOf(t, b, "/console/invoices/close", form)
		step.Set("csrf", csrf)
		resp, page := b.post("/console/invoices/close", step)
		text := visibleText(t, page)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(text, lang.says) || !strings.Contains(text, lang.why) {
			t.Fatalf("%s: close with an account it cannot invoice: %d %s", lang.code, resp.StatusCode, text)
		}
		rows := elementsByID(t, page, "not-invoiced-acct_rare")
		if len(rows) != 1 || !strings.Contains(text, "𠀋記科技有限公司") || !strings.Contains(text, "𠀋") {
			t.Fatalf("%s: the page does not list acct_rare: %s", lang.code, text)
		}
		if strings.Contains(text, "acct_ok") {
			t.Fatalf("%s: the page lists an account that was invoiced: %s", lang.code, text)
		}
		if n := countEvents(e, domain.TypeInvoiceIssued); n != 1 {
			t.Fatalf("%s: %d invoices issued, want acct_ok's", lang.code, n)
		}
	}
}
