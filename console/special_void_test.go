package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/projections"
)

// Past its void window an invoice's row offers finance, beside the
// allowance, the form that records the tax office's special void (專案作廢):
// the reason, the approval reference and its day, in the page's language.
// It is confirmed like a void, refused in the page's language when the
// approval is not one, and the voided row says it was a special void and
// on which approval. Within the window the form is not offered, and the
// server refuses it for a normal void.
func TestFinanceRecordsASpecialVoidOnTheConsole(t *testing.T) {
	e := newEnv(t, false)
	e.febUsage("acct_sv", "專案作廢股份有限公司", "2100")
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 10000000, 10000099); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(e.ctx, "2026-02", invoicing.CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	number := onlyInvoice(t, e.ledger(), "acct_sv").Number
	b := e.browser()
	csrf := b.signIn(e.finance)
	post := func(lang string, v url.Values) (*http.Response, string) {
		t.Helper()
		v.Set("csrf", csrf)
		return b.post("/console/invoices/"+number+"/special-void?lang="+lang, v)
	}
	approval := "北區國稅審字第1150001234號"

	// The 2026-03 period is filed by the end of 15 May: until then, no form.
	e.clock.set(time.Date(2026, 5, 15, 23, 0, 0, 0, projections.Taipei))
	_, page := b.get("/console/invoices?month=2026-02&lang=en")
	if row := invoiceRowHTML(t, page, number); strings.Contains(row, "special-void-form") {
		t.Fatalf("within the window the page offers a special void:\n%s", row)
	}
	resp, page := post(langZH, url.Values{"reason": {"買受人錯誤"}, "special_approval": {approval}, "approved_on": {"2026-05-15"},
		"confirm": {"yes"}, "once": {randomToken()}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(visibleText(t, page), "仍可作廢") {
		t.Fatalf("a special void within the window: %d %s", resp.StatusCode, visibleText(t, page))
	}

	e.clock.set(time.Date(2026, 5, 20, 10, 0, 0, 0, projections.Taipei))
	for lang, want := range map[string][]string{
		langEN: {"special void", "Approval reference", "Approved on", "Record special void"},
		langZH: {"專案作廢", "核准文號", "核准日期", "登錄專案作廢"},
	} {
		_, page := b.get("/console/invoices?month=2026-02&lang=" + lang)
		row := invoiceRowHTML(t, page, number)
		if !strings.Contains(row, `action="/console/invoices/`+number+`/special-void" class="stack special-void-form"`) || !strings.Contains(row, `name="special_approval"`) ||
			!strings.Contains(row, `name="approved_on"`) || !strings.Contains(row, `maxlength="60"`) {
			t.Fatalf("%s: no special void form past the deadline:\n%s", lang, row)
		}
		text := visibleText(t, row)
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the row does not say %q: %s", lang, w, text)
			}
		}
	}

	// Refused in the page's language, nothing recorded.
	for _, c := range []struct {
		lang, approval, day, says string
	}{
		{langZH, "審字\x07第1號", "2026-05-19", "控制字元"},
		{langEN, "審字\x07第1號", "2026-05-19", "control character"},
		{langZH, "", "2026-05-19", "核准文號"},
		{langEN, strings.Repeat("字", 61), "2026-05-19", "approval reference is at most"},
		{langZH, strings.Repeat("字", 61), "2026-05-19", "核准文號最多"},
		{langZH, approval, "2026-05-21", "晚於今日"},
		{langEN, approval, "2026-05-15", "not after"},
	} {
		resp, page := post(c.lang, url.Values{"reason": {"買受人錯誤"}, "special_approval": {c.approval}, "approved_on": {c.day},
			"confirm": {"yes"}, "once": {randomToken()}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(visibleText(t, page), c.says) {
			t.Errorf("%s %q %s: %d, want 400 saying %q: %s", c.lang, c.approval, c.day, resp.StatusCode, c.says, visibleText(t, page))
		}
	}
	if inv, _ := e.ledger().Invoice(number); inv.Voided {
		t.Fatal("a refused special void voided the invoice")
	}

	// The confirmation step names the approval and changes nothing.
	_, page = post(langEN, url.Values{"reason": {"買受人錯誤"}, "special_approval": {approval}, "approved_on": {"2026-05-19"}})
	if text := visibleText(t, page); !strings.Contains(text, approval) || !strings.Contains(text, "Approval reference") || !strings.Contains(text, "2026-05-19") {
		t.Fatalf("the confirmation step: %s", text)
	}
	if inv, _ := e.ledger().Invoice(number); inv.Voided {
		t.Fatal("an unconfirmed special void was recorded")
	}
	if resp, page := post(langEN, url.Values{"reason": {"買受人錯誤"}, "special_approval": {approval}, "approved_on": {"2026-05-19"},
		"confirm": {"yes"}, "once": {randomToken()}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the confirmed special void: %d %s", resp.StatusCode, page)
	}
	inv, err := e.ledger().Invoice(number)
	if err != nil || !inv.Voided || inv.Special == nil || inv.Special.Approval != approval || inv.Special.ApprovedOn != "2026-05-19" {
		t.Fatalf("after the special void: %+v %v", inv, err)
	}
	for lang, want := range map[string]string{langEN: "Special void", langZH: "專案作廢"} {
		_, page := b.get("/console/invoices?month=2026-02&lang=" + lang)
		row := invoiceRowHTML(t, page, number)
		if text := visibleText(t, row); !strings.Contains(row, `data-status="voided"`) || !strings.Contains(text, want) ||
			!strings.Contains(text, approval) || !strings.Contains(text, "2026-05-19") {
			t.Errorf("%s: the voided row: %s", lang, text)
		}
	}
}
