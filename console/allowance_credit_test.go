package console

import (
	"strings"
	"testing"
	"time"
)

// An allowance on a monthly invoice takes the amount off what the invoice
// bills but leaves the balance as it is (docs/invoicing-ledger.md):
// finance must also credit it, or the customer owes more than their
// invoice says. The console says so when the allowance is issued, in the
// page's language.
func TestAnAllowanceOnAMonthlyInvoiceSaysToCreditTheBalance(t *testing.T) {
	e := newEnv(t, false)
	e.febUsage("acct_gw", "補償測試股份有限公司", "1000")
	e.closeFebruary()
	number := onlyInvoice(t, e.ledger(), "acct_gw").Number
	b := e.browser()
	csrf := b.signIn(e.finance)
	path := "/console/invoices/" + number + "/allowances"
	_, page := b.get("/console/invoices?month=2026-02")
	form := formFields(t, page, path)
	form.Set("csrf", csrf)
	form.Set("amount", "300")
	form.Set("reason", "服務中斷補償")
	step := confirmStepOf(t, b, path, form)
	step.Set("csrf", csrf)
	if got := postFlash(t, b, path, step); got != "allowance.issued.credit" {
		t.Fatalf("the allowance's answer: flash %q, want allowance.issued.credit", got)
	}
	e.sync()
	if inv, _ := e.ledger().Invoice(number); inv.Net() != 700 {
		t.Fatalf("the invoice bills NT$%d after the allowance", inv.Net())
	}
	if a, _ := e.models.Balances.View("acct_gw", "", time.Now()); a.Balance.IntPart() != -1000 {
		t.Fatalf("the balance is %s after the allowance: it is finance's to credit", a.Balance)
	}
	for lang, want := range map[string]string{"zh-TW": "額度調整", "en": "credit adjustment"} {
		_, page := b.get("/console/invoices?month=2026-02&flash=allowance.issued.credit&lang=" + lang)
		if !strings.Contains(visibleText(t, page), want) {
			t.Errorf("the %s page does not say to credit the balance (%q)", lang, want)
		}
	}
}
