package console

import (
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/projections"
)

// The void's confirmation step names the amount taken off the re-issue
// only where one can be taken: a monthly invoice inside its void window.
// A top-up invoice's re-issue bills its payments whole, and an invoice
// past its window (a page loaded before) is voided no more, so their
// steps say nothing of an amount off and send none.
func TestTheVoidStepOffersTheAmountOffOnlyWhereItCanBeTaken(t *testing.T) {
	e := newEnv(t, false)
	e.febUsageB2C("acct_b2c", "王小明工作室", "2100")
	svc := e.closeFebruary()
	monthly := onlyInvoice(t, e.ledger(), "acct_b2c")
	e.openAccount("acct_top", "儲值測試工作室", domain.PlanStarter)
	e.sync()
	e.paidBankTransfer("acct_top", "TX-TOPUP-1")
	issueTopUpInvoices(t, e, svc)
	e.sync()
	invs := svc.Invoices("", "acct_top")
	if len(invs) != 1 || invs[0].TopUpRef == "" {
		t.Fatalf("top-up invoices: %+v", invs)
	}
	topUp := invs[0]
	b := e.browser()
	csrf := b.signIn(e.finance)
	const label = "重開減收（新臺幣，含稅）"
	step := func(number, month string) (string, bool) {
		t.Helper()
		path := "/console/invoices/" + number + "/void"
		_, page := b.get("/console/invoices?month=" + month + "&lang=zh-TW")
		form := formFields(t, page, path)
		form.Set("csrf", csrf)
		form.Set("reason", "買受人資料有誤")
		_, page = b.post(path, form)
		if len(elementsByID(t, page, "confirm-step")) != 1 {
			t.Fatalf("void of %s: no confirmation step:\n%s", number, visibleText(t, page))
		}
		_, sends := formFields(t, page, path)["less"]
		return visibleText(t, page), sends
	}

	if text, sends := step(monthly.Number, "2026-02"); !strings.Contains(text, label) || !sends {
		t.Errorf("the monthly invoice's step does not offer the amount off (sends it: %v): %s", sends, text)
	}
	if text, sends := step(topUp.Number, svc.InvoiceMonth(topUp)); strings.Contains(text, label) || sends {
		t.Errorf("the top-up invoice's step offers an amount off (sends it: %v): %s", sends, text)
	}
	// The 2026-03 period is filed by the end of 15 May: the step of a form
	// loaded before offers no amount off either.
	_, page := b.get("/console/invoices?month=2026-02&lang=zh-TW")
	form := formFields(t, page, "/console/invoices/"+monthly.Number+"/void")
	e.setClock(time.Date(2026, 5, 16, 9, 0, 0, 0, projections.Taipei))
	form.Set("csrf", csrf)
	form.Set("reason", "買受人資料有誤")
	_, page = b.post("/console/invoices/"+monthly.Number+"/void", form)
	if text := visibleText(t, page); strings.Contains(text, label) {
		t.Errorf("the step of an invoice past its void window offers an amount off: %s", text)
	}
}
