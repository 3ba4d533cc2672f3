package console

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/projections"
)

// An invoice whose buyer has no 統一編號 takes no allowance (折讓) before
// its period is filed (統一發票使用辦法 §20: it is voided and issued again
// then). Its row offers no allowance form but the void, with the amount
// to take off the re-issue, and says why in the page's language; the
// allowance sent all the same is refused, in the same words. A B2B
// invoice of the same month keeps its form, and from the day after the
// filing deadline the B2C one has its form too.
func TestAB2CInvoiceOffersNoAllowanceBeforeItsPeriodIsFiled(t *testing.T) {
	e := newEnv(t, false)
	e.febUsageB2C("acct_b2c", "王小明工作室", "2100")
	e.febUsage("acct_b2b", "艾克米股份有限公司", "1050")
	e.closeFebruary()
	b2c, b2b := onlyInvoice(t, e.ledger(), "acct_b2c"), onlyInvoice(t, e.ledger(), "acct_b2b")
	if b2c.BuyerTaxID != "" || b2b.BuyerTaxID == "" {
		t.Fatalf("buyers: %q, %q", b2c.BuyerTaxID, b2b.BuyerTaxID)
	}
	b := e.browser()
	csrf := b.signIn(e.finance)
	allowPath := func(number string) string { return "/console/invoices/" + number + "/allowances" }

	// The 2026-03 period (March–April) is filed by the end of 15 May.
	for lang, want := range map[string][]string{
		langEN: {"no buyer 統一編號", "2026-05-15", "Void it with the amount to take off its re-issue", "Take off the re-issue"},
		langZH: {"無統一編號", "2026-05-15", "請作廢此發票並填寫重開減收的金額", "重開減收"},
	} {
		_, page := b.get("/console/invoices?month=2026-02&lang=" + lang)
		row := invoiceRowHTML(t, page, b2c.Number)
		if strings.Contains(row, `action="`+allowPath(b2c.Number)+`"`) {
			t.Errorf("%s: the B2C invoice is offered an allowance before filing:\n%s", lang, row)
		}
		if !strings.Contains(row, `action="/console/invoices/`+b2c.Number+`/void"`) || !strings.Contains(row, `name="less"`) {
			t.Errorf("%s: the B2C invoice is not offered its void with an amount off the re-issue:\n%s", lang, row)
		}
		text := visibleText(t, row)
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the row does not say %q: %s", lang, w, text)
			}
		}
		if lang == langZH {
			checkChinese(t, "the B2C row", page)
		}
		if row := invoiceRowHTML(t, page, b2b.Number); !strings.Contains(row, `action="`+allowPath(b2b.Number)+`"`) {
			t.Errorf("%s: the B2B invoice is offered no allowance:\n%s", lang, row)
		}
	}
	// Sent all the same (a page loaded before, a hand-made request): 409,
	// nothing recorded.
	b.get("/console/invoices?month=2026-02&lang=zh-TW")
	resp, page := b.post(allowPath(b2c.Number), url.Values{"csrf": {csrf}, "amount": {"100"}, "reason": {"服務中斷補償"},
		"allowances": {"0"}, "back_month": {"2026-02"}, "confirm": {"yes"}, "once": {randomToken()}})
	if resp.StatusCode != 409 || !strings.Contains(visibleText(t, page), "無統一編號") {
		t.Fatalf("allowance on the B2C invoice before filing: %d\n%s", resp.StatusCode, visibleText(t, page))
	}
	checkChinese(t, "the refused allowance", page)
	e.sync()
	if inv, _ := e.ledger().Invoice(b2c.Number); len(inv.Allowances) != 0 {
		t.Fatalf("refused allowance recorded: %+v", inv.Allowances)
	}

	e.clock.set(time.Date(2026, 5, 16, 0, 0, 0, 0, projections.Taipei))
	_, page = b.get("/console/invoices?month=2026-02&lang=en")
	row := invoiceRowHTML(t, page, b2c.Number)
	if !strings.Contains(row, `action="`+allowPath(b2c.Number)+`"`) || strings.Contains(visibleText(t, row), "no buyer 統一編號") {
		t.Fatalf("once the period is filed the B2C invoice is offered no allowance:\n%s", row)
	}
	form := formFields(t, page, allowPath(b2c.Number))
	form.Set("csrf", csrf)
	form.Set("amount", "100")
	form.Set("reason", "服務中斷補償")
	step := confirmStepOf(t, b, allowPath(b2c.Number), form)
	step.Set("csrf", csrf)
	if got := postFlash(t, b, allowPath(b2c.Number), step); got != "allowance.issued.credit" {
		t.Fatalf("the allowance's answer: flash %q", got)
	}
	e.sync()
	if inv, _ := e.ledger().Invoice(b2c.Number); inv.Net() != 2000 {
		t.Fatalf("the B2C invoice bills NT$%d after its allowance", inv.Net())
	}
}

// The way the refusal names, from the console: the B2C invoice voided
// with NT$100 taken off its re-issue, which then bills the rest.
func TestAB2CInvoiceIsVoidedForLessFromTheConsole(t *testing.T) {
	e := newEnv(t, false)
	e.febUsageB2C("acct_b2c", "王小明工作室", "2100")
	svc := e.closeFebruary()
	inv := onlyInvoice(t, e.ledger(), "acct_b2c")
	b := e.browser()
	csrf := b.signIn(e.finance)
	path := "/console/invoices/" + inv.Number + "/void"
	_, page := b.get("/console/invoices?month=2026-02&lang=zh-TW")
	form := formFields(t, page, path)
	form.Set("csrf", csrf)
	form.Set("reason", "折讓改作廢重開")
	form.Set("less", "100")
	step := confirmStepOf(t, b, path, form)
	if step.Get("less") != "100" {
		t.Fatalf("the confirmation step sends %v, want less=100", step)
	}
	step.Set("csrf", csrf)
	if got := postFlash(t, b, path, step); got != "invoice.voided.ok" {
		t.Fatalf("the void's answer: flash %q", got)
	}
	e.sync()
	if v, _ := e.ledger().Invoice(inv.Number); !v.Voided || v.VoidLess != 100 {
		t.Fatalf("voided %+v, taking NT$%d off", v.Voided, v.VoidLess)
	}
	re, created, err := svc.IssueMonthly(e.ctx, "acct_b2c", "2026-02")
	if err != nil || !created || re.Total != 2000 || re.Less != 100 {
		t.Fatalf("re-issue %+v: %v", re.InvoiceIssued, err)
	}
}
