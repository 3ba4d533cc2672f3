package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
)

// Finance withdraws from the invoices page a range no number was used
// from (one typed for the wrong period), with a reason, after a
// confirmation step: it is listed as withdrawn, with who did it and why,
// and numbers nothing. A range with a number used has no such form, and a
// withdrawal posted for it anyway is refused, saying what to do instead.
func TestFinanceWithdrawsAnUnusedRange(t *testing.T) {
	e := newEnv(t, false)
	e.febUsage("acct_w", "撤回字軌股份有限公司", "2100")
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 10000000, 10000099); err != nil {
		t.Fatal(err)
	}
	if err := svc.AssignRange(e.ctx, "2026-03", "CD", 30000000, 30000049); err != nil { // the typo
		t.Fatal(err)
	}
	b := e.browser()
	csrf := b.signIn(e.finance)
	v := url.Values{"csrf": {csrf}, "month": {"2026-02"}, "confirm": {"yes"}, "once": {randomToken()}}
	if resp, page := b.post("/console/invoices/close", v); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d %s", resp.StatusCode, page)
	}

	_, page := b.get("/console/invoices")
	forms := 0
	for _, m := range elements(t, page, "input", "name") {
		if m["name"] == "prefix" && m["type"] == "hidden" {
			forms++
			if m["value"] != "CD" {
				t.Fatalf("a withdrawal form for range %s, whose numbers are used", m["value"])
			}
		}
	}
	if forms != 1 {
		t.Fatalf("%d withdrawal forms, want the unused CD range's only", forms)
	}

	form := url.Values{"csrf": {csrf}, "period": {"2026-03"}, "prefix": {"CD"}, "from": {"30000000"}, "to": {"30000049"}, "reason": {"typed for 2026-03, assigned for 2026-05"}}
	if resp, page := b.post("/console/invoices/ranges/withdraw", form); resp.StatusCode != http.StatusOK || attrOf(t, page, "input", "name", "confirm", "value") != "yes" {
		t.Fatalf("withdrawal without confirmation: %d", resp.StatusCode)
	}
	if st := svc.RangeStatus("2026-03"); len(st.Withdrawn) != 0 {
		t.Fatalf("an unconfirmed withdrawal was recorded: %+v", st.Withdrawn)
	}
	form.Set("confirm", "yes")
	form.Set("once", randomToken())
	if resp, page := b.post("/console/invoices/ranges/withdraw", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdrawal confirmed: %d %s", resp.StatusCode, page)
	}
	st := svc.RangeStatus("2026-03")
	if len(st.Ranges) != 1 || len(st.Withdrawn) != 1 || st.Withdrawn[0].Actor.Kind != domain.ActorStaff || st.Withdrawn[0].Reason != "typed for 2026-03, assigned for 2026-05" {
		t.Fatalf("after the withdrawal: %+v", st)
	}
	_, page = b.get("/console/invoices")
	if attrOf(t, page, "li", "data-withdrawn", "CD30000000-CD30000049", "data-withdrawn") == "" || !strings.Contains(page, "typed for 2026-03, assigned for 2026-05") {
		t.Fatal("the invoices page does not list the withdrawn range with its reason")
	}

	used := url.Values{"csrf": {csrf}, "period": {"2026-03"}, "prefix": {"AB"}, "from": {"10000000"}, "to": {"10000099"}, "reason": {"typo"},
		"confirm": {"yes"}, "once": {randomToken()}}
	resp, page := b.post("/console/invoices/ranges/withdraw", used)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("withdrawal of a used range: %d, want 409", resp.StatusCode)
	}
	if text := visibleText(t, page); !strings.Contains(text, "誤開的發票請作廢") && !strings.Contains(text, "Void the invoices issued in error") {
		t.Fatalf("the refusal does not say to void the invoices:\n%s", text)
	} else if strings.Contains(text, "invoicing: conflict") {
		t.Fatalf("the refusal is shown untranslated:\n%s", text)
	}
	if st := svc.RangeStatus("2026-03"); len(st.Ranges) != 1 || st.Ranges[0].Prefix != "AB" {
		t.Fatalf("after the refusal: %+v", st)
	}
}
